"""A separate process for the concurrency tests: `python driver.py job|run PICKLE`.

`job` runs `execute_job` on the pickled job and prints the outcome's status; `run` runs `run_graph` on the
pickled graph (options from `HM_TEST_GRACE`) and exits with the report's exit code.
"""

from __future__ import annotations

import os
import pickle
import sys

from hypermetric.execution.engine import RunOptions, run_graph
from hypermetric.execution.protocol import execute_job


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        obj = pickle.load(f)
    if mode == "job":
        print(execute_job(obj).status.label, flush=True)
        return
    report = run_graph(obj, RunOptions(grace=float(os.environ.get("HM_TEST_GRACE", "2"))))
    sys.exit(report.exit_code)


if __name__ == "__main__":
    main()
