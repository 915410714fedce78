"""The signature record: how a job's identity and components are written down and hashed.

The one encoding that both ways of computing a digest share (plan/signature.py builds the job,
plan/signature_fast.py does not), so that they cannot drift apart; existing `job.json` files hold digests
made with it, so it never changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from hypermetric.hashing import blake2b
from hypermetric.record import Record, setfield

SEP = "\x1f"


class Signature(Record):
    """A job's signature: its digest, and what it was computed from (recorded in `job.json`)."""

    __slots__ = ("digest", "built_from")
    digest: str
    built_from: dict[str, Any]

    def __init__(self, digest: str, built_from: dict[str, Any]) -> None:
        setfield(self, "digest", digest)
        setfield(self, "built_from", built_from)


class Layer(Protocol):
    """A decorator layer as the script hash sees it (a planned `DecoratorLayer` or the task's decorator)."""

    @property
    def name(self) -> str: ...
    @property
    def script(self) -> str: ...
    @property
    def param(self) -> str: ...


class Upstream(Protocol):
    """An upstream job as an input's label names it (a planned `Job`)."""

    @property
    def name(self) -> str: ...
    @property
    def workdir(self) -> str: ...
    @property
    def outputs(self) -> tuple[tuple[str, str], ...]: ...


BLANK = blake2b(digest_size=10)  # copied, never updated: cheaper than making one per digest


def digest(data: bytes) -> str:
    """20 hex digits of blake2b: plenty to tell versions of one job apart."""
    h = BLANK.copy()
    h.update(data)
    return h.hexdigest()


def normalize_script(text: str) -> str:
    """The script without trailing whitespace on its lines and without blank lines."""
    return "\n".join(s for s in (line.rstrip() for line in text.splitlines()) if s)


def layered_script(script: str, layers: Iterable[Layer]) -> str:
    """The script and each decorator layer around it, normalised: what the script hash covers."""
    parts = [normalize_script(script)]
    for layer in layers:
        parts.append(f"# @{layer.name} run({layer.param})")
        parts.append(normalize_script(layer.script))
    return "\n".join(parts)


class Scripted(Protocol):
    """A job as its script text is made (a planned `Job`)."""

    @property
    def script(self) -> str: ...
    @property
    def decorators(self) -> Iterable[Layer]: ...


def script_text(job: Scripted) -> str:
    """The task's script and each decorator layer around it, normalised: what the signature's script hash
    covers (values are hashed separately, so this is the same for every case of a task)."""
    return layered_script(job.script, job.decorators)


def upstream_label(up: Upstream, path: str) -> str:
    """`task.output` for a path to an output of the upstream job `up`, or `task/<file>` when it names no
    declared output: how `built_from` names an input."""
    rel = path[len(up.workdir) + 1:]  # (the first output with that file)
    return next((f"{up.name}.{name}" for name, out in up.outputs if out == rel), f"{up.name}/{rel}")


def output_parts(outputs: Iterable[tuple[str, str]]) -> list[str]:
    return [f"o:{name}={rel}" for name, rel in outputs]


def encode(job_id: str, script: str, outputs: Iterable[tuple[str, str]], built: Mapping[str, Any]) -> str:
    """A compact, order-independent string of the identity and the components (file hashes only, so touching
    a file changes nothing)."""
    parts = [job_id, script, *output_parts(outputs)]
    parts += [f"v:{k}={v}" for k, v in sorted(built["values"].items())]
    parts += [f"i:{k}={v[1]}" for k, v in sorted(built["inputs"].items())]
    for k, found in sorted(built["entries"].items()):
        parts.append(f"r:{k}=" + ",".join(f"{e}:{s}" for e, s in sorted(found.items())))
    parts += [f"f:{k}={v[3]}" for k, v in sorted(built["files"].items())]
    return SEP.join(parts)
