"""The summary panel: key figures of the current lesson (talk time, turns, wait-time proxies,
uncertain and low-confidence shares, mean arousal) from :mod:`esergui.summary`, a legend of the
emotion colours, emotion shares per role as stacked bars, and emotions per 5-minute bin
("uncertain" hatched grey: below :data:`esergui.lesson.CONFIDENCE_THRESHOLD` a model label counts
as uncertain, never as its class). Recomputed whenever the current lesson changes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from esergui import summary
from esergui.app.common.palette import label_colours, legend_html, uncertain_brush
from esergui.app.common.uncertain import threshold_text
from esergui.lesson import UNCERTAIN, Utterance
from esergui.review.lessondata import LessonData
from esergui.timefmt import format_time

# (label, column, kind, tooltip)
FIGURES = (
    ("Lesson length", "duration_s", "time", "Length of the recording"),
    ("Speech", "speech_pct", "pct", "Share of the lesson in which someone speaks"),
    ("Utterances", "utterances", "int", "Number of utterances"),
    ("Teacher talk", "teacher_talk_pct_speech", "pct", "Teacher's share of all speech time"),
    ("Student talk", "student_talk_pct_speech", "pct", "Students' share of all speech time"),
    ("Teacher turns", "teacher_turns", "int", "Turns of the teacher (consecutive utterances of one speaker)"),
    ("Student turns", "student_turns", "int", "Turns of students"),
    ("Student turns / min", "student_turns_per_min", "float", "Student turns per minute of lesson"),
    ("Longest teacher monologue", "longest_teacher_monologue_s", "time", "Longest uninterrupted teacher turn"),
    (
        "Wait after teacher (median)",
        "wait_proxy_teacher_to_student_median_s",
        "sec",
        "Wait-time proxy: median silence between the end of a teacher turn and a student's reply",
    ),
    (
        "Wait after student (median)",
        "wait_proxy_student_to_teacher_median_s",
        "sec",
        "Wait-time proxy: median silence between a student turn and the teacher's next turn",
    ),
    (
        "Teacher waits ≥ 3 s",
        "wait_proxy_teacher_to_student_pct_ge_3s",
        "pct",
        "Share of teacher→student transitions with at least 3 s of silence (Rowe's threshold)",
    ),
    (
        "Uncertain",
        f"emotion_{UNCERTAIN}_pct",
        "pct",
        f"Share of speech time whose model label is {threshold_text()}: counted as uncertain, not as an emotion",
    ),
    ("Low confidence", "low_confidence_pct", "pct", f"Utterances whose model confidence is {threshold_text()}"),
    (
        "Arousal (mean, −1…1)",
        "arousal_mean",
        "signed",
        "Speech-time-weighted mean arousal from the emotion probabilities (calm −1 … excited +1)",
    ),
    ("Teacher arousal", "teacher_arousal_mean", "signed", "Mean arousal of teacher talk (−1 … +1)"),
    ("Student arousal", "student_arousal_mean", "signed", "Mean arousal of student talk (−1 … +1)"),
    ("Reviewed", "reviewed_pct", "pct", "Utterances a person marked as reviewed"),
)


def _fmt(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "time":
        return format_time(value)
    if kind == "pct":
        return f"{value:.0f} %"
    if kind == "sec":
        return f"{value:.1f} s"
    if kind == "float":
        return f"{value:.2f}"
    if kind == "signed":
        return f"{value:+.2f}"
    return f"{int(value)}"


def records_of(data: LessonData) -> list[Utterance]:
    """The lesson's :class:`Utterance` records (kept by the adapter), or ones built from columns."""
    recs = data.extra.get("records")
    if recs is not None:
        return list(recs)
    out = []
    for i in range(len(data)):
        c = float(data.confidence[i])
        out.append(
            Utterance(
                float(data.start[i]),
                float(data.end[i]),
                speaker=str(data.speaker[i]) or None,
                role=str(data.role[i]) or None,
                emotion=data.label_name(i) or None,
                confidence=None if math.isnan(c) else c,
                id=int(data.ids[i]),
            )
        )
    return out


