"""End-to-end: `hypermetric report` writes one offline HTML file, and a real browser (headless Chromium, with
the network blocked) draws its task graph, a results table and a chart.

The pipeline has two datasets and two models; `evaluate` writes per-example JSON lines (so the charts carry
bootstrap intervals) and fails for one case, so the report has a failure with its reason and stderr tail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from support import png
from support.project import Project

PIPELINE = """
dataset = {Dataset: nq fiqa}
model = {Model: bm25 dense}

task prepare(dataset=$) -> data:
  echo "$dataset" > $data

task evaluate(data=$prepare.data, model=$) -> scores:
  if [ "$model" = dense ] && grep -q fiqa $data; then echo "dense model ran out of memory" >&2; exit 3; fi
  for i in 1 2 3 4 5; do
    echo "{\\"id\\": \\"q$i\\", \\"ndcg\\": 0.$(( (i * 17 + ${#model} * 7) % 80 + 10 )), \\"recall\\": 0.$(( i * 9 + 30 ))}"
  done > $scores
"""
TARGET = "evaluate[Dataset: *, Model: *]"

# Colours the page must show: the graph's FAILED and COMPLETE status colours (hypermetric/report/palette.py)
# and the first two bar colours of Vega-Lite's default palette (the two models in the chart).
GRAPH_COLORS = ("#d55e00", "#009e73")
CHART_COLORS = ("#4c78a8", "#f58518")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (tests/servers/install.sh installs it)")
    return found


def _browse(tmp_path, page, *flags: str) -> subprocess.CompletedProcess:
    """Chromium, headless and offline: every connection goes to a closed port, every name fails to resolve."""
    args = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--force-device-scale-factor=1", f"--user-data-dir={tmp_path / 'profile'}",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND", *flags, page.as_uri()]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


class _Elements(HTMLParser):
    """Start tags of a DOM dump, with their attributes, and the text inside `<td>` cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_cell = tag == "td"

    def handle_data(self, data):
        if self._in_cell and data.strip():
            self.cells.append(data.strip())

    def having(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.replace("_", "-"), "").split().count(v)
                                                              or a.get(k.replace("_", "-")) == v
                                                              for k, v in attrs.items())]


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> Project:
    """The pipeline, run once for the module's tests (one case fails); the tests only read its jobs."""
    project = Project(tmp_path_factory.mktemp("report"))
    project.write("p.hm", PIPELINE)
    assert project.sh("run", "p.hm", TARGET, "-k", "-s", "--backend", "local").code == 1
    return project


@pytest.fixture(scope="module")
def reported(ran):
    """The report of the run; returns its path."""
    ran.sh("report", "p.hm", TARGET, "-o", "report.html").ok()
    return ran.path("report.html")


def test_report_is_self_contained(reported):
    text = reported.read_text()
    for pattern in (r"<script", r"<link", r"<img", r"<iframe", r"\bsrc\s*=", r"url\((?![\"']?#)", r"@import"):
        assert not re.search(pattern, text, re.I), f"the report loads something: {pattern}"
    external = {m for m in re.findall(r"https?://[^\s\"'<>)]+", text) if not m.startswith("http://www.w3.org/")}
    assert not external, external
    assert "dense model ran out of memory" in text and "exit code 3" in text
    assert "evaluate[Dataset: fiqa, Model: dense]" in text
    # the results table's status column speaks the vocabulary of `dry-run`, and is styled by it
    assert '<td class="key status-FAILED">FAILED</td>' in text and '>COMPLETE</td>' in text


def test_browser_draws_graph_table_and_chart(tmp_path, reported):
    dom = _Elements()
    dom.feed(_browse(tmp_path, reported, "--dump-dom").stdout)
    nodes = {a["data-task"]: a["data-status"] for a in dom.having("g", **{"class": "node"})}
    assert nodes == {"prepare": "COMPLETE", "evaluate": "FAILED"}
    edges = dom.having("path", **{"class": "edge"})
    assert [(e["data-from"], e["data-to"]) for e in edges] == [("prepare", "evaluate")] and edges[0]["d"]
    assert dom.having("table", **{"class": "results"})
    assert {"nq", "fiqa", "bm25", "dense", "q1", "0.5500", "FAILED"} <= set(dom.cells)  # ndcg of q1, bm25
    charts = {a["data-metric"] for a in dom.having("div", **{"class": "chart-box"})}
    assert charts == {"ndcg", "recall"}
    marks = [a.get("aria-roledescription") for a in dom.having("path") if a.get("d")]
    assert marks.count("bar") == 3 * 2, "three cases with values, two charts: six bars"
    whiskers = [a for a in dom.having("line") if a.get("aria-roledescription") == "rule mark" and a.get("y2")]
    assert len(whiskers) == 3 * 2, "and a confidence interval on each bar"

    shot = tmp_path / "shot.png"
    _browse(tmp_path, reported, "--window-size=1280,2200", f"--screenshot={shot}")
    colors = png.colors(shot.read_bytes())
    assert len(colors) > 200, "the screenshot is (nearly) blank"
    for color in GRAPH_COLORS + CHART_COLORS:
        assert colors[color] > 100, f"no {color} drawn: {colors.most_common(12)}"


def test_pivot_and_columns(ran):
    ran.sh("report", "p.hm", TARGET, "-o", "pivot.html", "--pivot", "Model", "-c", "ndcg").ok()
    text = ran.read("pivot.html")
    assert "<caption>ndcg by Model</caption>" in text and "recall" not in text
    assert re.search(r"<th[^>]*>bm25</th><th[^>]*>dense</th>", text)
    assert "over Model" in text, "the charts run over the pivot axis"


def test_outdated_jobs_are_shown_with_their_reason(project):
    project.write("p.hm", PIPELINE)
    project.sh("run", "p.hm", "prepare[Dataset: *]", "-s", "--backend", "local").ok()
    project.write("p.hm", PIPELINE.replace('echo "$dataset" > $data', 'echo "$dataset" | tr a-z a-z > $data'))
    project.sh("report", "p.hm", "prepare[Dataset: *]", "-o", "stale.html").ok()
    stale = project.read("stale.html")
    assert 'data-task="prepare" data-status="OUTDATED"' in stale and "script changed" in stale
    assert '<b>2</b> outdated' in stale
    # their outputs are still read into the results table, whose rows say OUTDATED too
    assert stale.count('<td class="key status-OUTDATED">OUTDATED</td>') == 2


def test_report_never_imports_ray(ran, reported):
    code = ("import sys; from hypermetric.cli.app import main\n"
            "assert main(['report', 'p.hm', 'evaluate[Dataset: *, Model: *]', '-o', 'again.html']) == 0\n"
            "assert 'ray' not in sys.modules, 'report imported ray'\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ran.root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert ran.path("again.html").stat().st_size > 0


@pytest.mark.parametrize(("args", "message"), [
    (("--pivot", "Modle"), "no targeted task has an axis `Modle`"),
    (("--output", "score"), "no targeted task has an output `score`"),
    (("-c", "ndgc"), "no field matches `ndgc`"),
], ids=["pivot", "output", "columns"])
def test_report_user_errors(ran, args, message):
    result = ran.sh("report", "p.hm", TARGET, "-o", "bad.html", *args).user_error()
    assert result.err.startswith("error: ") and message in result.err and "help:" in result.err
    assert not ran.path("bad.html").exists()
