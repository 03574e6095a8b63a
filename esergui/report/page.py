"""The one-page lesson report (A4, PDF or PNG): who talked and how, the emotion timeline by
role, and the model with its caveat — each figure in plain words with what it means.

Drawn with matplotlib's object API (no pyplot, no global figure state), so it runs headless
and from a worker thread. Content flows down the page; every part has a fixed height, so the
page never overflows whatever the lesson's length.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from esergui import __version__
from esergui.lesson import UNCERTAIN
from esergui.report.palette import ROLE_COLOURS, UNCERTAIN_HATCH, UNCERTAIN_PATTERN, label_colours
from esergui.report.save import output_format, save_figure
from esergui.report.source import ReportLesson
from esergui.report.timeline import (
    Span,
    arousal_handles,
    arousal_sigma_s,
    draw_arousal,
    draw_timeline,
    has_arousal,
    lanes,
    legend_row,
    legend_rows,
)
from esergui.report.wording import (
    arousal_sentence,
    headline,
    key_figures,
    missing,
    model_caveat,
    model_figures,
    uncertain_sentence,
)
from esergui.summary import emotion_by_role

A4_IN = (8.27, 11.69)
REPORT_FORMATS = ("pdf", "png")
GREY = "#555555"
LIGHT = "#888888"
LEFT, RIGHT = 0.075, 0.925


class _Flow:
    """Places text and axes down the page from the top; ``y`` is the next free height
    (figure fraction). Text is wrapped and advanced by its measured size."""

    def __init__(self, fig: MplFigure, top: float = 0.965, scale: float = 1.0) -> None:
        self.fig, self.y, self.scale = fig, top, scale
        self.w_in, self.h_in = fig.get_size_inches()
        self.renderer = FigureCanvasAgg(fig).get_renderer()

    def space(self, points: float, fixed: bool = False) -> None:
        """Move down ``points`` (scaled unless ``fixed``: room for tick labels, which keep their size)."""
        self.y -= points * (1.0 if fixed else self.scale) / 72 / self.h_in

    def _wrap(self, text: str, font: FontProperties, width_px: float) -> list[str]:
        lines: list[str] = []
        for word in text.split():
            trial = f"{lines[-1]} {word}" if lines else word
            if lines and self.renderer.get_text_width_height_descent(trial, font, ismath=False)[0] <= width_px:
                lines[-1] = trial
            else:
                lines.append(word)
        return lines or [""]

    def text(
        self,
        text: str,
        size: float = 9.0,
        colour: str = "black",
        weight: str = "normal",
        style: Literal["normal", "italic", "oblique"] = "normal",
        indent: float = 0.0,
        after: float = 2.0,
    ) -> None:
        font = FontProperties(size=size * self.scale**0.5, weight=weight, style=style)
        width_px = 0.97 * (RIGHT - LEFT - indent) * self.w_in * self.fig.dpi  # hinting differs by resolution
        lines = self._wrap(text, font, width_px)
        artist = self.fig.text(
            LEFT + indent,
            self.y,
            "\n".join(lines),
            fontproperties=font,
            color=colour,
            va="top",
            ha="left",
            linespacing=1.25,
        )
        height_px = artist.get_window_extent(self.renderer).height
        self.y -= height_px / self.fig.dpi / self.h_in
        self.space(after)

    def heading(self, text: str) -> None:
        self.space(6)
        self.text(text, 11.5, weight="bold", after=1)
        self.fig.add_artist(_rule(self.fig, self.y))
        self.space(5)

    def axes(self, height_in: float, left: float = 0.0, right: float = 0.0) -> Axes:
        h = height_in * self.scale / self.h_in
        ax = self.fig.add_axes((LEFT + left, self.y - h, RIGHT - LEFT - left - right, h))
        self.y -= h
        return ax


def elide_middle(text: str, most: int) -> str:
    """``text`` cut to ``most`` characters by an ellipsis in the middle (both ends stay)."""
    if len(text) <= most:
        return text
    head = (most - 1) // 2
    return text[:head] + "…" + text[len(text) - (most - 1 - head) :]


def _rule(fig: MplFigure, y: float) -> Line2D:
    return Line2D([LEFT, RIGHT], [y, y], transform=fig.transFigure, color="#BBBBBB", lw=0.6)


def _date_text(lesson: ReportLesson) -> str:
    if not lesson.date:
        return "date unknown"
    try:
        day = datetime.fromisoformat(lesson.date).strftime("%d %B %Y").lstrip("0")
    except ValueError:
        day = lesson.date
    return f"{day} ({lesson.date_source})" if lesson.date_source else day


def _talk_bar(ax: Axes, legend_ax: Axes, row: Mapping[str, Any]) -> None:
    """One bar: the lesson's time as teacher talk, student talk, talk without a role and
    silence (the summary's percentages of the lesson), with its legend on ``legend_ax``."""
    duration = row["duration_s"] or 1.0
    no_role = row.get("unattributed_talk_s")
    parts = [
        ("teacher", row.get("teacher_talk_pct_lesson"), ROLE_COLOURS["teacher"]),
        ("students", row.get("student_talk_pct_lesson"), ROLE_COLOURS["student"]),
        ("no role", None if no_role is None or missing(no_role) else 100 * no_role / duration, "#999999"),
        ("silence", row.get("silence_pct"), "#E4E4E4"),
    ]
    left, handles = 0.0, []
    for name, pct, colour in parts:
        if pct is None or missing(pct) or pct <= 0:
            continue
        ax.barh(0, pct, left=left, height=0.8, color=colour, edgecolor="white", linewidth=0.8)
        handles.append(Patch(facecolor=colour, label=f"{name} {pct:.0f} %"))
        left += pct
    ax.set_xlim(0, max(100.0, left))
    ax.set_ylim(-0.5, 0.5)
    ax.axis("off")
    legend_row(legend_ax, handles + [Patch(facecolor="none", edgecolor="none", label="of the lesson's time")], 8)


def _shares(ax: Axes, table: pd.DataFrame) -> None:
    """Emotion shares (percent of speech time, :func:`esergui.summary.emotion_by_role`) per
    row of ``table``, as stacked bars; the ``uncertain`` column grey and hatched."""
    colours = dict(zip(table.columns, label_colours(list(table.columns))))  # "uncertain" included
    rows = list(table.index)
    names = {"all": "all speech", "student": "students"}
    for i, role in enumerate(rows):
        left = 0.0
        for label in table.columns:
            pct = float(table.loc[role, label])
            if pct <= 0:
                continue
            uncertain = label == UNCERTAIN
            ax.barh(
                i,
                pct,
                left=left,
                height=0.7,
                color=colours[label],
                hatch=UNCERTAIN_PATTERN if uncertain else None,
                edgecolor=UNCERTAIN_HATCH if uncertain else "white",
                linewidth=0.5,
            )
            if pct >= 9:
                ax.text(
                    left + pct / 2,
                    i,
                    f"{pct:.0f}",
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white" if colours.get(label, "#FFFFFF") in ("#0072B2", "#D55E00", "#000000") else "#222222",
                )
            left += pct
    ax.set_yticks(range(len(rows)), [names.get(r, r) for r in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel("% of the role's speech time", fontsize=7.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


class RenderedPage(NamedTuple):
    """The report as a matplotlib figure, where its content ends (figure fraction from the
    bottom; above :data:`FOOTER_TOP` when everything fits on the page) and how compactly it
    was drawn (one of :data:`COMPACTING`)."""

    figure: MplFigure
    content_bottom: float
    scale: float = 1.0


FOOTER_TOP = 0.035


def render_report(lesson: ReportLesson, summary: Mapping[str, Any] | None = None) -> RenderedPage:
    """The report page (A4 portrait); see :func:`lesson_report`. A lesson with more to show
    (more lanes, longer values) is drawn a little more compactly until it fits."""
    row = dict(summary) if summary is not None else lesson.summary()
    for scale in COMPACTING:
        page = _render(lesson, row, scale)
        if page.content_bottom > FOOTER_TOP:
            break
    return page


#: Scales of plot heights and spacing (fonts by their square root) tried in turn.
COMPACTING = (1.0, 0.95, 0.9, 0.8, 0.7)


def _render(lesson: ReportLesson, row: Mapping[str, Any], scale: float) -> RenderedPage:
    fig = MplFigure(figsize=A4_IN)
    flow = _Flow(fig, scale=scale)
    flow.text("Lesson report", 10, LIGHT, weight="bold", after=1)
    flow.text(elide_middle(lesson.name, 50), 17, weight="bold", after=4)
    flow.text(f"{_date_text(lesson)} · {headline(row)}", 9.5, GREY, after=2)
    _talk_section(flow, lesson, row)
    _emotion_section(flow, lesson, row)
    _model_section(flow, lesson)
    fig.text(
        LEFT,
        0.02,
        f"ESER Studio {__version__} · made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · definitions: docs/REPORT.md",
        fontsize=7,
        color=LIGHT,
        va="bottom",
    )
    return RenderedPage(fig, flow.y, scale)


def _talk_section(flow: _Flow, lesson: ReportLesson, row: Mapping[str, Any]) -> None:
    flow.heading("Who talked, and how the turns went")
    bar = flow.axes(0.2)
    _talk_bar(bar, flow.axes(0.18), row)
    flow.space(6)
    for figure in key_figures(row, lesson.settings.long_wait_s):
        flow.text(figure.title, 9.5, weight="bold", after=0.5)
        flow.text(figure.value[:1].upper() + figure.value[1:], 9, after=0.5)
        flow.text(figure.meaning, 8, GREY, style="italic", after=3.5)


def _emotion_section(flow: _Flow, lesson: ReportLesson, row: Mapping[str, Any]) -> None:
    flow.heading("Emotions over the lesson, by role")
    span = Span.of(lesson) if lesson.duration_s > 0 else Span(0.0, 1.0)
    arousal = has_arousal(lesson)
    flow.space(2)
    timeline = flow.axes(0.26 * min(4, len(lanes(lesson)[0])) + 0.1, left=0.07)
    handles = draw_timeline(timeline, lesson, span, time_label=not arousal)
    if arousal:
        timeline.tick_params(labelbottom=False)
        flow.space(5)
        curve = flow.axes(0.62, left=0.07)
        draw_arousal(curve, lesson, span)
        handles += arousal_handles(curve)
    flow.space(26, fixed=True)  # the time axis' labels
    legend_row(flow.axes(0.18 * legend_rows(handles)), handles)
    flow.space(4)
    flow.text(
        uncertain_sentence(row) + (" " + arousal_sentence(row, arousal_sigma_s(span)) if arousal else ""),
        8,
        GREY,
        style="italic",
    )
    if lesson.labels and lesson.utterances:
        flow.space(3)
        flow.text(
            "Emotions as a share of each role's speech time (from the lesson summary)",
            8.5,
            weight="bold",
            indent=0.07,
            after=1,
        )
        table = emotion_by_role(lesson.utterances, lesson.labels).fillna(0.0)
        rows = [r for r in table.index if r != "all"] or ["all"]
        _shares(flow.axes(0.17 * len(rows) + 0.27, left=0.07), table.loc[rows])
        flow.space(24, fixed=True)


def _model_section(flow: _Flow, lesson: ReportLesson) -> None:
    flow.heading("The emotion model and its limits")
    figures = model_figures(lesson.run)
    if lesson.model_name:
        flow.text(f"Emotions recognised by {lesson.model_name}" + (f": {figures}." if figures else "."), 9, after=2)
    else:
        flow.text("Which model recognised the emotions is not recorded for this lesson.", 9, after=2)
    intro, *bullets = model_caveat()
    flow.text(intro, 7.2, GREY, after=0.5)
    for bullet in bullets:
        flow.text(f"•  {bullet}", 7.2, GREY, indent=0.012, after=0.3)


def lesson_report(
    lesson: ReportLesson,
    summary: Mapping[str, Any] | None,
    out_path: str | Path,
    fmt: str | None = None,
    dpi: int = 150,
) -> Path:
    """Write the one-page report of ``lesson`` to ``out_path`` as ``fmt`` (``"pdf"`` or
    ``"png"``; default: from the file's suffix). ``summary``: the lesson's
    :func:`esergui.summary.lesson_summary` row (``None``: computed from ``lesson``)."""
    kind = output_format(out_path, fmt, REPORT_FORMATS)  # a bad name fails before the rendering
    fig = render_report(lesson, summary).figure
    return save_figure(
        fig,
        out_path,
        kind,
        dpi,
        allowed=REPORT_FORMATS,
        title=f"Lesson report: {lesson.name}",
        subject="ESER Studio lesson report",
    )
