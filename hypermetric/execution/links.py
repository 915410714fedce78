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
    for entry in link.entries:
        symlink(entry.target, os.path.join(path, entry.name))
    write_manifest(path, link)


def symlink(target: str, path: str) -> None:
    """A relative symlink `path -> target`, replacing any file there (and making its folder if missing).

    The link is made first and the rest only when that fails: in a job's fresh directory, and in a
    reduction folder of thousands of entries, the first try is the only system call."""
    link = os.path.relpath(target, os.path.dirname(path))
    try:
        os.symlink(link, path)
    except FileExistsError:
        os.unlink(path)
        os.symlink(link, path)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(link, path)


def write_manifest(folder: str, link: InputLink) -> None:
    """The folder's manifest (`.<input>.manifest.arrow`, beside the folder, so the folder holds only its
    entries) through the results module when it is installed; nothing otherwise."""
    try:
        from hypermetric.results.manifest import write_manifest as write_arrow
    except ImportError:
        return
    axes = [axis for axis, _ in link.entries[0].case] if link.entries else []
    write_arrow(folder, [(e.name, dict(e.case), e.target) for e in link.entries], axes)
