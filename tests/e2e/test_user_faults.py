"""End-to-end: ordinary faults of the environment and of the input are user errors (exit 2), never bugs (70).

Tests run as root, for whom `chmod` makes nothing read-only, so a read-only or a full output root is a real
tmpfs mounted for the test (remounted read-only, or filled up) and unmounted afterwards whatever happens.
Where mounting is impossible (no root, no CAP_SYS_ADMIN) those tests are skipped and say why.
"""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PIPELINE = """
a = {A: x y}
task t(a=$) -> o:
  echo "$a" > $o
"""


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """`tmpfs(name, size=...)` mounts a fresh tmpfs at `tmp_path/name`; every one is unmounted at the end."""
    mounted: list[Path] = []

    def make(name: str, size: str = "1m") -> Path:
        point = tmp_path / name
        point.mkdir()
        done = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point))
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): {done.stderr.strip()}")
        mounted.append(point)
        return point

    try:
        yield make
    finally:
        for point in reversed(mounted):
            subprocess.run(["umount", "-l", str(point)], capture_output=True)


def _read_only(point: Path) -> None:
    done = _mount("-o", "remount,ro", str(point))
    if done.returncode != 0:
        pytest.skip(f"cannot remount a tmpfs read-only here: {done.stderr.strip()}")


