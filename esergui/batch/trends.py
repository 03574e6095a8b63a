"""Trends across lessons: per teacher (or class, subject...) over the dates of the lessons.

Input: a batch's ``all_summaries.csv`` (one row per lesson, with the manifest's ``teacher``,
``class``, ``date``) and, optionally, its ``all_utterances.parquet``. Output: one row per group
and date (lessons of the same group on the same date are averaged; ``lessons`` counts them)
with the figures of :data:`TREND_FIGURES` that the tables have:

* talk share: ``teacher_talk_pct_speech``, ``student_talk_pct_speech`` (percent of speech time);
* ``student_turns_per_min``;
* wait-time proxies: mean silent gap after a teacher turn before a student turn and vice versa
  (``wait_proxy_*_mean_s``; pause-based proxies, see :mod:`esergui.summary`) and the share of
  such gaps of at least 3 s (``wait_proxy_teacher_to_student_pct_ge_3s``);
* arousal (in [-1, 1]), when the model gives it: ``arousal_mean`` overall and per role, from the
  summaries, or else the speech-time-weighted mean of the utterance rows' ``arousal`` column.

Lessons without a parseable ``date`` are left out of the table (:attr:`Trends.undated` counts
them). :func:`plot_trends` draws one panel per figure, one line per group (matplotlib, no
pyplot and no GUI backend, so it runs headless and inside the app alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from esergui.errors import EserError

#: Trend columns and how a plot names them.
TREND_FIGURES = {
    "teacher_talk_pct_speech": "Teacher talk (% of speech)",
    "student_talk_pct_speech": "Student talk (% of speech)",
    "student_turns_per_min": "Student turns per minute",
    "wait_proxy_teacher_to_student_mean_s": "Gap teacher -> student (s, wait-time proxy)",
    "wait_proxy_student_to_teacher_mean_s": "Gap student -> teacher (s, wait-time proxy)",
    "wait_proxy_teacher_to_student_pct_ge_3s": "Gaps teacher -> student >= 3 s (%)",
    "arousal_mean": "Mean arousal (-1 to 1)",
    "teacher_arousal_mean": "Teacher arousal (-1 to 1)",
    "student_arousal_mean": "Student arousal (-1 to 1)",
}
#: Figures a plot shows (the rest are in the table).
PLOTTED = ("teacher_talk_pct_speech", "student_turns_per_min", "wait_proxy_teacher_to_student_mean_s", "arousal_mean")


class TrendsError(EserError):
    """The tables cannot give trends (no grouping column, no dates)."""


@dataclass
class Trends:
    table: pd.DataFrame  # one row per group and date
    by: str
    undated: int  # lessons left out for want of a date


def _arousal_from_utterances(utterances: pd.DataFrame) -> pd.DataFrame:
    """Per lesson: speech-time-weighted mean arousal, overall and per role."""
    utts = utterances.dropna(subset=["arousal"])
    utts = utts.assign(
        _w=utts["duration_s"].astype(float), _wa=utts["duration_s"].astype(float) * utts["arousal"].astype(float)
    )
    out = pd.DataFrame({"arousal_mean": utts.groupby("lesson")["_wa"].sum() / utts.groupby("lesson")["_w"].sum()})
    if "role" in utts.columns:
        for role in ("teacher", "student"):
            mine = utts[utts["role"] == role].groupby("lesson")
            out[f"{role}_arousal_mean"] = mine["_wa"].sum() / mine["_w"].sum()
    return out.reset_index()


def lesson_trends(summaries: pd.DataFrame, by: str = "teacher", utterances: pd.DataFrame | None = None) -> Trends:
    """The trend table (see the module doc) of a batch's tables, grouped by column ``by``."""
    if by not in summaries.columns:
        raise TrendsError(
            f"the lesson table has no '{by}' column (give it in the manifest; columns: "
            f"{', '.join(c for c in summaries.columns if not c.startswith(('emotion_', 'teacher_', 'student_')))[:200]})"
        )
    if "date" not in summaries.columns:
        raise TrendsError("the lesson table has no 'date' column (give each lesson's date in the manifest)")
    lessons = summaries.copy()
    if utterances is not None and "arousal" in utterances.columns and "arousal_mean" not in lessons.columns:
        lessons = lessons.merge(_arousal_from_utterances(utterances), on="lesson", how="left")
    lessons["date"] = pd.to_datetime(lessons["date"], errors="coerce", format="mixed")
    lessons[by] = lessons[by].fillna("").astype(str).replace("", "(none)")
    dated = lessons.dropna(subset=["date"])
    figures = [c for c in TREND_FIGURES if c in dated.columns]
    grouped = dated.groupby([by, "date"], sort=True)
    table = grouped[figures].mean(numeric_only=True)
    table.insert(0, "lessons", grouped.size())
    table = table.reset_index()
    table["date"] = table["date"].dt.strftime("%Y-%m-%d")
    return Trends(table, by, int(len(lessons) - len(dated)))


def plot_trends(trends: Trends, path: str | Path, figures: tuple[str, ...] = PLOTTED) -> Path:
    """A PNG with one panel per figure (those the table has), one line per group over dates."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    table = trends.table
    shown = [f for f in figures if f in table.columns and table[f].notna().any()]
    if not shown:
        raise TrendsError("there is nothing to plot: no lesson has a date and these figures")
    fig = Figure(figsize=(9, 2.4 * len(shown)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
    dates = pd.to_datetime(table["date"])
    for ax, figure in zip(axes, shown):
        for group, rows in table.assign(_d=dates).groupby(trends.by, sort=True):
            ax.plot(rows["_d"], rows[figure], marker="o", label=str(group))
        ax.set_ylabel(TREND_FIGURES[figure], fontsize=8)
        ax.grid(alpha=0.3)
    locator = AutoDateLocator()
    axes[-1].xaxis.set_major_locator(locator)
    axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes[0].legend(title=trends.by, fontsize=8, loc="best")
    axes[-1].set_xlabel("lesson date")
    fig.suptitle(f"Trends per {trends.by} across lessons")
    from esergui.formats.files import write_atomic

    return write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
