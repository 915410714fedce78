"""Makes the `jobs` test helper of tests/execution, and the `finished` helper here, importable whatever pytest's
import mode."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "execution"))
sys.path.insert(0, os.path.dirname(__file__))