class StackedBars(pg.PlotWidget):
    """Stacked bars of percentages: ``set_data(categories, labels, values (n_cat, n_labels))``."""

    def __init__(self, horizontal: bool, title: str, parent=None) -> None:
        super().__init__(parent)
        self.horizontal = horizontal
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setTitle(title, size="10pt")
        self.setMinimumHeight(140)
        self.getAxis("left").setWidth(60)
        self.getPlotItem().layout.setContentsMargins(2, 2, 8, 2)
        self.last: tuple | None = None

    def copy(self) -> StackedBars:
        """A new, unparented plot with the same title and data (for exporting at another size)."""
        other = StackedBars(self.horizontal, self.getPlotItem().titleLabel.text)
        if self.last is not None:
            other.set_data(*self.last)
        return other

    def set_data(self, categories: Sequence[str], labels: Sequence[str], values: np.ndarray) -> None:
        self.last = (list(categories), list(labels), np.asarray(values))
        self.clear()
        values = np.nan_to_num(np.asarray(values, dtype=float).reshape(len(categories), len(labels)))
        colours = label_colours(labels)
        pos = np.arange(len(categories))
        base = np.zeros(len(categories))
        for k, colour in enumerate(colours):
            v = values[:, k]
            brushes = [colour, uncertain_brush()] if labels[k] == UNCERTAIN else [colour]  # hatched over grey
            for brush in brushes:
                if self.horizontal:
                    item = pg.BarGraphItem(x0=base, y=pos, width=v, height=0.7, brush=brush, pen=pg.mkPen(None))
                else:
                    item = pg.BarGraphItem(x=pos, y0=base, height=v, width=0.8, brush=brush, pen=pg.mkPen(None))
                self.addItem(item)
            base = base + v
        ticks = [[(float(i), c) for i, c in enumerate(categories)]]
        if self.horizontal:
            self.getAxis("left").setTicks(ticks)
            self.setXRange(0, 100, padding=0.01)
            self.setYRange(-0.5, max(0.5, len(categories) - 0.5), padding=0.05)
            self.getPlotItem().invertY(True)
            self.setLabel("bottom", "% of speech time")
        else:
            step = max(1, int(np.ceil(len(categories) / 8)))
            self.getAxis("bottom").setTicks([ticks[0][::step]])
            self.setYRange(0, 100, padding=0.01)
            self.setXRange(-0.5, max(0.5, len(categories) - 0.5), padding=0.02)
            self.setLabel("left", "%")


class SummaryPanel(QScrollArea):
    """Figures and plots of one lesson. ``set_lesson(data)`` recomputes everything."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        inner = QWidget()
        self.setWidget(inner)
        self.title = QLabel("No lesson")
        self.title.setStyleSheet("font-weight: bold;")
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setToolTip(f"Emotion colours of the bars; hatched grey: the model's label is {threshold_text()}")
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        self.values: dict[str, QLabel] = {}
        for i, (label, column, _, tip) in enumerate(FIGURES):
            name = QLabel(label)
            name.setToolTip(tip)
            value = QLabel("–")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setToolTip(tip)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(name, i, 0)
            grid.addWidget(value, i, 1)
            self.values[column] = value
        self.by_role = StackedBars(True, "Emotions per role")
        self.by_role.setToolTip("Share of each role's speech time per emotion (human labels where set)")
        self.by_bin = StackedBars(False, "Emotions per 5-minute bin")
        self.by_bin.setToolTip("Share of speech time per emotion in each 5-minute stretch of the lesson")
        lay = QVBoxLayout(inner)
        lay.addWidget(self.title)
        lay.addLayout(grid)
        lay.addWidget(self.legend)
        lay.addWidget(self.by_role)
        lay.addWidget(self.by_bin)
        lay.addStretch(1)
        self.row: dict[str, Any] = {}

    def set_lesson(self, data: LessonData) -> None:
        recs = records_of(data)
        labels = list(data.labels)
        self.title.setText(data.name or "No lesson")
        self.row = summary.lesson_summary(recs, data.duration_s, labels, lesson=data.name)
        for _, column, kind, _ in FIGURES:
            self.values[column].setText(_fmt(self.row.get(column), kind))
        by_role = summary.emotion_by_role(recs, labels)
        all_labels = list(by_role.columns)
        self.legend.setText(legend_html(all_labels) or "No emotions yet: analyse the lesson")
        self.by_role.set_data(list(by_role.index), all_labels, by_role.to_numpy())
        bins = summary.binned(recs, data.duration_s, labels)
        cats = [format_time(a) for a in bins["bin_start_s"]]
        cols = [f"emotion_{lab}_pct" for lab in all_labels]
        vals = bins[cols].to_numpy() if all(c in bins for c in cols) else np.zeros((len(cats), len(all_labels)))
        self.by_bin.set_data(cats, all_labels, vals)
