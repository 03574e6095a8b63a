"""A timeline figure for papers: title, labelled axes, legend, nothing interactive; the
whole lesson or a time range; a chosen size (inches or millimetres) and resolution; PNG,
PDF or SVG (text kept as text in PDF and SVG)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure as MplFigure

from esergui.report.save import ReportError, save_figure
from esergui.report.source import ReportLesson
from esergui.report.timeline import Span, arousal_handles, draw_arousal, draw_timeline, has_arousal
from esergui.report.wording import clock

MM_PER_IN = 25.4


@dataclass(frozen=True)
class FigureSize:
    """Width and height in inches."""

    width_in: float
    height_in: float

    @classmethod
    def parse(cls, text: str) -> FigureSize:
        """``"180x60mm"``, ``"7x2.5in"``, ``"7x2.5"`` (inches) -> a size; 1-1000 mm a side."""
        match = re.fullmatch(r"\s*([\d.]+)\s*[x×]\s*([\d.]+)\s*(mm|in|cm)?\s*", text.lower())
        if not match:
            raise ReportError(f"cannot read the size {text!r}: write WIDTHxHEIGHT with mm, cm or in, e.g. 180x60mm")
        try:
            w, h = float(match.group(1)), float(match.group(2))
        except ValueError:
            raise ReportError(f"cannot read the size {text!r}: write WIDTHxHEIGHT, e.g. 180x60mm") from None
        unit = match.group(3) or "in"
        scale = {"mm": 1 / MM_PER_IN, "cm": 10 / MM_PER_IN}.get(unit, 1.0)
        size = cls(w * scale, h * scale)
        if not all(10 / MM_PER_IN <= v <= 1000 / MM_PER_IN for v in (size.width_in, size.height_in)):
            raise ReportError(f"the size {text!r} ({w:g} x {h:g} {unit}) is out of range: each side 10-1000 mm")
        return size


def parse_time(text: str) -> float:
    """``"90"``, ``"1:30"``, ``"1:02:05"``, ``"75.5"`` -> seconds."""
    try:
        parts = [float(p) for p in text.strip().split(":")]
    except ValueError:
        raise ReportError(f"cannot read the time {text!r}: write seconds or m:ss") from None
    if not 1 <= len(parts) <= 3 or any(p < 0 for p in parts):
        raise ReportError(f"cannot read the time {text!r}: write seconds or m:ss")
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return seconds


def render_figure(
    lesson: ReportLesson,
    start_s: float | None = None,
    end_s: float | None = None,
    size: FigureSize = FigureSize(7.0, 2.6),
    title: str | None = None,
    by: str = "role",
    arousal: bool | None = None,
    fontsize: float = 8.0,
) -> MplFigure:
    """The figure (see :func:`figure_export`)."""
    try:
        span = Span.of(lesson, start_s, end_s)
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    with_arousal = has_arousal(lesson) if arousal is None else arousal and has_arousal(lesson)
    fig = MplFigure(figsize=(size.width_in, size.height_in), layout="constrained")
    if with_arousal:
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(1.4, 1))
    else:
        top, bottom = fig.subplots(1, 1), None
    handles = draw_timeline(top, lesson, span, by=by, fontsize=fontsize, time_label=bottom is None)
    if bottom is not None:
        draw_arousal(bottom, lesson, span, fontsize=fontsize)
        handles += arousal_handles(bottom)
    whole = span.start_s <= 0 and span.end_s >= lesson.duration_s
    default = f"{lesson.name}: emotion by {by}" + ("" if whole else f", {clock(span.start_s)}-{clock(span.end_s)}")
    fig.suptitle(default if title is None else title, fontsize=fontsize + 2)
    if handles:
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncol=min(len(handles), 6 if size.width_in >= 6 else 3),
            frameon=False,
            fontsize=fontsize - 0.5,
            handlelength=1.3,
            columnspacing=1.0,
        )
    return fig


def figure_export(
    lesson: ReportLesson,
    out_path: str | Path,
    *,
    start_s: float | None = None,
    end_s: float | None = None,
    size: FigureSize | str = FigureSize(7.0, 2.6),
    dpi: int = 300,
    title: str | None = None,
    by: str = "role",
    arousal: bool | None = None,
    fmt: str | None = None,
) -> Path:
    """Write the emotion timeline of ``lesson`` (lanes ``by`` role or speaker; the arousal
    curve under it when the lesson has one, unless ``arousal=False``) for ``start_s``-``end_s``
    (default: the whole lesson) at ``size`` (a :class:`FigureSize` or ``"180x60mm"``) and
    ``dpi`` to ``out_path`` (PNG, PDF or SVG, from the suffix unless ``fmt``). ``title``:
    ``None`` for "<lesson>: emotion by role[, range]", ``""`` for none."""
    if isinstance(size, str):
        size = FigureSize.parse(size)
    fig = render_figure(lesson, start_s, end_s, size, title, by, arousal)
    return save_figure(fig, out_path, fmt, dpi, title=title or lesson.name)
