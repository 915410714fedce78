"""The declaration pass: statements into scopes, imports into objects (a module's tasks are
named under it), class instances (each instance names its own members)."""

from __future__ import annotations

from collections.abc import Mapping

from hypermetric.errors import ResolutionError
from hypermetric.semantics.defines import SETTINGS, Define
from hypermetric.semantics.entities import ClassDecl, FunctionDecl, PlanDecl, TaskDecl, ValueDef
from hypermetric.semantics.loader import LoadedProgram
from hypermetric.semantics.namespace import CLASS, FUNCTION, OBJECT, PLAN, TASK, VALUE, Scope
from hypermetric.source import Span
from hypermetric.suggest import help_did_you_mean
from hypermetric.syntax import ast


class Declarer:
    """Builds the scope tree. Definitions are only recorded here; references are resolved later,
    so any order of definitions works. `object o = c(…)` is instantiated once every class is known."""

    def __init__(self, program: LoadedProgram, defines: Mapping[str, Define] | None = None) -> None:
        self.program = program
        self.root = Scope("", None)
        self.defines = dict(defines or {})
        self._overridden: set[str] = set()  # the paths of `-D` overrides that replaced a definition
        self._imported: set[tuple[Scope, str]] = set()  # (scope, file): the set keeps each scope alive
        self._deferred: list[tuple[ast.ObjectDef, Scope]] = []

    def declare_program(self) -> Scope:
        self.declare_file(self.program.main, self.root)
        while self._deferred:
            stmt, scope = self._deferred.pop(0)
            self._instantiate_object(stmt, scope)
        self._declare_settings()
        return self.root

    def _value(self, path: str, expr: ast.Expr, scope: Scope, span: Span | None) -> ValueDef:
        """The definition of value `path`, or the `-D` override that replaces it (resolved in the same
        scope, so its references mean what they would mean in the file)."""
        define = self.defines.get(path)
        if define is None:
            return ValueDef(path, expr, scope, span)
        self._overridden.add(path)
        return ValueDef(path, define.expr, scope, define.span)

    def _declare_settings(self) -> None:
        """Overrides of built-in settings the file leaves out; any other override must name a value the
        pipeline defines."""
        for path, define in self.defines.items():
            if path in self._overridden:
                continue
            if path not in SETTINGS:
                candidates = set(self.root.names(VALUE, depth=8)) | SETTINGS
                raise ResolutionError(f"`-D` names no value `{path}`", define.name_span,
                                      help=help_did_you_mean(path, candidates)
                                      or "-D overrides a value the pipeline defines")
            *prefix, last = path.split(".")
            holder = self._holder(self.root, prefix)
            holder.define(VALUE, last, ValueDef(path, define.expr, self.root, define.span), None)

    def declare_file(self, path: str, scope: Scope) -> None:
        for stmt in self.program.modules[path].statements:
            if isinstance(stmt, (ast.ImportFile, ast.ImportModule)):
                self._import(stmt, path, scope)
            else:
                self.declare(stmt, scope)

    def declare(self, stmt: ast.Statement, scope: Scope) -> None:
        if isinstance(stmt, ast.ValDef):
            *prefix, last = stmt.path.split(".")
            holder = self._holder(scope, prefix)
            value = self._value(holder.qualify(last), stmt.value, scope, stmt.span)
            holder.define(VALUE, last, value, stmt.span)
        elif isinstance(stmt, ast.FuncDef):
            scope.define(FUNCTION, stmt.name, FunctionDecl(scope.qualify(stmt.name), stmt, scope, stmt.span),
                         stmt.span)
        elif isinstance(stmt, (ast.TaskDef, ast.PackageDef)):
            scope.define(TASK, stmt.name, TaskDecl(scope.qualify(stmt.name), stmt, scope, stmt.span), stmt.span)
        elif isinstance(stmt, ast.PlanDef):
            plan = PlanDecl(scope.qualify(stmt.name), stmt, scope, stmt.span)
            scope.define(PLAN, stmt.name, plan, stmt.span)
        elif isinstance(stmt, ast.ClassDef):
            cls = ClassDecl(scope.qualify(stmt.name), stmt, scope, stmt.span)
            scope.define(CLASS, stmt.name, cls, stmt.span)
        elif isinstance(stmt, ast.ObjectDef):
            if isinstance(stmt.body, ast.Call):
                self._deferred.append((stmt, scope))
            else:
                child = scope.child(stmt.name, stmt.span, explicit=True)
                for member in stmt.body:
                    self.declare(member, child)
        else:
            raise ResolutionError("imports are only allowed at the top level of a file", stmt.span)

    @staticmethod
    def _holder(scope: Scope, prefix: list[str]) -> Scope:
        for part in prefix:
            scope = scope.child(part)
        return scope

    def _import(self, stmt: ast.ImportFile | ast.ImportModule, importer: str, scope: Scope) -> None:
        target_file = self.program.target(importer, stmt)
        if isinstance(stmt, ast.ImportModule) and stmt.alias is None:
            *prefix, last = stmt.module.split(".")
            holder, name = self._holder(scope, prefix), last
        elif stmt.alias is not None:
            holder, name = scope, stmt.alias
        else:
            holder, name = scope, None
        if name is None:
            key = (scope, target_file)
            if key not in self._imported:
                self._imported.add(key)
                self.declare_file(target_file, scope)
            return
        existing = holder.get(OBJECT, name)
        if existing is not None and (existing, target_file) in self._imported:
            return
        module = holder.child(name, stmt.span, explicit=True)
        module.parent = self.root
        self._imported.add((module, target_file))
        self.declare_file(target_file, module)

    def _instantiate_object(self, stmt: ast.ObjectDef, scope: Scope) -> None:
        call = stmt.body
        assert isinstance(call, ast.Call)
        instance = self.instantiate(call, scope, scope.qualify(stmt.name), stmt.span)
        scope.define(OBJECT, stmt.name, instance, stmt.span)

    def find_class(self, call: ast.Call, scope: Scope) -> ClassDecl:
        found = scope.find(CLASS, call.func)
        if found is None:
            raise ResolutionError(f"undefined class `{call.func}`", call.span,
                                  help=help_did_you_mean(call.func, scope.visible(CLASS)))
        return found[0]

    def instantiate(self, call: ast.Call, arg_scope: Scope, path: str, span: Span | None) -> Scope:
        """A new object for `cls(args)`: parameters become its values (arguments resolved in `arg_scope`,
        defaults in the instance), members are declared inside it, and names are looked up in the class's
        scope."""
        cls = self.find_class(call, arg_scope)
        node = cls.node
        instance = Scope(path, cls.scope, span=span, instance_of=cls.name)
        args = check_args(call, node.params, f"class `{cls.name}`")
        for param in node.params:
            arg = args.get(param.name)
            qualified = instance.qualify(param.name)
            if arg is not None:
                value = self._value(qualified, arg.value, arg_scope, arg.span)  # type: ignore[arg-type]  # check_args: it has a value
            else:
                value = self._value(qualified, param.value, instance, param.span)  # type: ignore[arg-type]  # else check_args raised
            instance.define(VALUE, param.name, value, param.span)
        instance.params = tuple(p.name for p in node.params)
        if isinstance(node.body, ast.Call):
            return self.instantiate(node.body, instance, path, span)
        mark = len(self._deferred)
        for member in node.body:
            self.declare(member, instance)
        nested, self._deferred[mark:] = self._deferred[mark:], []
        for stmt, scope in nested:
            self._instantiate_object(stmt, scope)
        return instance


def check_args(call: ast.Call, params: tuple[ast.Param, ...], what: str,
               provided: frozenset[str] = frozenset()) -> dict[str, ast.Param]:
    """The call's arguments by name: each must be a parameter, given once, with a value; and every
    parameter without a default (a bare name) must be given (or be one of the `provided` names)."""
    names = [p.name for p in params]
    args: dict[str, ast.Param] = {}
    for arg in call.args:
        if arg.name not in names:
            raise ResolutionError(f"{what} has no parameter `{arg.name}`", arg.span,
                                  help=help_did_you_mean(arg.name, names))
        if arg.name in args:
            raise ResolutionError(f"argument `{arg.name}` is given more than once", arg.span)
        if arg.value is None:
            raise ResolutionError(f"argument `{arg.name}` has no value", arg.span,
                                  help=f"write `{arg.name}=$` to pass the value `{arg.name}`")
        args[arg.name] = arg
    missing = [p.name for p in params if p.value is None and p.name not in args and p.name not in provided]
    if missing:
        raise ResolutionError(f"missing argument `{missing[0]}` for {what}", call.span)
    return args