def _fill(point: Path) -> None:
    """Write into `point` until the file system is full."""
    with open(point / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e


def _run_records(root: Path) -> list[str]:
    """The run record folders under `root/.runs` (named after the time they were made)."""
    runs = root / ".runs"
    return sorted(p.name for p in runs.iterdir() if p.name[:1].isdigit()) if runs.is_dir() else []


def _fault(result, *fragments: str):
    """Exit 2 with `error: ...`, each fragment in the message, and no traceback or internal error."""
    result.user_error()
    assert "internal error" not in result.err and "Traceback" not in result.err, result.err
    assert result.err.startswith("error: "), result.err
    for fragment in fragments:
        assert fragment in result.err, result.err
    return result


# ------------------------------------------------------------------------------------ read-only output root

@pytest.fixture
def finished_read_only_root(project, tmpfs) -> Path:
    """A root on a tmpfs where `t` (case A=x) is done, then remounted read-only."""
    point = tmpfs("ro")
    project.write("main.hm", PIPELINE)
    project.sh("run", "t", "--root", "ro/out").ok()
    _read_only(point)
    return point / "out"


def test_a_run_with_nothing_to_do_succeeds_on_a_read_only_root(project, finished_read_only_root):
    result = project.sh("run", "t", "--root", "ro/out").ok()
    assert "1 complete" in result.out
    assert len(_run_records(finished_read_only_root)) == 1  # the first run's only


def test_a_run_with_work_to_do_on_a_read_only_root_is_a_user_error(project, finished_read_only_root):
    _fault(project.sh("run", "t[A: y]", "--root", "ro/out"),
           "read-only file system", str(finished_read_only_root), "--root")


@pytest.mark.parametrize("command", ["remove", "invalidate", "touch"])
def test_changing_a_read_only_root_is_a_user_error(project, finished_read_only_root, command):
    target = "t[A: y]" if command == "touch" else "t"
    result = project.sh(command, target, "--root", "ro/out", "-y")
    assert result.code == 2 and "Traceback" not in result.err, result.err
    assert "error: read-only file system" in result.err and str(finished_read_only_root) in result.err


def test_commands_with_nothing_to_change_succeed_on_a_read_only_root(project, finished_read_only_root):
    project.sh("unlock", "t", "--root", "ro/out", "-y").ok()             # no lock left behind
    project.sh("remove", "t[A: y]", "--root", "ro/out", "-y").ok()       # never ran
    project.sh("invalidate", "t[A: y]", "--root", "ro/out", "-y").ok()   # not done
    assert (finished_read_only_root / "t" / "default" / "exitcode").read_text() == "0"


# ------------------------------------------------------------------------------------------------ full disk

def test_a_full_disk_is_a_user_error_that_names_the_path_and_leaves_no_half_record(project, tmpfs):
    point = tmpfs("full", size="64k")
    (point / "out").mkdir()
    _fill(point)
    project.write("main.hm", PIPELINE)
    _fault(project.sh("run", "t", "--root", "full/out"),
           "no space left on device", str(point / "out" / ".runs"), "free some space")
    assert _run_records(point / "out") == []
    assert not (point / "out" / "t").exists()


def test_a_job_that_meets_a_full_disk_fails_naming_the_path_not_as_a_bug(project, tmpfs):
    project.path("out").mkdir()
    point = tmpfs("out/t", size="64k")  # the task's folder is full; the run record's folder is not
    _fill(point)
    project.write("main.hm", PIPELINE)
    result = project.sh("run", "t")
    assert result.code == 1, result.err
    assert "internal error" not in result.out + result.err and "Traceback" not in result.err
    assert f"no space left on device: `{point / 'default'}" in result.out, result.out


# ------------------------------------------------------------------------------------ roots that are not dirs

def test_root_that_is_a_device_is_a_user_error(project):
    project.write("main.hm", PIPELINE)
    _fault(project.sh("run", "t", "--root", "/dev/null"), "`/dev/null` is not a directory", "--root")


def test_root_below_a_regular_file_is_a_user_error(project):
    project.write("main.hm", PIPELINE)
    project.write("plain", "not a directory\n")
    _fault(project.sh("run", "t", "--root", "plain/out"), f"`{project.path('plain')}` is not a directory")


def test_a_run_with_nothing_to_do_writes_no_run_record(project):
    project.write("main.hm", PIPELINE)
    project.sh("run", "t").ok()
    project.sh("run", "t").ok()
    assert len(_run_records(project.path("out"))) == 1


# ------------------------------------------------------------------------------------- the pipeline argument

def test_a_directory_given_as_the_pipeline_file_says_so(project):
    project.path("flows.hm").mkdir()
    result = _fault(project.sh("list", "flows.hm"), "`flows.hm` is a directory, not a pipeline file")
    assert "does not exist" not in result.err
    _fault(project.sh("list", "-F", "flows.hm"), "is a directory")


def test_a_device_given_as_the_pipeline_file_says_so(project):
    _fault(project.sh("list", "-F", "/dev/null"), "`/dev/null` is not a regular file")


# ------------------------------------------------------------------------------------- text of the pipeline

def test_escaped_surrogate_pair_reaches_the_script_as_one_character(project):
    project.write("main.hm", 'x = "a\\ud83d\\ude00"\ntask t(x=$) -> o:\n  printf %s "$x" > $o\n')
    project.sh("run", "t").ok()
    assert project.path("out/t/default/o").read_text(encoding="utf-8") == "a\U0001F600"


@pytest.mark.parametrize("value,message", [
    ('"e\\ud800f"', "`\\ud800` is the first half of a surrogate pair"),
    ('"\\ude00"', "`\\ude00` is the second half of a surrogate pair"),
    ('"\\u0000"', "`\\u0000` (NUL) cannot appear in a value"),
])
def test_escapes_no_script_could_receive_are_located_errors(project, value, message):
    project.write("main.hm", f"x = {value}\ntask t(x=$) -> o:\n  echo \"$x\" > $o\n")
    result = project.sh("run", "t")
    result.user_error()
    assert result.err.startswith("main.hm:1:"), result.err
    assert message in result.err and not project.path("out").exists()


def test_a_file_with_a_byte_order_mark_runs(project):
    project.path("main.hm").write_bytes(b"\xef\xbb\xbf" + PIPELINE.lstrip().replace("\n", "\r\n").encode())
    project.sh("run", "t").ok()
    assert project.read("out/t/default/o") == "x\n"


def test_a_file_that_is_not_utf8_is_a_located_error(project):
    project.path("main.hm").write_bytes(b'a = {A: x y}\nb = "caf\xe9"\ntask t(a=$) -> o:\n  echo $a > $o\n')
    result = project.sh("run", "t")
    result.user_error()
    assert result.err.startswith("main.hm:2:9: error: the file is not UTF-8 text: byte 0xE9"), result.err
    assert not project.path("out").exists()


@pytest.mark.parametrize("printed,message", [
    ("caf\\351 b", "printed bytes that are not UTF-8 (byte 0xE9)"),
    ("a\\0b c", "printed a NUL character"),
])
def test_inline_command_output_no_script_could_receive_is_a_located_error(project, printed, message):
    project.write("main.hm", f'a = {{A: `printf "{printed}"`}}\ntask t(a=$) -> o:\n  echo $a > $o\n')
    result = project.sh("run", "t")
    result.user_error()
    assert result.err.startswith("main.hm:1:6: error: the inline command of axis `A` " + message), result.err


@pytest.mark.parametrize("args,where", [
    (("run", "t", "-D", b"a=caf\xe9"), "-D:1:6: "),
    (("run", b"t[A: caf\xe9]"), "<target>:1:9: "),
])
def test_command_line_text_that_is_not_utf8_is_a_located_error(project, args, where):
    project.write("main.hm", PIPELINE)
    result = project.sh(*args)
    result.user_error()
    assert result.err.startswith(where + "error: U+DCE9 is not a character"), result.err
    assert not project.path("out").exists()


def test_a_key_listed_twice_on_an_axis_is_an_error(project):
    project.write("main.hm", "a = {A: 1 1 2}\ntask t(a=$) -> o:\n  echo $a > $o\n")
    result = project.sh("list")
    result.user_error()
    assert result.err.startswith("main.hm:1:11: error: key `1` is listed twice on axis `A`"), result.err
    assert "main.hm:1:9: note: first listed here" in result.err


def test_an_unclosed_brace_at_the_end_of_the_file_names_the_brace(project):
    project.path("main.hm").write_text("x = {A: 1 2")
    result = project.sh("list")
    result.user_error()
    assert result.err.startswith("main.hm:1:5: error: this `{` was never closed"), result.err
    assert "`[`" not in result.err
