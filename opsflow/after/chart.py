"""The staff summary's chart: how many people were in the meeting over time, as a PNG (matplotlib).

Text is in the mail's language, set in IPAexGothic from the matplotlib-fontja package, so Japanese
renders the same on any machine without a system font.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

log = logging.getLogger("opsflow.after.chart")

# title, x axis, y axis
LABELS = {
    "ja": ("参加者の推移", "時刻", "参加者数 (人)"),
    "en": ("Attendance over time", "Time", "Participants"),
}
FONT_PACKAGE = "matplotlib_fontja"
FONT_FILE = Path("fonts") / "ipaexg.ttf"
FALLBACK_FAMILY = "DejaVu Sans"  # matplotlib's own font, always there


@dataclass(frozen=True)
class Chart:
    """The PNG and the text it shows, read back from the drawn figure."""

    png: bytes
    title: str
    xlabel: str
    ylabel: str
    xticks: tuple[str, ...]
    yticks: tuple[str, ...]
    font: str  # the first font family asked for
    peak: int  # the most people in the meeting at one time


def bundled_font_path() -> Path | None:
    """IPAexGothic inside the installed matplotlib-fontja, or None when the package is missing.

    The package is located, not imported: importing it sets matplotlib's font for the whole process.
    """
    spec = importlib.util.find_spec(FONT_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / FONT_FILE
        if path.is_file():
            return path
    return None


@functools.cache
def _japanese_family() -> str | None:
    """The bundled font registered with matplotlib (once per process); its family name."""
    from matplotlib import font_manager

    path = bundled_font_path()
    if path is None:
        log.warning("matplotlib-fontja is not installed: Japanese text in charts will not render (pip install opsflow)")
        return None
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def font_families(language: str) -> list[str]:
    """Font families in order of preference; the later ones supply glyphs the first lacks."""
    japanese = _japanese_family()
    if japanese is None:
        return [FALLBACK_FAMILY]
    return [japanese, FALLBACK_FAMILY] if language == "ja" else [FALLBACK_FAMILY, japanese]


def attendance_chart(points: list[tuple[datetime, int]], tz: ZoneInfo, language: str = "ja") -> Chart:
    """A small line chart (640x320) of people in the meeting per minute, times in the event's zone,
    labelled in `language` (ja or en; anything else gets English)."""
    import matplotlib

    matplotlib.use("Agg")  # no display; must be chosen before pyplot is imported
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    title, xlabel, ylabel = LABELS.get(language, LABELS["en"])
    families = font_families(language)
    # rc_context: the font and the minus sign only for this figure, nothing left behind in the process
    with matplotlib.rc_context({"font.family": families, "axes.unicode_minus": False}):
        figure, axes = plt.subplots(figsize=(6.4, 3.2), dpi=100)
        try:
            # matplotlib plots datetimes (its date converter), but its stubs only list numeric arrays.
            times = cast("ArrayLike", [t.astimezone(tz).replace(tzinfo=None) for t, _ in points])
            counts = [n for _, n in points]
            axes.fill_between(times, counts, step="post", alpha=0.25, color="#1f6feb")
            axes.step(times, counts, where="post", color="#1f6feb", linewidth=1.5)
            axes.set_title(title, fontsize=10)
            axes.set_xlabel(xlabel)
            axes.set_ylabel(ylabel)
            axes.set_ylim(bottom=0)
            axes.yaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=True))  # whole people
            axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
            axes.grid(True, alpha=0.3)
            figure.tight_layout()
            out = io.BytesIO()
            figure.savefig(out, format="png")  # draws the figure, so the tick labels below are final
            return Chart(
                png=out.getvalue(),
                title=axes.get_title(),
                xlabel=axes.get_xlabel(),
                ylabel=axes.get_ylabel(),
                xticks=_shown_ticks(axes.xaxis, axes.get_xlim()),
                yticks=_shown_ticks(axes.yaxis, axes.get_ylim()),
                font=families[0],
                peak=max(counts, default=0),
            )
        finally:
            plt.close(figure)


def _shown_ticks(axis, limits: tuple[float, float]) -> tuple[str, ...]:
    """The tick labels inside the axis's view (the locator also places some just outside it)."""
    low, high = sorted(limits)
    return tuple(
        label.get_text()
        for where, label in zip(axis.get_majorticklocs(), axis.get_majorticklabels(), strict=True)
        if low <= where <= high
    )
