"""Option values are checked, parser errors look like every other error, piped output is for programs,
and the shell completion knows the commands, the options and the pipeline's names."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PIPELINE = """
a = {A: x y}
bee = {Bee: p q}
task t(a=$, bee=$) -> o:
  echo "{\\"score\\": 1, \\"a\\": \\"$a\\"}" > $o
task boom(a=$) -> o:
  echo broken >&2
  exit 3
plan P = { t[A: *] }
"""


@pytest.fixture
def pipeline(project):
    project.write("main.hm", PIPELINE)
    return project


@pytest.mark.parametrize("args, message, accepted", [
    (["results", "t", "--format", "xml"], "invalid value `xml` for `--format`", "table, csv, json, parquet"),
    (["dry-run", "t", "--color", "purple"], "invalid value `purple` for `--color`", "auto, always, never"),
    (["describe", "t", "-o", "yaml"], "invalid value `yaml` for `--output`", "json"),
    (["graph", "--format", "svg"], "invalid value `svg` for `--format`", "dot, mermaid"),
])
def test_a_bad_option_value_names_the_accepted_values(pipeline, args, message, accepted):
    err = pipeline.sh(*args).user_error().err
    assert err.startswith(f"error: {message}\n")
    assert f"= help: accepted values: {accepted}" in err


def test_a_repeated_pivot_is_an_error(pipeline):
    err = pipeline.sh("results", "t[A: *]", "--pivot", "A", "--pivot", "Bee").user_error().err
    assert "error: `--pivot` is given 2 times (A, Bee)" in err and "give `--pivot` once" in err


@pytest.mark.parametrize("args, first, hint", [
    (["dry-run", "t", "--colr", "never"], "error: `hypermetric dry-run` has no option `--colr`",
     "did you mean `--color`?"),
    (["dryrun", "t"], "error: no command `dryrun`", "did you mean `dry-run`?"),
    (["run", "t", "-j", "many"], "error: invalid value for `--jobs`", "see `hypermetric run --help`"),
])
def test_parser_errors_in_the_common_style(pipeline, args, first, hint):
    err = pipeline.sh(*args).user_error().err
    assert err.splitlines()[0].startswith(first) and f"= help: {hint}" in err
    assert "Usage:" not in err and "Error:" not in err


def test_no_error_cites_internal_design_numbers(pipeline):
    for args in (["describe", "t", "-o", "yaml"], ["results", "t", "--format", "parquet"], ["run", "t", "--backend", "x"]):
        err = pipeline.sh(*args).user_error().err
        assert "(D" not in err and "§" not in err, err


def test_version_and_debug_in_help(pipeline):
    assert pipeline.sh("--version").ok().out == "hypermetric 0.1.0\n"
    assert "--debug" in pipeline.sh("run", "--help").ok().out


def test_piped_results_are_csv_and_nothing_is_coloured(pipeline):
    pipeline.sh("run", "t[A: *]").ok()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    results = subprocess.run([sys.executable, "-m", "hypermetric", "results", "t[A: *]"], cwd=pipeline.root,
                             capture_output=True, text=True, env=env, check=True).stdout
    assert results.splitlines() == ['"A","Bee","status","score","a"', '"x","p","COMPLETE",1,"x"', '"y","p","COMPLETE",1,"y"']
    pivoted = pipeline.sh("results", "t[A: *]", "--pivot", "A", "--columns", "score").ok().out
    assert pivoted.splitlines() == ['"metric","Bee","x","y"', '"score","p",1,1']
    for args in (["dry-run", "P"], ["get-path", "t[A: *]"], ["list"]):
        out = subprocess.run([sys.executable, "-m", "hypermetric", *args], cwd=pipeline.root,
                             capture_output=True, text=True, env=env, check=True).stdout
        assert "\x1b[" not in out and "│" not in out.split("Tasks:")[0], out
    assert pipeline.sh("get-path", "t[A: *]").ok().out.splitlines() == [
        str(pipeline.root / "out/t/default"), str(pipeline.root / "out/t/A=y")]


def test_failure_panel_quotes_paths_for_a_shell(pipeline):
    pipeline.write("space.hm", "local.root = \"out dir&more\"\ntask boom -> o:\n  exit 3\n")
    out = pipeline.sh("run", "space.hm", "boom").out
    assert f"\n  stderr: '{pipeline.root}/out dir&more/boom/default/stderr'\n" in out  # whole, on one line


def test_unlock_with_nothing_locked_asks_nothing(pipeline):
    result = pipeline.sh("unlock", "t").ok()
    assert result.out == "The job has no lock file: nothing to unlock.\n"
    assert pipeline.sh("unlock", "t[A: *]").ok().out == "None of the 2 jobs has a lock file: nothing to unlock.\n"


def test_singular_titles_and_what_touch_creates(pipeline):
    out = pipeline.sh("touch", "t", "-y").ok().out
    assert "The following 1 job will be marked as done:" in out
    assert "created empty" in out
    assert "The following 1 job is implied" in pipeline.sh("dry-run", "t").ok().out


def _complete(project, *words: str) -> list[str]:
    env = {**os.environ, "_HYPERMETRIC_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(["hypermetric", *words]),
           "COMP_CWORD": str(len(words))}
    proc = subprocess.run([sys.executable, "-m", "hypermetric"], cwd=project.root, env=env, capture_output=True,
                          text=True, check=True)
    return proc.stdout.splitlines()


def test_completion_script_and_completions(pipeline):
    # Typer otherwise ignores the shell named here and looks for a shell among the process's ancestors, which
    # a suite started from a process that is no shell's child (reparented to init) does not have.
    no_detection = {"SHELL": "/bin/bash", "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    script = pipeline.sh("--show-completion", "bash", env=no_detection).ok().out
    assert "_HYPERMETRIC_COMPLETE" in script and "complete " in script
    assert _complete(pipeline, "dr") == ["dry-run"]
    assert "--color" in _complete(pipeline, "run", "--co")
    assert _complete(pipeline, "run", "--color", "") == ["auto", "always", "never"]
    assert _complete(pipeline, "dry-run", "") == ["boom", "t", "P"]
    assert _complete(pipeline, "dry-run", "t[") == ["t[A:", "t[Bee:"]
    assert _complete(pipeline, "dry-run", "t[Bee:") == ["t[Bee: p", "t[Bee: q", "t[Bee: *"]


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"]])
def test_help_lists_its_own_names_in_one_order_whatever_the_string_hashes(tmp_path, args):
    """Typer's copy of click kept the help option's names in a set: which of `-h` and `-H` came first changed
    with the process's string hashes."""
    seen = set()
    for seed in ("1", "2", "3", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-m", "hypermetric", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        seen.update(" ".join(line.split()[:3]) for line in proc.stdout.splitlines()
                    if line.lstrip().startswith("-") and "--help" in line)
    assert seen == {"-h, -H, --help"}
