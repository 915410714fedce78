"""Property tests: printed ASTs parse back to themselves; random input only ever raises our own errors."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypermetric.errors import HmError
from hypermetric.syntax import ast, parse_target, parse_text, print_module
from hypermetric.syntax.printer import print_target

KEYWORDS = {"import", "as", "def", "task", "ephemeral", "plan", "package", "class", "object"}
ident = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(lambda s: s not in KEYWORDS)
path = st.lists(ident, min_size=1, max_size=3).map(".".join)
unquoted = st.from_regex(r"[A-Za-z0-9_.~][A-Za-z0-9_.~\-]{0,6}", fullmatch=True).filter(
    lambda s: s not in KEYWORDS and "->" not in s)
# No NUL: no value can hold one (a script receives values as C strings), so the parser rejects it.
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                   max_size=12)
fs = st.one_of(st.none(), path)

strings = st.one_of(
    unquoted.map(lambda v: ast.StrLit(v)),
    st.builds(lambda v, f: ast.StrLit(v, True, f), any_text, fs),
)
indices = st.lists(st.builds(ast.AxisIndex, ident, st.one_of(st.none(), st.lists(unquoted, min_size=1, max_size=3)
                                                             .map(tuple))), max_size=3).map(tuple)
refs = st.one_of(st.builds(ast.Ref, path), st.builds(lambda p, i, o: ast.Ref(p, i, o), path, indices, ident))


def dicts(children):
    entry = st.builds(lambda k, v: ast.DictEntry(k, v), unquoted, st.one_of(st.none(), children))
    return st.one_of(st.builds(lambda a, es: ast.DictLit(a, tuple(es)), ident, st.lists(entry, min_size=1,
                                                                                       max_size=3)),
                     st.builds(lambda a, c: ast.DictLit(a, (), c), ident,
                               st.from_regex(r"[a-z0-9 ]{0,5}[a-z0-9]", fullmatch=True)))


exprs = st.recursive(st.one_of(strings, refs), dicts, max_leaves=5)
params = st.one_of(
    st.builds(lambda n, f, v: ast.Param(n, f, v), ident, fs, exprs),
    st.builds(lambda n: ast.Param(n, None, ast.Ref(n), True), ident),
)
bare = st.builds(lambda n, f: ast.Param(n, f), ident, fs)
script_line = st.from_regex(r"[^\s\x00-\x1f\x7f\x85\u2028\u2029][^\x00\n\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]{0,10}",
                            fullmatch=True)
scripts = st.builds(lambda first, rest: ast.Script("\n".join([first, *rest]).rstrip("\n")),
                    script_line, st.lists(st.one_of(st.just(""), script_line), max_size=3)).filter(
    lambda s: not s.text.endswith(("\n",)) and s.text.split("\n")[-1].strip() != "")
outputs = st.one_of(st.none(), bare.map(lambda p: (p,)), st.lists(st.one_of(bare, params), max_size=3).map(tuple))
calls = st.builds(lambda f, a: ast.Call(f, tuple(a)), path, st.lists(params, max_size=3))
decorators = st.lists(st.builds(lambda p, a: ast.Decorator(p, a), path,
                                st.one_of(st.none(), st.lists(params, max_size=2).map(tuple))), max_size=2)
tasks = st.builds(lambda n, ps, outs, body, decos, eph, f: ast.TaskDef(n, tuple(ps), outs, body, tuple(decos),
                                                                       eph, f),
                  ident, st.lists(params, max_size=3), outputs, st.one_of(scripts, calls), decorators,
                  st.booleans(), fs)
values = st.builds(ast.ValDef, path, exprs)
funcs = st.builds(lambda n, ps, outs, s: ast.FuncDef(n, tuple(ps), outs, s), ident,
                  st.lists(st.one_of(bare, params), max_size=3), outputs, scripts)
packages = st.builds(lambda n, ps, out, body: ast.PackageDef(n, tuple(ps), out, body), ident,
                     st.lists(params, max_size=2), st.one_of(st.none(), bare), st.one_of(scripts, calls))
plans = st.builds(lambda n, ts: ast.PlanDef(n, tuple(ts)), ident,
                  st.lists(st.builds(ast.TaskRef, path, indices), min_size=1, max_size=3))
imports = st.one_of(st.builds(ast.ImportModule, path, st.one_of(st.none(), ident)),
                    st.builds(ast.ImportFile, any_text, st.one_of(st.none(), ident)))
leaf_statements = st.one_of(values, tasks, funcs, packages, plans)


def containers(children):
    members = st.lists(children, min_size=1, max_size=3).map(tuple)
    return st.one_of(st.builds(ast.ObjectDef, ident, st.one_of(members, calls)),
                     st.builds(lambda n, ps, b: ast.ClassDef(n, tuple(ps), b), ident,
                               st.lists(bare, max_size=2), st.one_of(members, calls)))


statements = st.recursive(leaf_statements, containers, max_leaves=4)
modules = st.builds(lambda ss: ast.Module(tuple(ss)), st.lists(st.one_of(statements, imports), max_size=5))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules)
def test_print_then_parse_is_identity(module):
    text = print_module(module)
    assert parse_text(text) == module, text


@settings(max_examples=200, deadline=None)
@given(st.builds(ast.TaskRef, path, indices))
def test_targets_round_trip(ref):
    assert parse_target(print_target(ref)) == ref


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("ab $@:={}[]()\"'#\\\n\t -.>*`,0") + ["task ", "object ", "  "]),
                max_size=40).map("".join))
def test_random_text_raises_only_hm_errors(text):
    try:
        parse_text(text)
    except HmError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules, st.data())
def test_mutated_programs_raise_only_hm_errors(module, data):
    text = print_module(module)
    if not text:
        return
    pos = data.draw(st.integers(0, len(text) - 1))
    junk = data.draw(st.sampled_from(["", ":", "\n", "{", "$", " ", "\t", "'", "->", "@", "]"]))
    try:
        parse_text(text[:pos] + junk + text[pos + 1:])
    except HmError:
        pass
