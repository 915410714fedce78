"""Faults in user code: `sys.exit()` is a row error, a row that kills its worker fails alone, and failing
rows are reported as they fail and counted at the end."""

from __future__ import annotations

import io
import sys

import pytest
import runtime_helpers as h

from hypermetric.runtime import Dataset, Metric, component, runtime


def _run(fn, tmp_path, n, **options):
    settings = {"parallel": False, "output_dir": tmp_path / "out", "delay_seconds": 0, "quiet": True,
                "batch_size": 4, **options}
    return runtime(dataset=Dataset.from_records([{"x": i} for i in range(n)]), **settings)(fn)(x=Dataset.x)


def test_sys_exit_in_the_function_fails_only_its_row_in_process(tmp_path):
    def main(x: int) -> int:
        if x == 2:
            sys.exit(3)
        if x == 4:
            sys.exit()
        return x * 10

    result = _run(main, tmp_path, 6)
    table = result.table
    assert table.column("error").to_pylist() == [None, None, "SystemExit: 3", None, "SystemExit", None]
    assert table.column("output").to_pylist() == [0, 10, None, 30, None, 50]
    assert table.column("attempts").to_pylist() == [1] * 6  # SystemExit is not an exception to retry
    assert result.failed == 2


def test_sys_exit_in_a_component_or_a_metric_is_an_error_of_that_row(tmp_path):
    class Quits(Metric):
        def setup(self) -> None:
            return None

        def score(self, value: int) -> float:
            if value == 30:
                sys.exit("metric gave up")
            return float(value)

    @component(evals=[Quits().use(value=component.output())])
    def tenfold(x: int) -> int:
        if x == 5:
            raise SystemExit(7)
        return x * 10

    result = _run(tenfold, tmp_path, 6)
    table = result.table
    assert table.column("error").to_pylist() == [None] * 5 + ["SystemExit: 7"]
    assert table.column("tenfold.Quits").to_pylist() == [0.0, 10.0, 20.0, None, 40.0, None]
    assert '"tenfold.Quits": "SystemExit: metric gave up"' in table.column("eval_errors").to_pylist()[3]


def test_the_first_failure_of_each_type_is_printed_before_its_retries(tmp_path, monkeypatch, capsys):
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    seen_at_retry: list[str] = []

    def main(x: int) -> int:
        if x in (1, 3):
            if x == 3 or len(seen_at_retry) < 2:
                seen_at_retry.append(stderr.getvalue())
            raise ValueError(f"bad {x}")
        if x == 4:
            raise KeyError("missing")
        return x

    result = _run(main, tmp_path, 6, quiet=False, max_retries=2, exception_to_retry=ValueError)
    notices = stderr.getvalue().splitlines()
    assert len(notices) == 2, notices  # one per exception type, not one per row or attempt
    assert notices[0].startswith("hypermetric: row 1 failed with ValueError: bad 1; retrying up to 2 times")
    assert notices[1].startswith("hypermetric: row 4 failed with KeyError: missing; not retried")
    assert seen_at_retry[0] == "" and notices[0] in seen_at_retry[1]  # printed before the first retry
    assert result.failed == 3
    summary = capsys.readouterr().out
    assert "3 rows failed (ValueError 2, KeyError 1)" in summary


def test_quiet_runs_print_no_notices(tmp_path, monkeypatch):
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)

    def main(x: int) -> int:
        raise ValueError("always")

    assert _run(main, tmp_path, 3, max_retries=0).failed == 3
    assert stderr.getvalue() == ""


@pytest.mark.ray
def test_on_ray_only_the_row_that_kills_its_worker_fails_and_sys_exit_is_a_row_error(ray_session, tmp_path):
    dataset = Dataset.from_records([{"x": i} for i in range(8)])
    run = runtime(dataset=dataset, workers=2, batch_size=4, quiet=True, delay_seconds=0,
                  output_dir=tmp_path / "out")(h.exits_or_crashes)
    result = run(x=Dataset.x, exit_at=2, crash_at=5)
    table = result.table
    errors = table.column("error").to_pylist()
    assert table.column("row_id").to_pylist() == list(range(8))
    assert [(i, e.split(":")[0]) for i, e in enumerate(errors) if e is not None] == [
        (2, "SystemExit"), (5, "WorkerDied")]
    assert table.column("output").to_pylist() == [None if i in (2, 5) else i + 100 for i in range(8)]
    # 4 rows -> 2 -> 1, then the row alone up to the crash limit (a death seen in an unexpected order may
    # cost one more split, never a row)
    assert 2 + 3 <= result.lost_workers <= 2 + 3 + 2
