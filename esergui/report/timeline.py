"""The emotion timeline by role (or speaker) drawn with matplotlib, for the one-page report
and the figure export: one lane per role, one block per utterance in its emotion's colour,
"uncertain" utterances grey and hatched, an arousal curve below when the model gives one.

Drawing only: which utterances are uncertain and every share come from :mod:`esergui.summary`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MultipleLocator

from esergui.lesson import ROLES, Utterance
from esergui.report.palette import (
    ROLE_COLOURS,
    UNCERTAIN_COLOUR,
    UNCERTAIN_HATCH,
    UNCERTAIN_PATTERN,
    UNKNOWN_COLOUR,
    label_colours,
    role_colour,
)
from esergui.report.source import ReportLesson
from esergui.report.wording import clock

NO_ROLE = "no role"
#: Round tick steps (seconds) for a time axis.
TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


@dataclass(frozen=True)
class Span:
    """The part of the lesson to draw, seconds."""

    start_s: float
    end_s: float

    @classmethod
    def of(cls, lesson: ReportLesson, start_s: float | None = None, end_s: float | None = None) -> Span:
        a = 0.0 if start_s is None else max(0.0, float(start_s))
        b = lesson.duration_s if end_s is None else min(float(end_s), max(lesson.duration_s, float(end_s)))
        if not b > a:
            raise ValueError(f"the time range {clock(a)}-{clock(b)} is empty")
        return cls(a, b)

    def holds(self, u: Utterance) -> bool:
        return u.end_s > self.start_s and u.start_s < self.end_s


def tick_step(length_s: float, most: int = 10) -> float:
    """The smallest round step that gives at most ``most`` ticks over ``length_s`` seconds."""
    return next((s for s in TICK_STEPS_S if length_s / s <= most), TICK_STEPS_S[-1])


def time_axis(ax: Axes, span: Span, label: bool = True, fontsize: float = 8) -> None:
    """Round m:ss ticks over ``span`` on the x axis of ``ax``."""
    ax.set_xlim(span.start_s, span.end_s)
    ax.xaxis.set_major_locator(MultipleLocator(tick_step(span.end_s - span.start_s)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: clock(v)))
    ax.tick_params(axis="both", labelsize=fontsize)
    if label:
        ax.set_xlabel("time in the lesson (min:s)", fontsize=fontsize)


def lanes(lesson: ReportLesson, by: str = "role") -> tuple[list[str], list[str]]:
    """``(lane keys, lane names)``, top first: the roles present (teacher first), or the
    speakers (by the role of their first utterance, then by label); plus a no-role lane when
    some utterance has none."""
    utts = lesson.utterances
    if by == "speaker":
        first_role: dict[str, str] = {}
        for u in sorted(utts, key=lambda u: u.start_s):
            if u.final_speaker and u.final_speaker not in first_role:
                first_role[u.final_speaker] = u.final_role or ""
        order = {r: i for i, r in enumerate(ROLES)}
        keys = sorted(first_role, key=lambda s: (order.get(first_role[s], len(ROLES)), s))
        names = [lesson.speaker_names.get(k, k) for k in keys]
        if any(not u.final_speaker for u in utts):
            keys, names = keys + [""], names + ["no speaker"]
        return keys, names
    if by != "role":
        raise ValueError(f"lanes by {by!r}: use role or speaker")
    keys = [r for r in ROLES if any(u.final_role == r for u in utts)]
    keys += sorted({u.final_role for u in utts if u.final_role and u.final_role not in ROLES})
    names = [("students" if k == "student" else k) for k in keys]
    if any(not u.final_role for u in utts) or not keys:
        keys, names = keys + [""], names + [NO_ROLE]
    return keys, names


def block_colour(u: Utterance, colours: dict[str, str], threshold: float) -> str:
    """The fill of one utterance: its emotion's colour, grey when uncertain, light grey when
    it has no emotion."""
    if u.is_uncertain(threshold):
        return UNCERTAIN_COLOUR
    return colours.get(u.final_emotion or "", UNKNOWN_COLOUR)


def draw_timeline(
    ax: Axes, lesson: ReportLesson, span: Span, by: str = "role", fontsize: float = 8, time_label: bool = True
) -> list[Artist]:
    """Draw the lanes on ``ax``; returns legend handles for what was drawn (emotions in the
    model's order, then "uncertain" and "no emotion" where present)."""
    keys, names = lanes(lesson, by)
    colours = dict(zip(lesson.labels, label_colours(lesson.labels)))
    threshold = lesson.settings.low_confidence
    shown = [u for u in lesson.utterances if span.holds(u)]
    used: set[str] = set()
    for lane, key in enumerate(keys):
        mine = [u for u in shown if ((u.final_speaker or "") if by == "speaker" else (u.final_role or "")) == key]
        groups: dict[str, list[tuple[float, float]]] = {}
        for u in mine:
            fill = block_colour(u, colours, threshold)
            groups.setdefault(fill, []).append((u.start_s, u.duration_s))
            used.add(fill)
        for fill, bars in groups.items():
            uncertain = fill == UNCERTAIN_COLOUR
            ax.broken_barh(
                bars,
                (lane - 0.38, 0.76),
                facecolors=fill,
                edgecolors=UNCERTAIN_HATCH if uncertain else "none",
                linewidth=0.3,
                hatch=UNCERTAIN_PATTERN if uncertain else None,
            )
    ax.set_ylim(len(keys) - 0.5, -0.5)
    ax.set_yticks(range(len(keys)), names, fontsize=fontsize)
    for lane, key in enumerate(keys):
        if key in ROLE_COLOURS:
            ax.get_yticklabels()[lane].set_color(role_colour(key))
    time_axis(ax, span, time_label, fontsize)
    ax.grid(axis="x", color="#E5E5E5", linewidth=0.5)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles: list[Artist] = [
        Patch(facecolor=colours[label], label=label) for label in lesson.labels if colours[label] in used
    ]
    if UNCERTAIN_COLOUR in used:
        handles.append(
            Patch(
                facecolor=UNCERTAIN_COLOUR,
                edgecolor=UNCERTAIN_HATCH,
                hatch=UNCERTAIN_PATTERN,
                linewidth=0.3,
                label=f"uncertain (< {100 * threshold:.0f} %)",
            )
        )
    if UNKNOWN_COLOUR in used:
        handles.append(Patch(facecolor=UNKNOWN_COLOUR, label="no emotion"))
    return handles


def has_arousal(lesson: ReportLesson) -> bool:
    """True when some utterance has an arousal value (from the model's probabilities or a
    person's label, :attr:`esergui.lesson.Utterance.arousal`)."""
    return any(_arousal(u) is not None for u in lesson.utterances)


def _arousal(u: Utterance) -> float | None:
    value = getattr(u, "arousal", None)
    return None if value is None or math.isnan(value) else float(value)


def arousal_sigma_s(span: Span) -> float:
    """How many seconds the arousal curve is smoothed over: 20 s, more for a long span (a
    sixtieth of it), so a whole lesson shows its course rather than each utterance."""
    return max(20.0, round((span.end_s - span.start_s) / 60 / 5) * 5)


def draw_arousal(ax: Axes, lesson: ReportLesson, span: Span, fontsize: float = 8, time_label: bool = True) -> None:
    """Arousal (-1 calm .. +1 activated) per role: each utterance's value as a dot at its
    middle, and a curve smoothed over :func:`arousal_sigma_s` (weighted by utterance length)."""
    sigma_s = arousal_sigma_s(span)
    keys, names = lanes(lesson, "role")
    values = [_arousal(u) for u in lesson.utterances]
    for key, name in zip(keys, names):
        pts = [(u, v) for u, v in zip(lesson.utterances, values) if v is not None and (u.final_role or "") == key]
        if not pts:
            continue
        colour = role_colour(key) if key else "#666666"
        mid = np.array([(u.start_s + u.end_s) / 2 for u, _ in pts])
        val = np.array([v for _, v in pts])
        weight = np.array([u.duration_s for u, _ in pts])
        grid = np.linspace(span.start_s, span.end_s, 400)
        kernel = np.exp(-0.5 * ((grid[:, None] - mid[None, :]) / sigma_s) ** 2) * weight[None, :]
        total = kernel.sum(axis=1)
        curve = np.where(total > 1e-3 * weight.max(), kernel @ val / np.maximum(total, 1e-12), np.nan)
        inside = (mid >= span.start_s) & (mid <= span.end_s)
        ax.plot(mid[inside], val[inside], "o", ms=1.8, color=colour, alpha=0.45, markeredgewidth=0)
        ax.plot(grid, curve, "-", lw=1.2, color=colour, label=name)
    ax.set_ylim(-1.08, 1.08)
    ax.set_yticks([-1, 0, 1], ["calm", "0", "activated"], fontsize=fontsize)
    ax.axhline(0, color="#BBBBBB", lw=0.5)
    ax.set_ylabel("arousal", fontsize=fontsize)
    time_axis(ax, span, time_label, fontsize)
    ax.grid(axis="x", color="#E5E5E5", linewidth=0.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def arousal_handles(ax: Axes) -> list[Artist]:
    """Legend handles for the arousal curves drawn on ``ax`` by :func:`draw_arousal`."""
    return [
        Line2D([], [], color=line.get_color(), lw=1.2, label=f"arousal, {line.get_label()}")
        for line in ax.get_lines()
        if not str(line.get_label()).startswith("_")
    ]


def legend_rows(handles: Sequence[Any], columns: int = 6) -> int:
    """How many rows :func:`legend_row` needs."""
    return max(1, -(-len(handles) // columns))


def legend_row(ax: Axes, handles: Sequence[Any], fontsize: float = 7.5, columns: int = 6) -> None:
    """``handles`` as a borderless legend filling ``ax`` (an axes of its own, so it never
    covers a plot's labels)."""
    ax.axis("off")
    if handles:
        ax.legend(
            handles=list(handles),
            loc="center",
            ncol=min(len(handles), columns),
            frameon=False,
            fontsize=fontsize,
            handlelength=1.4,
            columnspacing=1.2,
        )
