"""The staff summary's chart: how many people were in the meeting over time, as a PNG (matplotlib)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def attendance_chart(points: list[tuple[datetime, int]], tz: ZoneInfo, title: str = "") -> bytes:
    """A small line chart (640x320) of people in the meeting per minute, times in the event's zone."""
    import matplotlib

    matplotlib.use("Agg")  # no display; must be chosen before pyplot is imported
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 3.2), dpi=100)
    try:
        # matplotlib plots datetimes (its date converter), but its stubs only list numeric arrays.
        times = cast("ArrayLike", [t.astimezone(tz).replace(tzinfo=None) for t, _ in points])
        axes.fill_between(times, [n for _, n in points], step="post", alpha=0.25, color="#1f6feb")
        axes.step(times, [n for _, n in points], where="post", color="#1f6feb", linewidth=1.5)
        axes.set_ylabel("participants")
        axes.set_ylim(bottom=0)
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
        axes.grid(True, alpha=0.3)
        if title:
            axes.set_title(title, fontsize=10)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(figure)
