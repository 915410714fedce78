"""What each process of a run loads and sends: a worker hands its evaluator plain columns and never loads
Arrow; reconciling parts never loads pandas. Each check runs in a fresh interpreter that records every attempt
to import the libraries in question (whether they are installed or not)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import runtime_helpers as h

from hypermetric.runtime import Dataset, runtime

HERE = Path(__file__).resolve().parent

# Records attempts to import the named top-level packages; the normal finders still do the importing.
_WATCH = """
import sys
attempts = []
class _Watch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in WATCHED:
            attempts.append(name)
        return None
sys.meta_path.insert(0, _Watch())
"""


def _run(code: str, watched: tuple[str, ...]) -> dict[str, object]:
    script = f"WATCHED = {watched!r}\n{_WATCH}\nsys.path.insert(0, {str(HERE)!r})\n{textwrap.dedent(code)}"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_a_worker_hands_its_evaluator_plain_columns_and_loads_no_arrow():
    report = _run("""
        import json, pickle
        import runtime_helpers as h
        from hypermetric.runtime import Dataset
        from hypermetric.runtime.data.sharding import RowBatch
        from hypermetric.runtime.drive.execute import CallPlan, run_batch
        from hypermetric.runtime.options import RetryPolicy

        rows = h.records(20)
        batch = RowBatch(0, range(20), {key: [row[key] for row in rows] for key in rows[0]})
        plan = CallPlan.bind(h.pipeline, (Dataset.query,), {})
        payload = run_batch(h.pipeline, plan, RetryPolicy(0, 0.0, (Exception,)), batch)
        sent = pickle.loads(pickle.dumps(payload))
        loaded = list(attempts)  # what the worker's side loaded, before anything reads the payload

        from hypermetric.runtime.scoring.evaluate import Evaluator
        table = Evaluator(None).score(sent)[0]
        print(json.dumps({"loaded": loaded, "lists": all(type(v) is list for v in sent.columns.values()),
                          "same": table.equals(Evaluator(None).score(payload)[0]),
                          "columns": table.column_names, "rows": table.num_rows}))
    """, ("pyarrow", "pandas"))
    assert report["loaded"] == [] and report["lists"] and report["same"]
    assert report["rows"] == 20
    assert {"row_id", "output", "answer.output", "answer.ExactMatch", "eval_errors"} <= set(report["columns"])


def test_reconciling_parts_loads_no_pandas(tmp_path):
    out = tmp_path / "out"
    result = runtime(dataset=Dataset.from_records(h.records(30)), parallel=False, output_dir=out, quiet=True,
                     batch_size=7, flush_rows=10)(h.pipeline)(query=Dataset.query)
    expected = pq.read_table(result.path)
    result.path.unlink()
    report = _run(f"""
        import json
        from pathlib import Path
        from hypermetric.runtime.parts.reconcile import reconcile
        final = reconcile(Path({str(out)!r}))
        print(json.dumps({{"loaded": attempts, "rows": final.rows}}))
    """, ("pandas",))
    assert report == {"loaded": [], "rows": 30}
    assert pq.read_table(result.path).equals(expected)


def test_an_evaluator_process_scores_and_writes_without_loading_pandas(tmp_path):
    """pyarrow imports pandas on its first conversion (0.3-0.5 s in a fresh process); an evaluator's own
    conversions never need it. Once something imports pandas, pyarrow handles pandas objects as usual."""
    pytest.importorskip("pandas")
    report = _run(f"""
        import json, math
        from pathlib import Path
        import runtime_helpers as h
        from hypermetric.runtime import Dataset
        from hypermetric.runtime.data.sharding import RowBatch
        from hypermetric.runtime.drive.actors import EvaluatorActor
        from hypermetric.runtime.drive.execute import CallPlan, run_batch
        from hypermetric.runtime.drive.pool import EvaluatorConfig
        from hypermetric.runtime.options import RetryPolicy

        evaluator = EvaluatorActor(EvaluatorConfig(Path({str(tmp_path)!r}), 1, 15, 1 << 30), 0, 0)
        rows = h.records(20)
        plan = CallPlan.bind(h.pipeline, (Dataset.query,), {{}})
        committed = []
        for start in (0, 10):
            batch = RowBatch(start // 10, range(start, start + 10),
                             {{key: [row[key] for row in rows[start:start + 10]] for key in rows[0]}})
            committed += evaluator.ingest(run_batch(h.pipeline, plan, RetryPolicy(0, 0.0, (Exception,)), batch))
        committed += evaluator.close()
        loaded = list(attempts)

        import pandas as pd
        import pyarrow as pa
        series = pa.array(pd.Series([1.0, math.nan])).to_pylist()  # pandas's NaN is a null, as ever
        frame = pa.table(pd.DataFrame({{"a": [1, 2]}})).num_rows
        print(json.dumps({{"loaded": loaded, "committed": sorted(committed), "series": series, "frame": frame,
                          "loader": type(pd.__loader__).__name__}}))
    """, ("pandas",))
    assert report["loaded"] == [] and report["committed"] == [0, 1]
    assert report["series"] == [1.0, None] and report["frame"] == 2
    assert report["loader"] == "SourceFileLoader"
