"""Objects, classes, modules and imports, scoping, `-D`, the output root."""

from __future__ import annotations

import os

import pytest

from hypermetric import api
from hypermetric.errors import CycleError, ResolutionError
from semantics.helpers import declared, error, failure, load, plan, targets, var, write


def test_object_members_are_named_under_the_object(tmp_path):
    src = "object o:\n  task t -> z:\n    touch $z\ntask u(i=$o.t.z) -> y:\n  touch $y\n"
    pipeline = load(tmp_path, src)
    assert set(pipeline.tasks) == {"o.t", "u"} and pipeline.tasks["u"].upstream == ("o.t",)
    graph = plan(tmp_path, src, "o.t", "u")
    assert graph.jobs["o/t"].relpath == "o/t/default" and graph.jobs["o/t"].name == "o.t"
    assert var(graph.jobs["u"], "i") == f"{tmp_path}/out/o/t/default/z"


CLASS = "class c(r):\n  task t -> o:\n    echo $r > $o\n"


def test_class_instances_are_renamed_and_carry_parameters(tmp_path):  # HyperMake leaves members unprefixed, so two instances collide
    src = CLASS + "object i = c(r=1)\nobject j = c(r=2)\ntask u(v=$i.r) -> o:\n  touch $o\n"
    graph = plan(tmp_path, src, "i.t", "j.t", "u")
    assert graph.jobs["i/t"].relpath == "i/t/default" and var(graph.jobs["i/t"], "r") == "1"
    assert var(graph.jobs["j/t"], "r") == "2"
    assert var(graph.jobs["u"], "v") == "1"


def test_class_defaults_and_missing_parameters(tmp_path):  # defaults reach the script; a missing one is an error, not a silent `x="x"`
    src = 'class c(r, s="d"):\n  task t -> o:\n    touch $o\nobject i = c(r=1)\n'
    assert var(targets(plan(tmp_path, src, "i.t"))[0], "s") == "d"
    message = error(tmp_path, "class c(r):\n  x = 1\nobject i = c()\n")[2]
    assert message == "missing argument `r` for class `c`"


def test_class_may_contain_packages(tmp_path):
    src = "class c(v):\n  package p -> out:\n    touch $out\nobject a = c(v=1)\nobject b = c(v=2)\n"
    assert {"a.p", "b.p"} <= set(load(tmp_path, src).tasks)


def test_class_defined_by_instantiating_another(tmp_path):
    src = CLASS + "class c2(q) = c(r=$q)\nobject i = c2(q=5)\n"
    assert var(targets(plan(tmp_path, src, "i.t"))[0], "r") == "5"


def test_parameterized_instance_gives_its_tasks_the_axis(tmp_path):
    src = CLASS + "object i = c(r={R: a b})\n"
    assert load(tmp_path, src).tasks["i.t"].axes == ("R",)


def test_lookup_goes_through_enclosing_objects(tmp_path):  # lexical scoping, outward through enclosing objects
    src = ("x = root\ny = root\nobject o:\n  y = inner\n  object p:\n"
           "    task t(a=$x, b=$y) -> z:\n      touch $z\n")
    job = targets(plan(tmp_path, src, "o.p.t"))[0]
    assert (var(job, "a"), var(job, "b")) == ("root", "inner")


def test_dotted_values_create_objects(tmp_path):
    src = "a.b.c = 1\ntask t(v=$a.b.c) -> o:\n  touch $o\n"
    assert var(targets(plan(tmp_path, src, "t"))[0], "v") == "1"


def test_object_redefinition_is_an_error(tmp_path):
    exc = failure(tmp_path, "object o:\n  x = 1\nobject o:\n  y = 1\n")
    assert isinstance(exc, ResolutionError)
    assert exc.diagnostic.message == "object `o` is defined more than once"


# ------------------------------------------------------------------------------------------------ modules

LIB = {"lib/m.hm": "task t -> o:\n  touch $o\nv = 3\n"}


def test_module_import_prefixes_tasks(tmp_path):  # prefixed so that two modules' tasks cannot collide
    graph = plan(tmp_path, "import lib.m\ntask u(x=$lib.m.v) -> o:\n  touch $o\n", "lib.m.t", "u", files=LIB)
    assert graph.jobs["lib/m/t"].relpath == "lib/m/t/default" and var(graph.jobs["u"], "x") == "3"


def test_module_import_with_alias(tmp_path):
    pipeline = load(tmp_path, "import lib.m as k\n", LIB)
    assert set(pipeline.tasks) == {"k.t"}


