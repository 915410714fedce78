"""The documented example, `examples/runtime_eval`, runs and produces the table its README describes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "runtime_eval" / "eval.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("runtime_eval_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_example_runs_in_process_and_resumes(example, tmp_path, capsys):
    result = example.evaluate(tmp_path / "qa", local=True)
    assert result.table.column_names == [
        "row_id", "input.question", "output", "generate.output", "generate.ExactMatch", "generate.TokenF1.f1",
        "generate.TokenF1.precision", "generate.TokenF1.recall", "retrieve.output", "retrieve.RecallAtK",
        "error", "eval_errors", "attempts"]
    assert result.rows == 8 and result.failed == 0
    assert result.metrics["retrieve.RecallAtK"].mean == 1.0
    assert result.metrics["generate.ExactMatch"].mean == 0.25
    assert "generate.TokenF1.f1" in capsys.readouterr().out
    again = example.evaluate(tmp_path / "qa", local=True)
    assert (again.ran, again.skipped) == (0, 8) and again.table.equals(result.table)
