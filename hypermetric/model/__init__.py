"""Axes and cases: an axis with its keys and default, and the one rule that names a case's job directory."""