def test_file_import_merges_or_binds_the_alias(tmp_path):  # `as k` binds only `k` (HyperMake also merges)
    files = {"f.hm": "task t -> o:\n  touch $o\n"}
    assert set(load(tmp_path, 'import "f.hm"\n', files).tasks) == {"t"}
    assert set(load(tmp_path, 'import "f.hm" as k\n', files).tasks) == {"k.t"}


def test_modules_resolve_in_their_own_scope_first(tmp_path):
    files = {"m.hm": "v = inner\ntask t(v=$v) -> o:\n  touch $o\n"}
    job = targets(plan(tmp_path, "import m\nv = outer\n", "m.t", files=files))[0]
    assert var(job, "v") == "inner"


def test_reimport_is_a_no_op(tmp_path):
    files = {"f.hm": "task t -> o:\n  touch $o\n"}
    assert set(load(tmp_path, 'import "f.hm"\nimport "f.hm"\nimport lib.m\nimport lib.m\n',
                    {**files, **LIB}).tasks) == {"t", "lib.m.t"}


def test_import_cycle_shows_the_chain(tmp_path):
    exc = failure(tmp_path, 'import "a.hm"\n', {"a.hm": 'import "b.hm"\n', "b.hm": 'import "a.hm"\n'})
    assert isinstance(exc, CycleError)
    assert exc.diagnostic.message == "import cycle: a.hm -> b.hm -> a.hm"
    assert exc.diagnostic.span.file.path.endswith("a.hm")


def test_missing_module_is_an_error(tmp_path):
    exc = failure(tmp_path, "x = 1\nimport nothing.here\n")
    assert (exc.diagnostic.span.line, exc.diagnostic.message) == (2, "cannot find module `nothing.here`")
    assert exc.diagnostic.notes and "nothing/here.hm" in exc.diagnostic.notes[0]


def test_search_order(tmp_path, monkeypatch):
    for where in ("sub", "cwd", "inc", "hmp", "hkp"):
        write(tmp_path / where, {"mod.hm": f"origin = {where}\n"})
    write(tmp_path / "cwd" / "sub", {"main.hm": "import mod\n"})
    monkeypatch.setenv("HYPERMETRIC_PATH", str(tmp_path / "hmp"))
    monkeypatch.setenv("HYPERMAKE_PATH", str(tmp_path / "hkp"))
    main = str(tmp_path / "cwd" / "sub" / "main.hm")

    def origin(cwd: str) -> str:
        api.load(main, cwd=cwd, includes=[str(tmp_path / "inc")])
        scope = declared(main, cwd=cwd, includes=[str(tmp_path / "inc")])
        return scope.descend(["mod"]).get("value", "origin").expr.value

    assert origin(str(tmp_path / "cwd")) == "cwd"  # the importing file's directory has none
    os.remove(tmp_path / "cwd" / "mod.hm")
    assert origin(str(tmp_path / "cwd")) == "inc"
    os.remove(tmp_path / "inc" / "mod.hm")
    assert origin(str(tmp_path / "cwd")) == "hmp"
    os.remove(tmp_path / "hmp" / "mod.hm")
    assert origin(str(tmp_path / "cwd")) == "hkp"
    write(tmp_path / "cwd" / "sub", {"mod.hm": "origin = here\n"})
    assert origin(str(tmp_path / "cwd")) == "hkp"  # HyperMake's order: the file's own folder comes last
    os.remove(tmp_path / "hkp" / "mod.hm")
    assert origin(str(tmp_path / "cwd")) == "here"


def test_local_std_shadows_the_bundled_library(tmp_path):
    files = {"std.hm": "task mine -> o:\n  touch $o\n"}
    assert set(load(tmp_path, "import std\n", files).tasks) == {"std.mine"}


def test_bundled_library_is_found(tmp_path):
    src = 'import std\n@std.run(interpreter="python3")\ntask t -> o:\n  print(1)\n'
    job = targets(plan(tmp_path, src, "t"))[0]
    assert job.decorators[0].name == "std.run"
    assert job.decorators[0].variables == (("interpreter", "python3"),)


# ---------------------------------------------------------------------------------------------- root, -D

def test_output_root(tmp_path):
    assert load(tmp_path, "x = 1\n").root == f"{tmp_path}/out"
    assert load(tmp_path, 'local.root = "runs/../runs2"\n').root == f"{tmp_path}/runs2"
    assert load(tmp_path, 'local.root = "runs"\n', defines={"local.root": "/tmp/o"}).root == "/tmp/o"


