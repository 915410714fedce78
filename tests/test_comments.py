"""Comments explain themselves: none cites a decision number (`D25`) or a section (`§5.8`) of a document that
is not in the repository, nor a bare checklist item (`# 37`). The language and the deliberate differences from
HyperMake are documented in docs/language.md, which the README links."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# `D25`, `D3b`, `§5.8`, `conformance 44`, and comments made only of item numbers: `# 37`, `# (45)`, `# 38, 40`.
CITATION = re.compile(r"\bD[0-9]{1,2}b?\b|§\s?[0-9]|\bconformance [0-9]")
NUMBERS_ONLY = re.compile(r"^#\s*\(?[0-9]{1,2}\)?(\s*,\s*[0-9]{1,2})*\s*$")


def citations_in_python(text: str) -> list[tuple[int, str]]:
    """(line, text) of each comment or docstring that cites an outside document."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT and (CITATION.search(token.string) or NUMBERS_ONLY.match(token.string)):
            found.append((token.start[0], token.string))
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc and CITATION.search(doc):
                line = node.body[0].lineno if node.body else 1
                found.append((line, CITATION.search(doc).group(0)))  # type: ignore[union-attr]
    return found


def citations_in_comment_lines(text: str, marks: tuple[str, ...]) -> list[tuple[int, str]]:
    """For `.hm` and `.lark` files: comment lines (after `#` or `//`) that cite an outside document."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for mark in marks:
            _, sep, comment = line.partition(mark)
            if sep and (CITATION.search(comment) or NUMBERS_ONLY.match(f"#{comment}")):
                found.append((number, line.strip()))
    return found


def _files(*patterns: str) -> list[Path]:
    skip = {".venv", "out", "__pycache__", ".git"}
    return sorted(p for pattern in patterns for p in ROOT.glob(pattern) if not skip & set(p.relative_to(ROOT).parts))


# This file is left out: it spells the patterns it looks for.
PYTHON = [p for p in _files("hypermetric/**/*.py", "tests/**/*.py", "examples/**/*.py") if p != Path(__file__)]


@pytest.mark.parametrize("path", PYTHON, ids=[str(p.relative_to(ROOT)) for p in PYTHON])
def test_python_comments_cite_nothing_outside_the_repository(path: Path) -> None:
    assert citations_in_python(path.read_text(encoding="utf-8")) == []


def test_grammar_and_library_comments_cite_nothing() -> None:
    found = {}
    for path in _files("grammar/*.lark", "stdlib/*.hm", "examples/**/*.hm"):
        marks = ("//",) if path.suffix == ".lark" else ("#",)
        hits = citations_in_comment_lines(path.read_text(encoding="utf-8"), marks)
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    assert found == {}


def test_documents_cite_nothing_and_the_readme_links_the_language_reference() -> None:
    for path in _files("README.md", "docs/*.md", "examples/*/README.md"):
        text = path.read_text(encoding="utf-8")
        assert not CITATION.search(text), (path, CITATION.search(text))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/language.md" in readme
    language = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    assert "## Deliberate differences from HyperMake" in language


@pytest.mark.parametrize("source", [
    'def f():\n    """Ready jobs in id order (D24)."""\n',
    "x = 1  # see §5.8\n",
    "def test_x():  # 37\n    pass\n",
    "def test_y():  # 38, 40\n    pass\n",
    '"""Cases (conformance 44-47)."""\n',
    "y = 2  # (45)\n",
])
def test_the_check_finds_each_kind_of_citation(source: str) -> None:
    assert citations_in_python(source)


@pytest.mark.parametrize("source", [
    "x = 1  # keys sorted so that the text is the same on every run\n",
    "s = 'D2 is a string, not a comment'\n",
    "sha = 'md5'  # 32 hex digits\n",
    "# sacrebleu's tests (its example from issue #98)\n",
])
def test_the_check_leaves_explanations_alone(source: str) -> None:
    assert citations_in_python(source) == []
