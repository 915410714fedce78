"""Recording stand-ins for the `gcloud` and `az` CLIs (no emulator exists for them here).

Each stub appends its argv as one JSON line to `$STUB_LOG` and acts on a local directory `$STUB_ROOT`
(`gs://bucket/key` and container/blob names map to files under it), just enough for the commands the
stdlib's `gcloud.hm` and `az.hm` use, so both the exact command lines and their effect can be checked.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

_COMMON = r'''
import json, os, shutil, sys
from pathlib import Path
ROOT = Path(os.environ["STUB_ROOT"])
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0])] + sys.argv[1:]) + "\n")

def options(args):
    """--key value pairs and bare flags; positional arguments in order."""
    opts, pos, i = {}, [], 0
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            if i + 1 < len(args) and not args[i + 1].startswith("--") and a not in FLAGS:
                opts[a[2:]] = args[i + 1]
                i += 2
                continue
            opts[a[2:]] = True
        else:
            pos.append(a)
        i += 1
    return opts, pos

def copy(src, dst, exclude=None):
    src, dst = Path(src), Path(dst)
    if src.is_dir():
        for path in src.rglob("*"):
            if path.is_file() and not (exclude and path.name == exclude):
                target = dst / path.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
'''

_GCLOUD = _COMMON + r'''
FLAGS = {"--recursive", "--no-user-output-enabled"}

def local(url):
    return ROOT / url[len("gs://"):] if url.startswith("gs://") else Path(url)

args = sys.argv[1:]
assert args[0] == "storage", args
opts, pos = options(args[1:])
verb = pos[0]
if verb == "cat":
    sys.stdout.write(local(pos[1]).read_text())
elif verb == "cp":
    copy(local(pos[1]), local(pos[2]))
elif verb == "ls":
    path = local(pos[1])
    sys.exit(0 if path.is_file() or (path.is_dir() and any(path.iterdir())) else 1)
elif verb == "objects":
    sys.exit(0 if local(pos[2]).is_file() else 1)
elif verb == "rm":
    path = local(pos[1])
    if not path.exists():
        sys.exit(1)
    shutil.rmtree(path) if path.is_dir() else path.unlink()
elif verb == "rsync":
    copy(local(pos[1]), local(pos[2]), "_$folder$" if "exclude" in opts else None)
else:
    sys.exit(f"unknown command {args}")
'''

_AZ = _COMMON + r'''
FLAGS = {"--no-progress"}

def blob(container, name):
    return ROOT / container / name

args = sys.argv[1:]
assert args[:2] == ["storage", "blob"], args
verb = args[2] if args[2] != "copy" else "copy " + args[3]
opts, _ = options(args[3:] if args[2] != "copy" else args[4:])
c = opts.get("container-name")
if verb == "exists":
    print("true" if blob(c, opts["name"]).is_file() else "false")
elif verb == "download":
    copy(blob(c, opts["name"]), opts["file"])
elif verb == "upload":
    copy(opts["file"], blob(c, opts["name"]))
elif verb == "upload-batch":
    copy(opts["source"], ROOT / opts["destination"] / opts["destination-path"])
elif verb == "delete":
    blob(c, opts["name"]).unlink()
elif verb == "delete-batch":
    prefix = opts["pattern"].rstrip("*").rstrip("/")
    shutil.rmtree(ROOT / opts["source"] / prefix, ignore_errors=True)
elif verb == "list":
    base = ROOT / c
    names = sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()
                   and str(p.relative_to(base)).startswith(opts["prefix"]))
    if opts.get("num-results") == "1":
        names = names[:1]
    print("\n".join(names))
elif verb == "copy start":
    copy(blob(opts["source-container"], opts["source-blob"]),
         blob(opts["destination-container"], opts["destination-blob"]))
elif verb == "show":
    print("success")
else:
    sys.exit(f"unknown command {args}")
'''


def install(bin_dir: Path) -> None:
    """Write executable `gcloud` and `az` stubs into `bin_dir` (run by this Python)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, body in (("gcloud", _GCLOUD), ("az", _AZ)):
        path = bin_dir / name
        path.write_text(f"#!{sys.executable}\n{body}")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def calls(log: Path) -> list[list[str]]:
    """Every recorded argv, in order."""
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def environment(bin_dir: Path, store: Path, log: Path) -> dict[str, str]:
    """PATH with the stubs first, and where they keep blobs and their log."""
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "STUB_ROOT": str(store),
            "STUB_LOG": str(log)}
