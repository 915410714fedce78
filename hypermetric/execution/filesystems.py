"""Input preparation across file systems: link, upload, download or copy inputs into the job's path.

Input `x` expected on `F`, job path `W`: a value already on `F` is linked there (`F.link`; local: a relative
symlink; no `link`: a text file holding the source path, written on `F`, where HyperMake wrongly writes it on
local); from local to `F`: `F.upload`;
from `G` to local: `G.download`; from `G` to `F`: `copy_from_<G>_to_<F>` if the pipeline defines it, else a
download into a temporary directory and an upload (HyperMake fails without the copy function). A reduction becomes `F.mkdir(W/x)` and each entry
prepared the same way into `W/x/<entry>`. Before any input, the job's path is created on each custom file
system that holds its outputs or inputs. Every failing call raises `FileSystemError`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence

from hypermetric.errors import FileSystemError
from hypermetric.execution.links import symlink, write_manifest
from hypermetric.plan.job import LOCAL, InputLink, Job
from hypermetric.store.fscall import (
    DEFAULT_SHELL,
    SpawnHook,
    call_function,
    failure_message,
    fs_call,
    job_file_systems,
)


class Transfers:
    """Prepares one job's inputs that involve custom file systems."""

    def __init__(self, job: Job, shell: Sequence[str] = DEFAULT_SHELL,
                 on_spawn: SpawnHook | None = None) -> None:
        self.job = job
        self.shell = tuple(shell)
        self.on_spawn = on_spawn

    def make_dirs(self) -> None:
        """`mkdir <job path>` on every custom file system holding the job's outputs or inputs."""
        for spec in job_file_systems(self.job):
            fs_call(spec, "mkdir", self.job.relpath, shell=self.shell, on_spawn=self.on_spawn)

    def prepare(self, link: InputLink) -> None:
        """Put input `link` where the task expects it."""
        if not link.is_reduction:
            if link.target is not None:
                source = link.source or link.target
                self._place(link.source_fs, source, link.fs, self._dest(link.fs, link.name))
            return
        folder = self._dest(link.fs, link.name)
        if link.fs == LOCAL:
            os.makedirs(folder, exist_ok=True)
        else:
            self._call(link.fs, "mkdir", folder)
        for entry in link.entries:
            self._place(entry.fs, entry.source or entry.target, link.fs, f"{folder}/{entry.name}")
        if link.fs == LOCAL:
            write_manifest(folder, link)

    def _dest(self, fs: str, name: str) -> str:
        """The input's place: absolute in the local job dir, or `<job path>/<name>` on a custom fs."""
        return os.path.join(self.job.workdir, name) if fs == LOCAL else f"{self.job.relpath}/{name}"

    def _place(self, source_fs: str, src: str, fs: str, dst: str) -> None:
        if source_fs == fs:
            if fs == LOCAL:
                symlink(src, dst)
            else:
                self._link(fs, src, dst)
        elif source_fs == LOCAL:
            self._call(fs, "upload", self._local(fs, src), dst)
        elif fs == LOCAL:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            self._call(source_fs, "download", src, self._local(source_fs, dst))
        else:
            self._copy(source_fs, src, fs, dst)

    def _link(self, fs: str, src: str, dst: str) -> None:
        """`fs.link`, or without one a text file holding `src`, uploaded to `dst` on `fs` (not on local)."""
        if self.job.file_system(fs).function("link") is not None:
            self._call(fs, "link", src, dst)
            return
        with tempfile.TemporaryDirectory(prefix="hm-link-") as tmp:
            path = os.path.join(tmp, os.path.basename(dst) or "link")
            with open(path, "w") as f:
                f.write(src)
            self._call(fs, "upload", path, dst)

    def _copy(self, source_fs: str, src: str, fs: str, dst: str) -> None:
        """`copy_from_<G>_to_<F>(src, dst)` if defined, else download to a temporary dir and upload."""
        spec = self.job.file_system(fs)
        func = spec.copy_from(source_fs)
        if func is not None:
            result = call_function(func.name, func, (src, dst), cwd=spec.cwd, shell=self.shell,
                                   on_spawn=self.on_spawn)
            if result.code != 0:
                raise FileSystemError(failure_message(func.name, "", (src, dst), result))
            return
        tmp = tempfile.mkdtemp(prefix="hm-copy-")
        try:
            path = os.path.join(tmp, os.path.basename(dst.rstrip("/")) or "data")
            self._call(source_fs, "download", src, path)
            self._call(fs, "upload", path, dst)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _local(self, fs: str, path: str) -> str:
        """A local path as `fs`'s upload/download see it: relative to the local root (their cwd) if inside."""
        root = self.job.file_system(fs).local_root
        if root and path.startswith(root + os.sep):
            return os.path.relpath(path, root)
        return path

    def _call(self, fs: str, op: str, *args: str) -> None:
        fs_call(self.job.file_system(fs), op, *args, shell=self.shell, on_spawn=self.on_spawn)
