"""The report's colours for job statuses, shared by the task graph, the summary and the charts."""

from __future__ import annotations

# Colour-blind-safe hues (Okabe-Ito), one per status of the vocabulary in store/status.py.
STATUS_COLORS = {
    "COMPLETE": "#009e73",
    "SUCCESS": "#009e73",
    "FAILED": "#d55e00",
    "OUTDATED": "#e69f00",
    "PENDING": "#7f8c9a",
    "WAITING": "#7f8c9a",
    "RUNNING": "#0072b2",
    "SKIPPED": "#b8c0cc",
}
STATUS_ORDER = ("COMPLETE", "SUCCESS", "OUTDATED", "RUNNING", "WAITING", "PENDING", "SKIPPED", "FAILED")


def tint(color: str, amount: float = 0.82) -> str:
    """`color` mixed with white (`amount` of white): a pale fill that keeps dark text readable."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    mix = [round(c + (255 - c) * amount) for c in (r, g, b)]
    return "#" + "".join(f"{c:02x}" for c in mix)
