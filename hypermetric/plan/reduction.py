"""A reduction input's entries, made only when read and named from strings made once per key.

A reduction `$t[B: *, C: *].out` at one case reads one output of `t` per key combination of the reduced
axes: 100,000 of them in a large sweep. Planning needs only the ids of those jobs (the planner's table of
dependencies); the entries (name, target path, case) matter only to whoever reads the job's inputs: linking
them before the job runs, `describe`, a signature. So a built job's `InputLink.entries` is a
`ReductionEntries`, the recipe, which makes the entries the first time anything reads them.

Making them: each entry's name and its upstream job's case string are the `Axis=key` clauses of its keys
joined by `&`. Where the reduced axes go through the upstream task's axes in the same (sorted) order, both
strings grow a level at a time (a prefix per key of the axes before), so an entry costs two string
concatenations rather than naming a job and building a case from scratch; any other shape takes the plain
path (`entries_of`), which also serves as the reference the fast one is tested against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, overload

from hypermetric.model.case import DEFAULT_DIRNAME, CaseNames, Pairs, shorten
from hypermetric.plan.job import LOCAL, ReductionEntry
from hypermetric.plan.task_plan import JobRef, TaskPlan
from hypermetric.semantics.model import Output


class ReductionEntries(Sequence[ReductionEntry]):
    """The entries of a reduction input, made by `make` when first read and kept. Compares, hashes and
    pickles as the tuple of its entries (a job sent to another process carries them made)."""

    __slots__ = ("_items", "_make")

    def __init__(self, make: Callable[[], tuple[ReductionEntry, ...]]) -> None:
        self._make: Callable[[], tuple[ReductionEntry, ...]] | None = make
        self._items: tuple[ReductionEntry, ...] | None = None

    @property
    def made(self) -> bool:
        """Whether the entries have been made."""
        return self._items is not None

    def _all(self) -> tuple[ReductionEntry, ...]:
        items = self._items
        if items is None:
            make = self._make
            if make is None:  # another thread made them meanwhile
                return self._items  # type: ignore[return-value]
            items = self._items = make()
            self._make = None  # the recipe holds the consumer's case: let it go
        return items

    @overload
    def __getitem__(self, index: int) -> ReductionEntry: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[ReductionEntry, ...]: ...

    def __getitem__(self, index: int | slice) -> ReductionEntry | tuple[ReductionEntry, ...]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[ReductionEntry]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (ReductionEntries, tuple)):
            return self._all() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return repr(self._all()) if self.made else "ReductionEntries(<not made yet>)"

    def __reduce__(self) -> tuple[type[tuple], tuple[tuple[ReductionEntry, ...]]]:
        return tuple, (self._all(),)


class Reduction:
    """What making a reduction's entries needs from the planner: the naming memo, the axes' defaults (an
    entry's name leaves out default keys) and the longest file name."""

    __slots__ = ("clauses", "defaults", "max_length")

    def __init__(self, clauses: CaseNames, defaults: Mapping[str, str], max_length: int) -> None:
        self.clauses, self.defaults, self.max_length = clauses, defaults, max_length

    def entries(self, ref: Output, case: Mapping[str, str], upstream: TaskPlan) -> tuple[ReductionEntry, ...]:
        """The entries of reference `ref` (with reduced axes) at the consumer's `case`: one per combination of
        the reduced keys, the first reduced axis varying slowest; `upstream` is the referenced task's plan."""
        names = [axis for axis, _ in ref.reduced]
        if upstream.files is None or list(ref.axes) != sorted(ref.axes) or names != sorted(names):
            return self.entries_of(ref, case, upstream)
        return self._grown(ref, case, upstream)

    def entries_of(self, ref: Output, case: Mapping[str, str], upstream: TaskPlan) -> tuple[ReductionEntry, ...]:
        """The plain path: each entry from its reduced keys and its upstream job's `JobRef`."""
        value = ref.at(case)
        order = sorted(range(len(ref.reduced)), key=lambda i: ref.reduced[i][0])
        defaults = [self.defaults[ref.reduced[i][0]] for i in order]
        clauses, path, output = self.clauses, upstream.path, ref.output
        source_fs = upstream.output_fs.get(output, LOCAL)
        entries = []
        for pairs, item in value.entries:  # type: ignore[union-attr]  # a reduced reference gives a `Multiple`
            upstream_ref = JobRef(upstream, item.pairs, clauses.job_id(path, item.pairs))
            name = clauses.dirname([pairs[i] for i, d in zip(order, defaults) if pairs[i][1] != d],
                                   self.max_length)
            file, target = upstream_ref.output(output)
            source = f"{upstream_ref.relpath}/{file}" if source_fs != LOCAL else None
            entries.append(ReductionEntry(name, target, pairs, source_fs, source))
        return tuple(entries)

    def _grown(self, ref: Output, case: Mapping[str, str], upstream: TaskPlan) -> tuple[ReductionEntry, ...]:
        """The fast path (module docstring): the reduced axes in sorted order, each a level of prefixes."""
        levels, tail = self._levels(ref, case)
        # (case so far, upstream case string so far, entry name so far), a level at a time, in product order
        grown: list[tuple[tuple[tuple[str, str], ...], str, str]] = [((), "", "")]
        for choices in levels:
            grown = [(pairs + (pair,), f"{up}&{u}" if up and u else up or u, f"{nm}&{n}" if nm and n else nm or n)
                     for pairs, up, nm in grown for pair, u, n in choices]
        return self._made(grown, tail, ref.output, upstream)

    def _levels(self, ref: Output, case: Mapping[str, str]) -> tuple[list[list[tuple[Any, str, str]]], str]:
        """Per reduced axis, per key: its pair, its part of the upstream case string (the clauses of the
        upstream's fixed axes before it, then its own unless default) and its part of the entry's name; and
        the clauses of the fixed axes after the last reduced one."""
        clauses, defaults = self.clauses, self.defaults
        reduced = dict(ref.reduced)
        fixed: list[str] = []  # clauses of the upstream's fixed axes since the last reduced one
        levels = []
        task = dict(zip(ref.axes, ref.defaults))
        for axis in sorted({*ref.axes, *reduced}):
            keys = reduced.get(axis)
            if keys is None:
                key = ref.fixed.get(axis)
                if key is None:
                    key = case.get(axis, task[axis])
                if key != task[axis]:
                    fixed.append(clauses[(axis, key)])
                continue
            before = "&".join(fixed)
            fixed = []
            level = []
            for key in keys:
                own = clauses[(axis, key)]
                up = own if axis in task and key != task[axis] else ""
                level.append(((axis, key), f"{before}&{up}" if before and up else before or up,
                              "" if key == defaults[axis] else own))
            levels.append(level)
        return levels, "&".join(fixed)

    def _made(self, grown: list[tuple[tuple[tuple[str, str], ...], str, str]], tail: str, output: str,
              upstream: TaskPlan) -> tuple[ReductionEntry, ...]:
        path, file = upstream.path, upstream.files[output]  # type: ignore[index]  # checked by the caller
        root = upstream.output_roots[output]
        fs = upstream.output_fs.get(output, LOCAL)
        limit, up_limit = self.max_length, upstream.max_length
        out = []
        for pairs, up, name in grown:
            if tail:
                up = f"{up}&{tail}" if up else tail
            relpath = f"{path}/{shorten(up, up_limit) if up else DEFAULT_DIRNAME}"
            target = f"{root}/{relpath}/{file}" if root else f"{relpath}/{file}"
            out.append(ReductionEntry(shorten(name, limit) if name else DEFAULT_DIRNAME, target, pairs, fs,
                                      f"{relpath}/{file}" if fs != LOCAL else None))
        return tuple(out)



def upstream_cases(ref: Output, case: Mapping[str, str], clauses: CaseNames) -> Iterator[tuple[Pairs, str]]:
    """(canonical case, case string) of each upstream job `ref` reads at the consumer's `case`, in the order of
    `Output.upstream_cases` (the product over the upstream task's axes, in order), grown a level at a time.
    The axes with one key (fixed, or the consumer's) join the level of the next reduced axis (the last
    level, those after it); the last level is made as it is read, so a million cases are never all held."""
    reduced = dict(ref.reduced)
    levels: list[list[tuple[Pairs, str]]] = []
    pairs: Pairs = ()  # the one-key axes' pairs and clauses since the last reduced axis
    texts: list[str] = []
    for axis, default in zip(ref.axes, ref.defaults):
        keys = reduced.get(axis)
        if keys is None:
            key = ref.fixed.get(axis)
            if key is None:
                key = case.get(axis, default)
            if key != default:
                pairs += ((axis, key),)
                texts.append(clauses[(axis, key)])
            continue
        levels.append([(pairs + ((axis, k),), "&".join([*texts, clauses[(axis, k)]])) if k != default
                       else (pairs, "&".join(texts)) for k in keys])
        pairs, texts = (), []
    if not levels:
        return iter([(pairs, "&".join(texts))])
    if pairs:
        text = "&".join(texts)
        levels[-1] = [(more + pairs, f"{t}&{text}" if t else text) for more, t in levels[-1]]
    grown: list[tuple[Pairs, str]] = [((), "")]
    for choices in levels[:-1]:
        grown = [(p + more, f"{q}&{t}" if q and t else q or t) for p, q in grown for more, t in choices]
    last = levels[-1]
    return ((p + more, f"{q}&{t}" if q and t else q or t) for p, q in grown for more, t in last)
