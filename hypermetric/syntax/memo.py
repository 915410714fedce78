"""Results kept on disk between commands: parsed targets here, checked pipelines in `semantics.cache`.

Each value is a pickle in `$XDG_CACHE_HOME/hypermetric/<kind>/` (else `~/.cache/...`), named by a hash of
its key. The key must name everything the value depends on; `code_fingerprint` stands for the code, since an
editable checkout keeps its version number while its modules change. Values are written to a temporary file
and renamed into place, so that two processes writing at once leave one whole value; a value that cannot be
read (missing, truncated, corrupt, or made by other code) is a miss. Reading and writing never raise: a
cache that does not work only makes a command slower.
"""

from __future__ import annotations

import functools
import os

from hypermetric import __version__
from hypermetric.hashing import blake2b

try:  # the unpickler itself, without the `pickle` module around it (its pure-Python half, `struct`, ...)
    from _pickle import load
except ImportError:  # a Python without the accelerator
    from pickle import load

_PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
_MOST = 512


def cache_dir(kind: str) -> str | None:
    """Where values of `kind` live; None when there is no absolute place for them (the XDG rule ignores a
    relative `$XDG_CACHE_HOME`, and without a home `~` stays `~`), so nothing lands in the working directory."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "hypermetric", kind) if os.path.isabs(base) else None


def digest(*parts: object) -> str:
    """A hash of `parts` (their reprs), the hypermetric version and the Python that pickles."""
    import sys

    text = repr((__version__, sys.implementation.cache_tag, parts))
    return text_digest(text)


def text_digest(text: str) -> str:
    """64 hex digits naming `text` (blake2b)."""
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=32).hexdigest()


def read(directory: str | None, key: str) -> object | None:
    """The value stored under `key`, or None; a stored value is a `(key, value)` pair, so that a file that
    somehow holds another key's value is a miss too."""
    if directory is None:
        return None
    try:
        with open(_path(directory, key), "rb") as f:
            stored = load(f)
    except Exception:  # noqa: BLE001 - missing, corrupt, or made by other code: a miss
        return None
    if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key):
        return None
    return stored[1]


def write(directory: str | None, key: str, value: object) -> None:
    if directory is None:
        return
    import pickle  # only after a parse, which costs far more

    try:
        data = pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - a value that cannot be pickled is only not kept
        return
    temp = os.path.join(directory, f".tmp-{os.getpid()}-{os.urandom(6).hex()}")
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temp, _path(directory, key))  # readers see the old value or the new one, never part of one
    except OSError:
        _unlink(temp)
        return
    _prune(directory)


def _prune(directory: str) -> None:
    """Past `_MOST` values (each distinct file, directory and option set adds one), drop the oldest written
    down to half, so that the cache stays small however many projects and temporary directories used it."""
    try:
        entries = [e for e in os.scandir(directory) if e.name.endswith(".pickle")]
        if len(entries) <= _MOST:
            return
        entries.sort(key=lambda e: e.stat().st_mtime_ns)
    except OSError:
        return
    for e in entries[:len(entries) - _MOST // 2]:
        _unlink(e.path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _path(directory: str, key: str) -> str:
    return os.path.join(directory, key[:40] + ".pickle")


@functools.cache
def code_fingerprint(*parts: str) -> str:
    """Changes whenever a module of the package's top level or of the subpackages `parts`, or the grammar,
    is added, removed or rewritten (once per process: the code a process runs was imported at its start)."""
    from hypermetric.resources import grammar_file

    top = sorted(e.name for e in os.scandir(_PACKAGE) if e.name.endswith(".py"))
    stamps = [_stamp(os.path.join(_PACKAGE, name)) for name in top]
    for part in parts:
        stamps.extend(_tree_stamps(os.path.join(_PACKAGE, part)))
    try:
        stamps.append(_stamp(grammar_file()))
    except FileNotFoundError:
        stamps.append("no grammar")
    return text_digest("\n".join(stamps))


def _tree_stamps(directory: str) -> list[str]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return [f"{directory} missing"]
    out: list[str] = []
    for e in entries:
        if e.is_dir(follow_symlinks=False) and e.name != "__pycache__":
            out.extend(_tree_stamps(e.path))
        elif e.name.endswith(".py"):
            out.append(_stamp(e.path))
    return out


def _stamp(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return f"{path} missing"
    return f"{path} {st.st_mtime_ns} {st.st_size}"
