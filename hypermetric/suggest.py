"""'Did you mean' suggestions over candidate names."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate, if one is close enough to be a likely typo."""
    pool = sorted(set(candidates))
    if not pool:
        return None
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return lowered[name.lower()]
    import difflib  # only once a name is wrong

    best = difflib.get_close_matches(name, pool, n=1, cutoff=0.7)
    return best[0] if best else None


def help_did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    found = did_you_mean(name, candidates)
    return f"did you mean `{found}`?" if found else None


def join_names(names: Iterable[str], conj: str = "or") -> str:
    """`a`, `b`, or `c`."""
    items = [f"`{n}`" for n in names]
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} {conj} {items[1]}"
    return ", ".join(items[:-1]) + f", {conj} {items[-1]}"
