"""Why a done job is OUTDATED, in words: what differs between the `built_from` its `job.json` recorded and the
one planned now (the script, values, inputs, a reduction's entries, plain input files)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from hypermetric.plan.signature import MISSING

_MAX_REASONS = 3
_MAX_VALUE = 40


def explain(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> str | None:
    """The reasons two `built_from` records differ, joined by `; ` (the first few); None when `old` is
    unusable or nothing differs."""
    reasons = differences(old, new)
    if reasons is None or not reasons:
        return None
    shown = reasons[:_MAX_REASONS]
    more = len(reasons) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more else "")


def differences(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str] | None:
    """Every reason `old` and `new` differ, or None when `old` is not a `built_from` record."""
    if not isinstance(old, Mapping) or "script" not in old:
        return None
    reasons = ["script changed"] if old.get("script") != new.get("script") else []
    reasons += _values(old.get("values") or {}, new.get("values") or {})
    reasons += _inputs(old.get("inputs") or {}, new.get("inputs") or {})
    reasons += _entries(old.get("entries") or {}, new.get("entries") or {})
    reasons += _files(old.get("files") or {}, new.get("files") or {})
    return reasons


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _MAX_VALUE else text[:_MAX_VALUE - 1] + "…"


def _values(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            out.append(f"value {name} added: {_short(new[name])}")
        elif name not in new:
            out.append(f"value {name} removed")
        elif old[name] != new[name]:
            out.append(f"value of {name} changed: {_short(old[name])} → {_short(new[name])}")
    return out


def _inputs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before is None:
            assert after is not None  # the name came from one of the two
            out.append(f"input {after[0]} added")
        elif after is None:
            out.append(f"input {before[0]} removed")
        elif before[1] != after[1]:
            out.append(f"input {after[0]} changed")
    return out


def _entries(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name) or {}, new.get(name) or {}
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        if added or removed:
            items = [f"+{e}" for e in added] + [f"-{e}" for e in removed]
            shown = " ".join(items[:5]) + (f" (+{len(items) - 5} more)" if len(items) > 5 else "")
            out.append(f"reduction entries changed: {shown}")
        changed = sorted(e for e in set(before) & set(after) if before[e] != after[e])
        if changed:
            what = f"entry {changed[0]}" if len(changed) == 1 else f"{len(changed)} entries"
            out.append(f"reduction {name}: {what} changed")
    return out


def _files(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before is None or after is None or before[3] != after[3]:
            either = after if after is not None else before
            assert either is not None  # the name came from one of the two
            path = display_path(either[0])
            word = "missing" if after is not None and after[3] == MISSING else "changed"
            out.append(f"input file {path} {word}")
    return out


def display_path(path: str) -> str:
    """A path relative to the current directory when it lies below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
