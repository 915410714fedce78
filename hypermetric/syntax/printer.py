"""AST back to canonical `.hm` text; `parse(print_module(m)) == m` for every well-formed AST."""

from __future__ import annotations

import re

from hypermetric.syntax import ast

_IDENT = re.compile(r"[^\W\d]\w*")
_PATH = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")
_UNQUOTED = re.compile(r"(?:[\w.~]|-(?!>))+")
_KEYWORDS = frozenset({"import", "as", "def", "task", "ephemeral", "plan", "package", "class", "object"})
_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
INDENT = "  "


def print_module(module: ast.Module) -> str:
    return "".join(_statement(s, 0) for s in module.statements)


def print_expr(expr: ast.Expr) -> str:
    if isinstance(expr, ast.StrLit):
        if expr.quoted or expr.fs or not _is_unquoted(expr.value):
            return quote(expr.value) + (f"@{expr.fs}" if expr.fs else "")
        return expr.value
    if isinstance(expr, ast.DictLit):
        if expr.command is not None:
            return f"{{{expr.axis}: `{expr.command}`}}"
        return f"{{{expr.axis}: {' '.join(_entry(e) for e in expr.entries)}}}"
    return print_ref(expr)


def print_ref(ref: ast.Ref) -> str:
    if ref.output is None:
        return f"${ref.path}"
    return f"${ref.path}[{print_indices(ref.indices or ())}].{ref.output}"


def print_indices(indices: tuple[ast.AxisIndex, ...]) -> str:
    return ", ".join(f"{i.axis}: {'*' if i.keys is None else ' '.join(_key(k) for k in i.keys)}" for i in indices)


def print_target(ref: ast.TaskRef) -> str:
    return ref.path + (f"[{print_indices(ref.indices)}]" if ref.indices else "")


def quote(text: str) -> str:
    out = []
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 0x20 or c == "\x7f":
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _is_unquoted(text: str) -> bool:
    return bool(text) and _UNQUOTED.fullmatch(text) is not None and text not in _KEYWORDS


def _key(text: str) -> str:
    return text if _is_unquoted(text) else quote(text)


def _entry(entry: ast.DictEntry) -> str:
    key = quote(entry.key) if entry.quoted_key else _key(entry.key)
    return key if entry.value is None else f"{key}={print_expr(entry.value)}"


def _param(p: ast.Param) -> str:
    name = p.name + (f"@{p.fs}" if p.fs else "")
    if p.shorthand:
        return f"{name}=$"
    return name if p.value is None else f"{name}={print_expr(p.value)}"


def _params(params: tuple[ast.Param, ...]) -> str:
    return "(" + ", ".join(_param(p) for p in params) + ")"


def _outputs(outputs: tuple[ast.Param, ...] | None) -> str:
    if outputs is None:
        return ""
    if len(outputs) == 1 and outputs[0].value is None:
        return f" -> {_param(outputs[0])}"
    return f" -> {_params(outputs)}"


def _call(call: ast.Call) -> str:
    return f"{call.func}{_params(call.args)}"


def _body(body: ast.Script | ast.Call, depth: int) -> str:
    if isinstance(body, ast.Call):
        return f" = {_call(body)}\n"
    return _script(body, depth)


def _script(script: ast.Script, depth: int) -> str:
    pad = INDENT * (depth + 1)
    lines = script.text.split("\n")
    return ":\n" + "".join(f"{pad}{line}\n" if line.strip() else "\n" for line in lines)


def _decorators(decos: tuple[ast.Decorator, ...], pad: str) -> str:
    out = []
    for d in decos:
        args = "" if d.args is None else _params(d.args)
        out.append(f"{pad}{'@@' if d.runner else '@'}{d.path}{args}\n")
    return "".join(out)


def _members(body: tuple[ast.Statement, ...] | ast.Call, depth: int) -> str:
    if isinstance(body, ast.Call):
        return f" = {_call(body)}\n"
    return ":\n" + "".join(_statement(s, depth + 1) for s in body)


def _statement(s: ast.Statement, depth: int) -> str:
    pad = INDENT * depth
    if isinstance(s, ast.ValDef):
        return f"{pad}{s.path} = {print_expr(s.value)}\n"
    if isinstance(s, ast.ImportFile):
        return f"{pad}import {quote(s.path)}" + (f" as {s.alias}" if s.alias else "") + "\n"
    if isinstance(s, ast.ImportModule):
        return f"{pad}import {s.module}" + (f" as {s.alias}" if s.alias else "") + "\n"
    if isinstance(s, ast.FuncDef):
        return f"{pad}def {s.name}{_params(s.params)}{_outputs(s.outputs)}{_script(s.script, depth)}"
    if isinstance(s, ast.TaskDef):
        head = "ephemeral task" if s.ephemeral else "task"
        name = s.name + (f"@{s.fs}" if s.fs else "")
        params = _params(s.params) if s.params else ""
        return (f"{_decorators(s.decorators, pad)}{pad}{head} {name}{params}{_outputs(s.outputs)}"
                f"{_body(s.body, depth)}")
    if isinstance(s, ast.PackageDef):
        params = _params(s.params) if s.params else ""
        out = f" -> {_param(s.output)}" if s.output else ""
        return f"{_decorators(s.decorators, pad)}{pad}package {s.name}{params}{out}{_body(s.body, depth)}"
    if isinstance(s, ast.PlanDef):
        return f"{pad}plan {s.name} = {{ {' '.join(print_target(t) for t in s.targets)} }}\n"
    if isinstance(s, ast.ClassDef):
        return f"{pad}class {s.name}{_params(s.params)}{_members(s.body, depth)}"
    if isinstance(s, ast.ObjectDef):
        return f"{pad}object {s.name}{_members(s.body, depth)}"
    raise TypeError(f"not a statement: {s!r}")