def test_define_overrides_values(tmp_path):  # HyperMake parses `-D` and ignores it
    src = "lr = 0.1\nopt = x\ntask t(lr=$, extra=$opt) -> o:\n  touch $o\n"
    job = targets(api.plan(load(tmp_path, src, defines={"lr": "0.5", "opt": "a=b"}), ["t"]))[0]
    assert (var(job, "lr"), var(job, "extra")) == ("0.5", "a=b")


def test_max_file_name_length_setting(tmp_path):
    src = "local.max_file_name_length = 10\nk = {K: a bbbbbbbbbbbb}\ntask t(k=$) -> o:\n  touch $o\n"
    (job,) = targets(plan(tmp_path, src, "t[K: bbbbbbbbbbbb]"))
    assert len(job.relpath.split("/")[1]) == 32 and job.id == "t?K=bbbbbbbbbbbb"


# -------------------------------------------------------------------------------------- inline commands

def test_inline_command_keys(tmp_path):
    write(tmp_path, {"keys.txt": "alpha  beta\ngamma\n"})
    src = "v = {K: `cat keys.txt`}\ntask t(v=$) -> o:\n  touch $o\n"
    pipeline = load(tmp_path, src)
    assert pipeline.axes_in_order() == [("K", ("alpha", "beta", "gamma"))]
    assert [var(j, "v") for j in targets(api.plan(pipeline, ["t[K: *]"]))] == ["alpha", "beta", "gamma"]


@pytest.mark.parametrize("command, message", [
    ("exit 3", "the inline command of axis `K` failed with exit code 3"),
    ("true", "the inline command of axis `K` printed no keys"),
], ids=["fails", "empty"])
def test_inline_command_errors(tmp_path, command, message):  # a failing command is an error, not an axis without keys
    assert error(tmp_path, f"v = {{K: `{command}`}}\n")[2] == message


# ------------------------------------------------------------------------------------- pipeline summary

def test_axes_in_declaration_order_with_imports_in_place(tmp_path):  # deterministic: order of first declaration
    files = {"m.hm": "b = {B: 1 2}\n"}
    pipeline = load(tmp_path, 'z = {Z: q r}\nimport "m.hm"\na = {A: x y z}\n', files)
    assert pipeline.axes_in_order() == [("Z", ("q", "r")), ("B", ("1", "2")), ("A", ("x", "y", "z"))]


def test_services_wrap_their_users(tmp_path):
    src = ("object svc:\n  ephemeral task start -> sock:\n    touch $sock\n"
           "  ephemeral task stop(sock=$start.sock):\n    true\n"
           "task use(s=$svc) -> o:\n  touch $o\n")
    pipeline = load(tmp_path, src)
    assert pipeline.tasks["use"].upstream == ("svc.start",)
    graph = api.plan(pipeline, ["use"])
    assert set(graph.jobs) == {"use", "svc/start", "svc/stop"}
    assert graph.jobs["use"].deps == ("svc/start",)
    assert graph.jobs["svc/stop"].deps == ("svc/start", "use")
    assert var(graph.jobs["use"], "s") == f"{tmp_path}/out/svc/start/default/sock"
    assert graph.order() == ["svc/start", "use", "svc/stop"]


def test_each_file_is_parsed_once(tmp_path):
    from collections import Counter

    from hypermetric.semantics.loader import Loader
    from hypermetric.syntax import parse

    write(tmp_path, {"main.hm": "import a\nimport b\n", "a.hm": "import c\n", "b.hm": "import c\n",
                     "c.hm": "v = 1\n"})
    seen: Counter[str] = Counter()

    def counting(source):
        seen[os.path.basename(source.path)] += 1
        return parse(source)

    program = Loader(cwd=str(tmp_path), parse=counting).load("main.hm")
    assert seen == Counter({"main.hm": 1, "a.hm": 1, "b.hm": 1, "c.hm": 1})
    assert len(program.modules) == 4
    api.load(str(tmp_path / "main.hm"), cwd=str(tmp_path))
    scope = declared(str(tmp_path / "main.hm"), cwd=str(tmp_path))
    assert scope.descend(["a", "c"]) is not None and scope.descend(["b", "c"]) is not None


def test_missing_pipeline_file(tmp_path):
    from hypermetric.errors import UsageError

    with pytest.raises(UsageError, match="does not exist"):
        api.load("absent.hm", cwd=str(tmp_path))


def test_member_functions_see_their_instance_parameters(tmp_path):
    src = ("class tool(flag):\n  def go(x) -> o:\n    run $flag $x > $o\n"
           "object t1 = tool(flag=-v)\ntask t(a=1) -> o = t1.go(x=$a)\n")
    job = targets(plan(tmp_path, src, "t"))[0]
    assert (var(job, "flag"), var(job, "x"), job.script) == ("-v", "1", "run $flag $x > $o")
