"""Cases and the one rule that names their job directories and job ids, written here and nowhere else.

A case is canonical when it lists only the axes whose key is not the axis's default, sorted by axis name in
code-point order (`B` before `a`). Its case string joins `Axis=key` clauses with `&`; keys are form-encoded
exactly as HyperMake's Java `URLEncoder` does (space becomes `+`), axis names are written as they are. The case
directory is `default` for the all-default case, else the case string, or the MD5 hex digest of the case string
when its UTF-8 form is longer than a file name may be. A job id (`o/t?A=y&B=1`) is never hashed, so run records
can always be read back into cases. The planner names 100,000 jobs in one go, so `CaseNames` memoises the
clauses: the same few keys repeat across every case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hypermetric.percent import decode, encode
from hypermetric.record import Record, setfield

Pairs = tuple[tuple[str, str], ...]

DEFAULT_DIRNAME = "default"
MAX_FILE_NAME_LENGTH = 255


def canonical(case: Mapping[str, str], defaults: Mapping[str, str]) -> Pairs:
    """The pairs of `case` whose key is not its axis's default, sorted by axis name (code-point order)."""
    return tuple(sorted((a, k) for a, k in case.items() if defaults.get(a) != k))


def clause(axis: str, key: str) -> str:
    """`Axis=enc(key)`: the key form-encoded, the axis name verbatim."""
    return f"{axis}={encode(key)}"


def case_string(pairs: Iterable[tuple[str, str]]) -> str:
    """`A=enc(k)&B=enc(k2)`; empty for the default case."""
    return "&".join([clause(a, k) for a, k in pairs])


def shorten(name: str, max_length: int = MAX_FILE_NAME_LENGTH) -> str:
    """The name itself, or its MD5 hex digest when its UTF-8 form is longer than `max_length` bytes."""
    if len(name) <= max_length and name.isascii():  # the usual case string: its length is its byte count
        return name
    data = name.encode("utf-8")
    if len(data) <= max_length:
        return name
    import hashlib  # rarely needed, and it loads OpenSSL

    return hashlib.md5(data).hexdigest()


def dirname_of(text: str, max_length: int = MAX_FILE_NAME_LENGTH) -> str:
    """The directory of a case string: `default` when empty, else the string, hashed when too long."""
    return shorten(text, max_length) if text else DEFAULT_DIRNAME


def dirname(pairs: Pairs, max_length: int = MAX_FILE_NAME_LENGTH) -> str:
    """The case directory of canonical pairs."""
    return dirname_of(case_string(pairs), max_length)


def task_path(name: str) -> str:
    """`o.t` -> `o/t`."""
    return name.replace(".", "/")


def job_id(name: str, pairs: Pairs) -> str:
    """`o/t` for the default case, else `o/t?A=y&B=1`."""
    return CaseNames().job(task_path(name), pairs)[0]


def display(name: str, pairs: Pairs) -> str:
    """`name` or `name[A: k, B: k2]` with raw keys."""
    if not pairs:
        return name
    return f"{name}[{', '.join(f'{a}: {k}' for a, k in pairs)}]"


class CaseNames(dict[tuple[str, str], str]):
    """The naming rule with its clauses memoised: `(axis, key)` -> `axis=enc(key)`, each computed once."""

    def __missing__(self, pair: tuple[str, str]) -> str:
        text = self[pair] = clause(*pair)
        return text

    # The two methods below join the clauses themselves rather than call `string`: each runs once per job or
    # reduction entry, 100,000 times in a large sweep, where one more call per name is measurable.

    def string(self, pairs: Iterable[tuple[str, str]]) -> str:
        """The case string of canonical pairs."""
        return "&".join([self[p] for p in pairs])

    def dirname(self, pairs: Iterable[tuple[str, str]], max_length: int = MAX_FILE_NAME_LENGTH) -> str:
        """The case directory of canonical pairs."""
        text = "&".join([self[p] for p in pairs])
        return shorten(text, max_length) if text else DEFAULT_DIRNAME

    def job_id(self, path: str, pairs: Pairs) -> str:
        """The job id of task path `path` at canonical `pairs`."""
        return f"{path}?{'&'.join(map(self.__getitem__, pairs))}" if pairs else path

    def job(self, path: str, pairs: Pairs, max_length: int = MAX_FILE_NAME_LENGTH) -> tuple[str, str]:
        """The job id and the job directory (relative to the root) of task path `path` at canonical `pairs`."""
        if not pairs:
            return path, f"{path}/{DEFAULT_DIRNAME}"
        text = "&".join([self[p] for p in pairs])
        return f"{path}?{text}", f"{path}/{shorten(text, max_length)}"


def relpath_of_id(job_id: str, max_length: int = MAX_FILE_NAME_LENGTH) -> str:
    """The job directory (relative to the root) of job id `o/t?A=y`: `o/t/A=y`, the case string hashed when
    too long, `o/t/default` for the default case (what `CaseNames.job` gives with the id)."""
    path, _, text = job_id.partition("?")
    if not text:
        return f"{path}/{DEFAULT_DIRNAME}"
    if len(text) <= max_length and text.isascii():
        return f"{path}/{text}"
    return f"{path}/{shorten(text, max_length)}"


def parse_case_string(text: str) -> Pairs:
    """Inverse of `case_string` (`default` and the empty string are the default case).

    Raises ValueError for a clause without `=` or without an axis name."""
    if text in ("", DEFAULT_DIRNAME):
        return ()
    pairs = []
    for part in text.split("&"):
        axis, sep, key = part.partition("=")
        if not sep or not axis:
            raise ValueError(f"malformed case clause `{part}`")
        pairs.append((axis, decode(key)))
    return tuple(sorted(pairs))


def parse_job_id(text: str) -> tuple[str, dict[str, str]]:
    """`o/t?A=y&B=p+q` -> (`o.t`, {"A": "y", "B": "p q"}): split at `?`, `/` -> `.`, keys form-decoded.

    Raises ValueError for a clause without `=` or an empty task path."""
    path, _, query = text.strip().partition("?")
    if not path or path.startswith("/") or path.endswith("/") or query == DEFAULT_DIRNAME:
        raise ValueError(f"not a job id: {text!r}")
    try:
        return path.replace("/", "."), dict(parse_case_string(query))
    except ValueError:
        raise ValueError(f"not a job id: {text!r}") from None


def case_of_dirname(name: str) -> dict[str, str]:
    """The case a directory or entry name spells: `A=x&B=y` gives `{A: x, B: y}`; `default`, a hashed name
    and any name that is not a case string give `{}`."""
    try:
        return dict(parse_case_string(name))
    except ValueError:
        return {}


class Case(Record):
    """A canonical case: the non-default (axis, key) pairs sorted by axis name."""

    __slots__ = ("pairs",)
    pairs: Pairs

    def __init__(self, pairs: Pairs = ()) -> None:
        setfield(self, "pairs", pairs)

    @classmethod
    def of(cls, case: Mapping[str, str], defaults: Mapping[str, str]) -> Case:
        return cls(canonical(case, defaults))

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def as_dict(self) -> dict[str, str]:
        return dict(self.pairs)

    def string(self) -> str:
        return case_string(self.pairs)

    def dirname(self, max_length: int = MAX_FILE_NAME_LENGTH) -> str:
        return dirname(self.pairs, max_length)

    def display(self) -> str:
        """`A: k, B: k2` (`HYPERMAKE_JOB_CASE`), empty for the default case."""
        return ", ".join(f"{a}: {k}" for a, k in self.pairs)
