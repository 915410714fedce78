"""Start-up, counted: the classes a command on an unchanged pipeline creates compile no source text.

A frozen dataclass writes its methods as text and compiles each one as its module is imported; a cached
`list` once compiled 183 such texts (the model, spans, diagnostics, targets, the command line's own classes)
before it did any work. Those classes are `hypermetric.record.Record`s now, whose methods are compiled once
into byte code like any other function, and they behave as the dataclasses did (checked below). None of
these tests measures time: they count what Python compiles, through its audit hook."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from hypermetric.model.axis import Axis
from hypermetric.model.case import Case
from hypermetric.record import fields_of, replace, setfield
from hypermetric.semantics.model import Branch, Const, Output, Pure, TaskOutput, TaskTensor
from hypermetric.source import SourceFile, Span
from hypermetric.syntax.refs import AxisIndex, TaskRef

# Each generated method is one `compile` audit event, named here by the module whose import made it (a
# module compiled from its file, where no byte code was written, is not counted).
COUNTER = """
import contextlib, io, json, sys
found = []
def hook(event, args):
    if event == "compile" and isinstance(args[0], (bytes, str)) and not str(args[1]).endswith(".py"):
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_name != "<module>":
            frame = frame.f_back
        found.append(frame.f_globals.get("__name__") if frame is not None else None)
sys.addaudithook(hook)
from hypermetric.cli.app import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(ARGS) == 0
print(json.dumps(found))
"""

# The modules that load an unchanged pipeline and parse the command line; the two dataclasses left among
# them are public: a batch's pipeline extends `Pipeline`, and callers may `dataclasses.replace` run options.
START_UP = ("hypermetric.source", "hypermetric.diagnostic", "hypermetric.errors", "hypermetric.record",
            "hypermetric.model.", "hypermetric.syntax.", "hypermetric.semantics.", "hypermetric.cli.",
            "hypermetric.api.", "__main__")
STILL_DATACLASSES = {"hypermetric.semantics.model.pipeline", "hypermetric.api.running"}


def compiled_in(cwd: Path, cache: Path, args: list[str]) -> list[str]:
    """The module of each source text compiled while a fresh Python ran `main(args)` (exit 0 required)."""
    env = {k: v for k, v in os.environ.items() if k not in ("HYPERMETRIC_PATH", "HYPERMAKE_PATH")}
    proc = subprocess.run([sys.executable, "-c", COUNTER.replace("ARGS", repr(args))], cwd=cwd,
                          env={**env, "XDG_CACHE_HOME": str(cache)}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "main.hm").write_text("a = {A: x y}\n\ntask t(a=$) -> o:\n  echo $a > $o\n\n"
                                      "task r(x=$t[A: *].o) -> o:\n  cat $x/* > $o\n")
    return tmp_path


@pytest.mark.parametrize("args", [["list", "main.hm"], ["run", "main.hm", "r", "-j2", "-y"],
                                  ["dry-run", "main.hm", "t[A: *]"]])
def test_a_command_on_an_unchanged_pipeline_compiles_no_class_of_its_start_up(project, tmp_path_factory, args):
    cache = tmp_path_factory.mktemp("cache")
    compiled_in(project, cache, args)  # parses, and caches the pipeline and the targets
    again = compiled_in(project, cache, args)
    made = {m for m in again if m and m.startswith(START_UP)}
    assert made <= STILL_DATACLASSES, sorted(made - STILL_DATACLASSES)


# The classes of a run that are still dataclasses: the engine's options and report and the job graph, which
# callers get from the API and may copy with `dataclasses.replace`, and a few the run makes once.
STILL_DATACLASSES_OF_A_RUN = {"hypermetric.execution.engine", "hypermetric.execution.report",
                              "hypermetric.execution.scheduler", "hypermetric.plan.graph",
                              "hypermetric.store.history", "hypermetric.store.staleness"}


def test_a_run_compiles_no_class_of_its_jobs_events_or_outcomes(project, tmp_path_factory):
    """The job, its parts, its events, options and outcome are records: a run that runs jobs compiles none."""
    cache = tmp_path_factory.mktemp("cache")
    made = compiled_in(project, cache, ["run", "main.hm", "r", "-j2", "-y"])
    assert (project / "out" / "r" / "default" / "o").read_text() == "y\nx\n"   # the jobs ran
    ours = {m for m in made if m and m.startswith(("hypermetric.execution.", "hypermetric.plan.",
                                                   "hypermetric.store."))}
    assert ours <= STILL_DATACLASSES_OF_A_RUN, sorted(ours - STILL_DATACLASSES_OF_A_RUN)


def test_a_cached_list_compiles_almost_nothing(project, tmp_path_factory):
    """What is left: the `Pipeline` dataclass, and the named tuples of the standard library's `inspect`."""
    cache = tmp_path_factory.mktemp("cache")
    compiled_in(project, cache, ["list", "main.hm"])
    again = compiled_in(project, cache, ["list", "main.hm"])
    ours = [m for m in again if m and m.startswith(("hypermetric", "__main__"))]
    assert len(ours) <= 4, ours  # was 171 (and 183 in all)


