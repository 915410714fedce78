"""Every construct of the language (docs/language.md) parses to the expected AST (table-driven)."""

from __future__ import annotations

import textwrap

import pytest

from hypermetric.syntax import ast, parse_target, parse_text
from hypermetric.syntax.ast import (
    AxisIndex,
    Call,
    ClassDef,
    Decorator,
    DictEntry,
    DictLit,
    FuncDef,
    ImportFile,
    ImportModule,
    ObjectDef,
    PackageDef,
    Param,
    PlanDef,
    Ref,
    Script,
    StrLit,
    TaskDef,
    TaskRef,
    ValDef,
)


def one(src: str):
    module = parse_text(textwrap.dedent(src).lstrip("\n"))
    assert len(module.statements) == 1, module.statements
    return module.statements[0]


S = lambda v, **kw: StrLit(v, **kw)  # noqa: E731

VALUES = [
    ("x0 = abc", ValDef("x0", S("abc"))),
    ("x1 = \"two words\"", ValDef("x1", S("two words", quoted=True))),
    ("x2 = \"/srv/data.tsv\"@local", ValDef("x2", S("/srv/data.tsv", quoted=True, fs="local"))),
    ("v = 1e-3.v~2", ValDef("v", S("1e-3.v~2"))),
    ("v = -v", ValDef("v", S("-v"))),
    ("v = glove.6B", ValDef("v", S("glove.6B"))),
    ("tasks = 1", ValDef("tasks", S("1"))),
    ("local.root = \"/scratch/out\"", ValDef("local.root", S("/scratch/out", quoted=True))),
    ("v = 'a\\tb'", ValDef("v", S("a\tb", quoted=True))),
    ("v = \"\\u00e9\\\\\"", ValDef("v", S("é\\", quoted=True))),
    ("v = 'x'@s3.bucket", ValDef("v", S("x", quoted=True, fs="s3.bucket"))),
    ("d0 = {Size: small large}", ValDef("d0", DictLit("Size", (DictEntry("small"), DictEntry("large"))))),
    ("d1 = {Size: small=64 large=\"1 024\"}",
     ValDef("d1", DictLit("Size", (DictEntry("small", S("64")), DictEntry("large", S("1 024", quoted=True)))))),
    ("d2 = {Size: small={Opt: sgd=0.1 adam=0.01} large=0.5}",
     ValDef("d2", DictLit("Size", (DictEntry("small", DictLit("Opt", (DictEntry("sgd", S("0.1")),
                                                                      DictEntry("adam", S("0.01"))))),
                                   DictEntry("large", S("0.5")))))),
    ("d3 = {Src: a=$x0 b=$prep.clean.out}",
     ValDef("d3", DictLit("Src", (DictEntry("a", Ref("x0")), DictEntry("b", Ref("prep.clean.out")))))),
    ("d4 = {N: `seq 1 3`}", ValDef("d4", DictLit("N", (), "seq 1 3"))),
    ("d5 = {T: \"p q/r\" x}", ValDef("d5", DictLit("T", (DictEntry("p q/r", quoted_key=True), DictEntry("x"))))),
    ("r0 = $x1", ValDef("r0", Ref("x1"))),
    ("r1 = $prep.lang", ValDef("r1", Ref("prep.lang"))),
    ("r3 = $train[Size: large].model", ValDef("r3", Ref("train", (AxisIndex("Size", ("large",)),), "model"))),
    ("r4 = $train[Size: *].model", ValDef("r4", Ref("train", (AxisIndex("Size", None),), "model"))),
    ("r5 = $train[Size: large, Opt: *].model",
     ValDef("r5", Ref("train", (AxisIndex("Size", ("large",)), AxisIndex("Opt", None)), "model"))),
    ("r6 = $train[Opt: sgd adam].model", ValDef("r6", Ref("train", (AxisIndex("Opt", ("sgd", "adam")),), "model"))),
    ("r7 = $t[].out", ValDef("r7", Ref("t", (), "out"))),
    ("a = 1 b = 2", None),
]


@pytest.mark.parametrize("src,expected", VALUES, ids=[v[0] for v in VALUES])
def test_values(src, expected):
    if expected is None:
        assert len(parse_text(src).statements) == 2
    else:
        assert one(src) == expected


TASKS = [
    ("task t:\n  echo hi", TaskDef("t", body=Script("echo hi"))),
    ("task t():\n  echo hi", TaskDef("t", body=Script("echo hi"))),
    ("task t -> out:\n  x", TaskDef("t", outputs=(Param("out"),), body=Script("x"))),
    ("task t(a=1) -> (x, y=\"y.txt\"):\n  x",
     TaskDef("t", (Param("a", value=S("1")),), (Param("x"), Param("y", value=S("y.txt", quoted=True))), Script("x"))),
    ("task t(n=$):\n  x", TaskDef("t", (Param("n", value=Ref("n"), shorthand=True),), body=Script("x"))),
    ("task t(x@s3=$a) -> out@s3:\n  x",
     TaskDef("t", (Param("x", "s3", Ref("a")),), (Param("out", "s3"),), Script("x"))),
    ("task t(x=$a) -> out = f(i=$x)",
     TaskDef("t", (Param("x", value=Ref("a")),), (Param("out"),), Call("f", (Param("i", value=Ref("x")),)))),
    ("ephemeral task t@local:\n  x", TaskDef("t", body=Script("x"), ephemeral=True, fs="local")),
    ("@a\n@b(x=1) @@r(q=2)\ntask t:\n  x",
     TaskDef("t", body=Script("x"), decorators=(Decorator("a"), Decorator("b", (Param("x", value=S("1")),)),
                                                Decorator("r", (Param("q", value=S("2")),), runner=True)))),
    ("task t(\n  a=$p,  # c\n  b=1\n) -> o:\n  x",
     TaskDef("t", (Param("a", value=Ref("p")), Param("b", value=S("1"))), (Param("o"),), Script("x"))),
    ("task t:  # note\n  x", TaskDef("t", body=Script("x"))),
    ("package p -> out:\n  make", PackageDef("p", output=Param("out"), body=Script("make"))),
    ("package p(r=$) -> out@fs:\n  make",
     PackageDef("p", (Param("r", value=Ref("r"), shorthand=True),), Param("out", "fs"), Script("make"))),
    ("package p = std.symlink(path=\"/x\")",
     PackageDef("p", body=Call("std.symlink", (Param("path", value=S("/x", quoted=True)),)))),
    ("def f(x, y=\"2\") -> o:\n  echo $x",
     FuncDef("f", (Param("x"), Param("y", value=S("2", quoted=True))), (Param("o"),), Script("echo $x"))),
    ("def run(inner):\n  python $inner", FuncDef("run", (Param("inner"),), None, Script("python $inner"))),
]


