"""A file-system class over a local directory, in `.hm`, that logs every call: fast stand-in for a server."""

from __future__ import annotations

from pathlib import Path

DIRFS = '''
class dirfs(root, log):
  def read(file):
    cat "$root/$file"
  def mkdir(dir):
    echo "mkdir $dir" >> "$log"
    mkdir -p "$root/$dir"
  def exists(file):
    test -e "$root/$file"
  def link(src, dst):
    echo "link $src $dst" >> "$log"
    mkdir -p "$(dirname "$root/$dst")"
    ln -sfn "$root/$src" "$root/$dst"
  def touch(file):
    echo "touch $file" >> "$log"
    mkdir -p "$(dirname "$root/$file")"
    touch "$root/$file"
  def remove(file):
    echo "remove $file" >> "$log"
    rm -rf "$root/$file"
  def upload(src, dst):
    echo "upload $src $dst" >> "$log"
    mkdir -p "$(dirname "$root/$dst")"
    cp -rL "$src" "$root/$dst"
  def download(src, dst):
    echo "download $src $dst" >> "$log"
    mkdir -p "$(dirname "$dst")"
    cp -rL "$root/$src" "$dst"
'''


def dirfs_class(name: str = "dirfs", *, link: bool = True) -> str:
    """The class text, renamed; without `link` if asked (to test the fallback when a file system has none)."""
    text = DIRFS.replace("class dirfs(", f"class {name}(")
    if not link:
        start = text.index("  def link(")
        end = text.index("  def touch(")
        text = text[:start] + text[end:]
    return text


def objects(root: Path, *names: str, cls: str = "dirfs") -> str:
    """`object <name> = <cls>(root=<root>/<name>, log=<root>/<name>.log)` for each name."""
    return "".join(f'object {n} = {cls}(root="{root}/{n}", log="{root}/{n}.log")\n' for n in names)


def calls(root: Path, name: str) -> list[str]:
    """The calls logged by file system `name`, one per line."""
    path = root / f"{name}.log"
    return path.read_text().splitlines() if path.exists() else []