def test_a_cached_list_loads_neither_openssl_nor_the_pickle_and_json_modules(project, tmp_path_factory):
    """`hashlib` loads the OpenSSL library for its hashes; the caches' keys are blake2b, which comes without
    it, and the MD5 of a long case directory name is computed only for such a name. Reading a cached value
    needs only the unpickler (`_pickle`), and only `describe` writes JSON."""
    code = ("import contextlib, io, sys\nfrom hypermetric.cli.app import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    assert main(['list', 'main.hm']) == 0\n"
            "print(*(m in sys.modules for m in ('hashlib', '_hashlib', 'pickle', 'json')))\n")
    cache = tmp_path_factory.mktemp("cache")
    env = {k: v for k, v in os.environ.items() if k not in ("HYPERMETRIC_PATH", "HYPERMAKE_PATH")}
    runs = [subprocess.run([sys.executable, "-c", code], cwd=project, env={**env, "XDG_CACHE_HOME": str(cache)},
                           capture_output=True, text=True, timeout=120) for _ in range(2)]
    assert runs[1].returncode == 0, runs[1].stderr
    assert runs[1].stdout.split() == ["False"] * 4


def test_the_small_parser_reads_the_commands_without_inspect(project):
    """`inspect` (with `ast`, `dis` and `tokenize` behind it) costs a command line more than parsing it does:
    the commands' parameters are read from their code, and typer alone gets an `inspect.Signature`."""
    code = ("import sys\nfrom hypermetric.cli.fast_argv import call\n"
            "for args, module in ((['list', 'main.hm'], 'inspect'), (['run', 'main.hm', 'r', '-j2', '-y'], 'run'),\n"
            "                     (['dry-run', 'main.hm', 't[A: *]'], 'inspect')):\n"
            "    assert call(args, module) is not None, args\n"
            "print(*(m in sys.modules for m in ('inspect', 'dataclasses', 'typer')))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False"] * 3


# What the records keep of the dataclasses they were.

def test_a_record_compares_hashes_and_shows_its_fields_as_a_dataclass_did():
    out = TaskOutput("t", "o", (("A", "x"),))
    assert out == TaskOutput("t", "o", (("A", "x"),)) and out != TaskOutput("t", "o", ())
    assert hash(out) == hash(TaskOutput("t", "o", (("A", "x"),)))
    assert out != ("t", "o", (("A", "x"),), None) and Pure("x") != TaskOutput("x", "o", ())
    assert repr(out) == "TaskOutput(task='t', output='o', pairs=(('A', 'x'),), service=None)"
    assert repr(Case()) == "Case(pairs=())" and not Case() and Case((("A", "x"),))
    assert repr(Axis("A", ("x", "y"))) == "Axis(name='A', keys=('x', 'y'))"


def test_fields_left_out_of_comparison_stay_out():
    text = SourceFile("a.hm", "t\n")
    assert Span(text, 0, 1) == Span(SourceFile("b.hm", "u\n"), 0, 1) != Span(text, 0, 2)
    assert TaskRef("t", (AxisIndex("A", None, Span(text, 0, 1)),)) == TaskRef("t", (AxisIndex("A", None),))
    assert repr(TaskRef("t", (), Span(text, 0, 1))) == "TaskRef(path='t', indices=())"
    assert repr(Span(text, 0, 1)) == "Span(file=SourceFile(path='a.hm', text='t\\n'), start=0, end=1)"


