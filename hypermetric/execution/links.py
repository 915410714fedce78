"""Local inputs of a job: a relative symlink per file input, a folder of relative symlinks per reduction.

Kept apart from `filesystems` (which moves inputs across custom file systems and imports the machinery that
calls them), so that a job with plain local inputs imports none of it.
"""

from __future__ import annotations

import os

from hypermetric.plan.job import LOCAL, InputLink


def needs_transfer(link: InputLink) -> bool:
    """Whether preparing `link` involves a custom file system (else it is a local symlink or folder)."""
    return link.fs != LOCAL or link.source_fs != LOCAL or any(e.fs != LOCAL for e in link.entries)


def link_input(workdir: str, link: InputLink) -> None:
    """A relative symlink per local file input; per reduction, a folder of relative symlinks and a manifest
    beside it."""
    path = os.path.join(workdir, link.name)
    if not link.is_reduction:
        if link.target is not None:
            symlink(link.target, path)
        return
    os.mkdir(path)
    relative = RelativeTo(path)
    for entry in link.entries:
        at = os.path.join(path, entry.name)
        if "/" in entry.name:  # never a case's name; the link is relative to its own folder
            symlink(entry.target, at)
        else:
            place_link(relative(entry.target), at)
    write_manifest(path, link)


def symlink(target: str, path: str) -> None:
    """A relative symlink `path -> target`, replacing any file there (and making its folder if missing)."""
    place_link(os.path.relpath(target, os.path.dirname(path)), path)


def place_link(link: str, path: str) -> None:
    """The symlink `path -> link`, replacing any file there (and making its folder if missing).

    The link is made first and the rest only when that fails: in a job's fresh directory, and in a
    reduction folder of thousands of entries, the first try is the only system call."""
    try:
        os.symlink(link, path)
    except FileExistsError:
        os.unlink(path)
        os.symlink(link, path)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(link, path)


class RelativeTo:
    """`os.path.relpath(target, start)` for one `start` and many targets, as a reduction's folder needs for
    each of its entries: `relpath` makes both paths absolute, splits and compares them on every call (about
    ten microseconds), while a target that is already absolute and normal only has to be matched against the
    folders above `start`. Any other target takes `relpath` itself."""

    __slots__ = ("_above", "_start")

    def __init__(self, start: str) -> None:
        self._start = start
        here = os.path.abspath(start)
        above: list[tuple[str, int]] = []
        if not here.startswith("//"):  # (POSIX keeps two leading slashes, which relpath then ignores)
            above.append((here.rstrip("/") + "/", 0))
            while here != "/":
                here = os.path.dirname(here)
                above.append((here.rstrip("/") + "/", len(above)))
        self._above = above  # each folder from `start` up to the root, with a slash, and its height

    def __call__(self, target: str) -> str:
        if not _normal_absolute(target):
            return os.path.relpath(target, self._start)
        path = target + "/"
        for folder, height in self._above:
            if path.startswith(folder):
                return ("../" * height + path[len(folder):])[:-1] or "."
        return os.path.relpath(target, self._start)  # a start under "//"


def _normal_absolute(path: str) -> bool:
    """Whether `path` is absolute and as `os.path.normpath` leaves it: no empty, `.` or `..` part."""
    return (path[:1] == "/" and "//" not in path and "/./" not in path and "/../" not in path
            and not path.endswith(("/", "/.", "/..")))


def write_manifest(folder: str, link: InputLink) -> None:
    """The folder's manifest (`.<input>.manifest.arrow`, beside the folder, so the folder holds only its
    entries) through the results module when it is installed; nothing otherwise."""
    try:
        from hypermetric.results.manifest import write_manifest as write_arrow
    except ImportError:
        return
    axes = [axis for axis, _ in link.entries[0].case] if link.entries else []
    write_arrow(folder, [(e.name, dict(e.case), e.target) for e in link.entries], axes)
