"""What running plain local jobs imports: none of the machinery only some jobs need (a job's `@@runner`, custom
file systems: `subprocess` wrappers with `logging` and `tempfile`), nor `concurrent.futures` (which imports
`logging` and `traceback`), `socket` or `uuid` (which imports `platform`). A one-job run pays for each of them
in start-up time. A job with a reduction input writes the folder's manifest without what only reading
results needs (`results.readers` with `csv`, `pathlib` with `urllib`): some 10 ms with the interpreter's lock
held, while the other workers wait."""

from __future__ import annotations

import json
import os
import subprocess
import sys

_NOT_NEEDED = ("logging", "concurrent.futures", "socket", "uuid", "platform", "tempfile", "traceback",
               "hypermetric.store.fscall", "hypermetric.execution.runners", "hypermetric.execution.fs_execute",
               "hypermetric.execution.filesystems", "hypermetric.results.readers", "csv", "pathlib", "urllib")

_CODE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from jobs import consume, make_graph, make_job, reduce_over
from hypermetric.execution.engine import RunOptions, run_graph
root = sys.argv[2]
first = make_job(root, "a", 'echo hi > "$o"')
fan = [make_job(root, "m", 'echo "$n" > "$o"', case=[("N", n)], variables={"n": n}) for n in "12"]
jobs = [first, consume(root, "b", 'cat "$i" > "$o"', first), *fan,
        reduce_over(root, "r", 'cat "$d"/* > "$o"', fan, "N")]
before = set(sys.modules)
report = run_graph(make_graph(root, *jobs), RunOptions(jobs=2, silent=True))
print(json.dumps({"code": report.exit_code, "new": sorted(set(sys.modules) - before)}))
"""


def test_running_plain_local_jobs_imports_only_what_they_use(tmp_path) -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    done = subprocess.run([sys.executable, "-c", _CODE, here, str(tmp_path)], capture_output=True, text=True,
                          check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["code"] == 0
    assert "hypermetric.execution.local" in seen["new"]  # the run did import the runner
    assert "hypermetric.results.manifest" in seen["new"]  # and wrote the reduction's manifest
    assert (tmp_path / "r" / "default" / ".d.manifest.arrow").is_file()
    assert sorted(set(_NOT_NEEDED) & set(seen["new"])) == []