def test_records_compared_by_identity_stay_so():
    assert Const(Pure("x")) != Const(Pure("x"))
    node = Const(Pure("x"))
    assert node == node and hash(node) == object.__hash__(node)
    tensor = TaskTensor("t", "echo", (), ())
    assert repr(tensor) == "TaskTensor(t)" and {tensor: 1}[tensor] == 1


def test_a_record_cannot_be_changed():
    out = Output("t", "o", ("A",), ("x",))
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'task'"):
        out.task = "u"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'task'"):
        del out.task  # type: ignore[misc]
    with pytest.raises(AttributeError):
        out.other = 1  # type: ignore[attr-defined]


def _shown(value: object) -> str:
    """A field's value as text to compare a clone's with the original's: its `repr`, but a set's elements in
    sorted order. Two equal sets can list their elements in different orders (when the elements' hashes
    collide, the order they were added in decides), and a set that was pickled is rebuilt in another order."""
    if isinstance(value, (set, frozenset)):
        return f"{type(value).__name__}({sorted(_shown(element) for element in value)})"
    return repr(value)


def test_pickling_and_copying_keep_every_field_without_calling_init():
    axis = Axis("A", ("x", "y"))
    branch = Branch("A", "x", {"x": Const(Pure("1")), "y": Output("t", "o", ("B",), ("p",))})
    for record in (axis, branch, TaskOutput("t", "o", ()), Span(SourceFile("a", "b"), 0, 1)):
        for clone in (pickle.loads(pickle.dumps(record, pickle.HIGHEST_PROTOCOL)), copy.deepcopy(record),
                      copy.copy(record)):
            assert type(clone) is type(record)
            assert [_shown(getattr(clone, f)) for f in fields_of(clone)] == \
                   [_shown(getattr(record, f)) for f in fields_of(record)]
    assert pickle.loads(pickle.dumps(axis)).position("y") == 1
    assert pickle.loads(pickle.dumps(branch)).shape == frozenset({"A", "B"})


def test_replace_makes_a_changed_copy_through_init():
    out = Output("t", "o", ("A", "B"), ("x", "p"), fixed={"A": "y"})
    changed = replace(out, fixed={})
    assert changed.shape == frozenset({"A", "B"}) and out.shape == frozenset({"B"}) and changed.task == "t"
    with pytest.raises(ValueError, match="computed"):
        replace(out, shape=frozenset())
    with pytest.raises(ValueError, match="lists a key twice"):
        replace(Axis("A", ("x",)), keys=("x", "x"))


class Labelled(Axis):
    """A record extending another (pickled by name: it lives at the module's top)."""

    __slots__ = ("label",)

    def __init__(self, name: str, keys: tuple[str, ...], label: str = "") -> None:
        super().__init__(name, keys)
        setfield(self, "label", label)


def test_a_record_extending_another_adds_its_own_fields():
    one = Labelled("A", ("x",), "first")
    assert fields_of(one) == ("name", "keys", "_positions", "label")
    assert repr(one) == "Labelled(name='A', keys=('x',), label='first')"
    assert one == Labelled("A", ("x",), "first") != Labelled("A", ("x",), "second")
    assert replace(one, label="second").position("x") == 0
    assert pickle.loads(pickle.dumps(one)).label == "first"


def test_a_job_behaves_as_the_dataclass_it_was():
    """Compared field by field and unhashable (equal jobs are not keys), changed by `replace` (which the
    planner uses), pickled whole (Ray ships jobs), and given one shared default of its resources."""
    from hypermetric.execution.events import JobStarted
    from hypermetric.plan.job import Job, Resources

    job = Job("t?A=x", "t", (("A", "x"),), (("A", "x"),), "t/A=x", "/out/t/A=x", "echo", (), (("o", "o"),))
    assert job == Job("t?A=x", "t", (("A", "x"),), (("A", "x"),), "t/A=x", "/out/t/A=x", "echo", (), (("o", "o"),))
    assert replace(job, deps=("u",)) != job and replace(job, deps=("u",)).deps == ("u",)
    assert job.resources == Resources() and job.resources is replace(job, deps=()).resources
    with pytest.raises(TypeError, match="unhashable"):
        hash(job)
    assert pickle.loads(pickle.dumps(job)) == job and repr(job).startswith("Job(id='t?A=x', name='t'")
    with pytest.raises(dataclasses.FrozenInstanceError):
        JobStarted(job).attempt = 2  # type: ignore[misc]
