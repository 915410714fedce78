"""Process-wide settings: planning and running the runtime leave the collector's frozen objects, the huge-page
setting and Arrow's default memory pool as they found them (see `hypermetric/process_wide.py`).

Each check runs in a fresh Python, so that nothing another test did to this process (a plan, a freeze)
decides the outcome.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PIPELINE = "a = {A: x y z}\ntask t(a=$) -> o:\n  echo $a > $o\n"


def _python(tmp_path: Path, code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_planning_leaves_the_collector_as_it_found_it(tmp_path):
    (tmp_path / "main.hm").write_text(PIPELINE)
    out = _python(tmp_path, """
        import gc
        from hypermetric import api

        pipeline = api.load("main.hm")
        assert gc.get_freeze_count() == 0 and gc.isenabled()
        assert len(api.plan(pipeline, ["t[A: *]"]).jobs) == 3
        assert gc.get_freeze_count() == 0, "planning left objects frozen"
        assert gc.isenabled(), "planning left the collector off"

        gc.disable()  # the caller's choice stays theirs
        api.plan(pipeline, ["t[A: *]"])
        assert not gc.isenabled() and gc.get_freeze_count() == 0
        print("ok")
    """)
    assert out.strip() == "ok"


def test_a_command_scope_freezes_the_plan_and_thaws_it_when_it_ends(tmp_path):
    (tmp_path / "main.hm").write_text(PIPELINE)
    out = _python(tmp_path, """
        import gc
        from hypermetric import api
        from hypermetric.process_wide import command_scope

        pipeline = api.load("main.hm")
        with command_scope():
            with command_scope():  # nested: only the outermost scope thaws
                api.plan(pipeline, ["t[A: *]"])
            inside = gc.get_freeze_count()
        print(inside > 0, gc.get_freeze_count())

        gc.freeze()  # frozen by the caller before the scope: not thawed by it
        before = gc.get_freeze_count()
        with command_scope():
            api.plan(pipeline, ["t[A: *]"])
        print(gc.get_freeze_count() >= before > 0)
        gc.unfreeze()

        with command_scope(thaw=False):  # a process that exits when the command ends keeps the freeze
            api.plan(pipeline, ["t[A: *]"])
        print(gc.get_freeze_count() > 0)
    """)
    assert out.split() == ["True", "0", "True", "True"]


def test_the_command_line_called_from_python_thaws_what_its_command_froze(tmp_path):
    (tmp_path / "main.hm").write_text(PIPELINE)
    out = _python(tmp_path, """
        import gc
        from hypermetric.cli.app import main

        assert main(["dry-run", "t[A: *]"]) == 0
        print(gc.get_freeze_count(), gc.isenabled())
    """)
    assert out.splitlines()[-1] == "0 True"


RUNTIME_RUN = """
    import ctypes, gc, sys
    import pyarrow as pa
    from hypermetric.runtime import Dataset, Metric, component, runtime

    linux = sys.platform.startswith("linux")
    libc = ctypes.CDLL(None, use_errno=True) if linux else None
    PR_SET_THP_DISABLE, PR_GET_THP_DISABLE = 41, 42

    def huge_pages_off():
        return libc.prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) if linux else None

    class Square(Metric):
        def score(self, output):
            return output * output

    @component(evals=[Square().use(output=component.output())])
    def identity(x):
        return x

    @runtime(parallel=False, quiet=True, workers=2, batch_size=3, flush_rows=4, output_dir="evals")
    def main(x):
        return identity(x)

    # A pool other than the system allocator, so that a run that left the system one behind would show.
    pool = next(p for p in (pa.mimalloc_memory_pool, pa.jemalloc_memory_pool) if _usable(p))()
    pa.set_memory_pool(pool)
    if linux:
        libc.prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0)
    before = (gc.get_freeze_count(), gc.isenabled(), huge_pages_off(), pa.default_memory_pool().backend_name)
    result = main(x=Dataset.from_records([{"x": i} for i in range(20)]).x)
    after = (gc.get_freeze_count(), gc.isenabled(), huge_pages_off(), pa.default_memory_pool().backend_name)
    assert result.rows == 20 and len(list((result.output_dir / "parts").iterdir())) > 1
    assert before == after, (before, after)
    print(before[3], after[3])
"""


def test_a_runtime_run_leaves_frozen_objects_huge_pages_and_the_arrow_pool_as_they_were(tmp_path):
    pa = pytest.importorskip("pyarrow")
    usable = [name for name in ("mimalloc", "jemalloc") if _usable(getattr(pa, f"{name}_memory_pool"))]
    if not usable:
        pytest.skip("this pyarrow has no allocator besides the system one")
    helper = "def _usable(make):\n    try:\n        make()\n        return True\n    except Exception:\n" \
             "        return False\n"
    out = _python(tmp_path, helper + textwrap.dedent(RUNTIME_RUN))
    assert out.split() == [usable[0], usable[0]]


def _usable(make) -> bool:
    try:
        make()
        return True
    except Exception:  # noqa: BLE001 - an allocator pyarrow was built without raises NotImplementedError
        return False