@pytest.mark.parametrize("src,expected", TASKS, ids=[t[0].split("\n")[0] for t in TASKS])
def test_tasks(src, expected):
    assert one(src) == expected


def test_objects_classes_imports_plans():
    src = """
    import conda
    import data.pre as pp
    import "lib/x.hm"
    import "lib/y.hm" as y
    object o:
      lang = en
      # a comment-only line does not end the object
      task t -> z:
        echo
    object i = c(r=1)
    class c(r):
      task t:
        echo $r
    class c2(q) = c(r=$q)
    plan P = { a b[A: *] }
    plan Q = { a, o.t[B: x y] }
    """
    m = parse_text(textwrap.dedent(src))
    assert m.statements == (
        ImportModule("conda"), ImportModule("data.pre", "pp"), ImportFile("lib/x.hm"), ImportFile("lib/y.hm", "y"),
        ObjectDef("o", (ValDef("lang", S("en")), TaskDef("t", outputs=(Param("z"),), body=Script("echo")))),
        ObjectDef("i", Call("c", (Param("r", value=S("1")),))),
        ClassDef("c", (Param("r"),), (TaskDef("t", body=Script("echo $r")),)),
        ClassDef("c2", (Param("q"),), Call("c", (Param("r", value=Ref("q")),))),
        PlanDef("P", (TaskRef("a"), TaskRef("b", (AxisIndex("A", None),)))),
        PlanDef("Q", (TaskRef("a"), TaskRef("o.t", (AxisIndex("B", ("x", "y")),)))),
    )


def test_column0_comment_inside_object_does_not_end_it():
    m = parse_text("object o:\n  a = 1\n# note\n  b = 2\nc = 3\n")
    assert m.statements == (ObjectDef("o", (ValDef("a", S("1")), ValDef("b", S("2")))), ValDef("c", S("3")))


def test_nested_objects_dedent_in_steps():
    m = parse_text("object a:\n  object b:\n    x = 1\n  y = 2\nz = 3\n")
    assert m.statements == (ObjectDef("a", (ObjectDef("b", (ValDef("x", S("1")),)), ValDef("y", S("2")))),
                            ValDef("z", S("3")))


SCRIPTS = [
    ("task t:\n  a\n    b\n  c\n", "a\n  b\nc"),                  # deeper lines keep their extra spaces
    ("task t:\n  # note\n  x\n", "# note\nx"),                    # comments are script text
    ("task t:\n  a\n\n  b\n\n\nx = 1\n", "a\n\nb"),                # blank lines kept inside, trailing dropped
    ("task t:\n  a 'quote\n  b \"$x\" \\\n  c\n", "a 'quote\nb \"$x\" \\\nc"),  # bash is never tokenised
    ("task t:\n  a\n  \tb\n", "a\n\tb"),                          # tabs after the indentation are content
    ("task t:\r\n  a\r\n  b\r\n", "a\nb"),                        # CRLF is read as LF (HyperMake rejects `\r`)
    ("object o:\n  task t:\n    a\n  x = 1\n", None),
]


@pytest.mark.parametrize("src,text", SCRIPTS, ids=range(len(SCRIPTS)))
def test_script_blocks(src, text):
    stmt = parse_text(src).statements[0]
    if text is None:
        assert stmt.body[0].body == Script("a") and stmt.body[1] == ValDef("x", S("1"))
    else:
        assert stmt.body == Script(text)


TARGETS = [
    ("t", TaskRef("t")),
    ("o.t", TaskRef("o.t")),
    ("t[A: a b, B: *]", TaskRef("t", (AxisIndex("A", ("a", "b")), AxisIndex("B", None)))),
    ("evaluate[Dataset: *, Model: bm25]",
     TaskRef("evaluate", (AxisIndex("Dataset", None), AxisIndex("Model", ("bm25",))))),
    ("t[Tag: \"p q/r\"]", TaskRef("t", (AxisIndex("Tag", ("p q/r",)),))),
    ("t[]", TaskRef("t")),
]


@pytest.mark.parametrize("text,expected", TARGETS, ids=[t[0] for t in TARGETS])
def test_targets(text, expected):
    assert parse_target(text) == expected


def test_spans_point_at_source():
    m = parse_text("a = 1\ntask t(x=$a) -> o:\n  echo\n", "main.hm")
    task = m.statements[1]
    assert task.span.location() == "main.hm:2:1"
    assert task.params[0].value.span.text() == "$a"
    assert isinstance(task, ast.TaskDef)
