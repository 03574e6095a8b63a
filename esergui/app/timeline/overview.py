"""The overview timeline: the whole lesson, one lane per role or per speaker, blocks coloured
by emotion (opacity = confidence), a smoothed emotion-share curve, and a region selector that
drives the detail view."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from esergui.app.common.palette import UNCERTAIN_COLOUR, UNKNOWN_COLOUR, label_colours, legend_html
from esergui.app.common.uncertain import probabilities_text, threshold_text, uncertain_rows
from esergui.app.timeline.blocks import BlocksItem, BlockText, confidence_alpha
from esergui.app.timeline.timeaxis import TimeAxisItem, arousal_curve, emotion_curve, lane_layout
from esergui.lesson import UNCERTAIN
from esergui.review.lessondata import LessonData
from esergui.timefmt import format_time

AXIS_WIDTH = 84  # px, shared by every plot so their time axes line up
HINT = "opacity = confidence"
RIGHT_AXIS_WIDTH = 46  # px, the overview's arousal axis (kept empty on the lanes)


def utterance_tooltip(data: LessonData, row: int) -> str:
    """Description of an utterance for tooltips and the status bar (two lines; an uncertain
    one names itself so and lists the model's probabilities)."""
    if not 0 <= row < len(data):
        return ""
    conf = data.confidence[row]
    conf_txt = "" if np.isnan(conf) else f" ({conf:.0%})"
    who = " / ".join(x for x in (str(data.speaker[row]), str(data.role[row])) if x)
    emo = data.label_name(row) or "not recognised"
    if uncertain_rows(data)[row]:
        probs = probabilities_text(data, row)
        emo = f"{UNCERTAIN} ({threshold_text()}): {probs or emo}"
        conf_txt = "" if probs else conf_txt
    return (
        f"{format_time(data.start[row], 1)}–{format_time(data.end[row], 1)}  {who}\n"
        f"{emo}{conf_txt}{'  · annotated' if data.annotated[row] else ''}"
    )


class LegendBar(QWidget):
    """One line of colour swatches naming each emotion and "uncertain" (hatched), and how
    confidence is shown; it wraps onto a second line rather than widen the window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(AXIS_WIDTH, 2, 4, 2)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self._layout.addWidget(self.label, 1)
        self.setToolTip(
            "Emotion colours (Okabe–Ito, colour-blind safe); fainter blocks = lower confidence; "
            f"hatched grey = uncertain ({threshold_text()})"
        )
        self.set_labels([])

    def set_labels(self, labels: list[str]) -> None:
        if labels:
            text = legend_html([*labels, UNCERTAIN], size_pt=14)
        else:
            text = f'<span style="color:{UNKNOWN_COLOUR}; font-size:14pt">■</span>&nbsp;not analysed'
        self.label.setText(f'{text} &nbsp; <span style="color:#808080">{HINT}</span>')


def block_arrays(data: LessonData, lanes: np.ndarray) -> dict:
    """Keyword arguments for :meth:`BlocksItem.set_blocks` from a lesson and its lanes: blocks
    coloured by emotion, the uncertain ones hatched grey, unrecognised ones plain grey."""
    colours = [QColor(c) for c in label_colours(data.labels)] + [QColor(UNKNOWN_COLOUR), QColor(UNCERTAIN_COLOUR)]
    colour_idx = np.where(data.label >= 0, data.label, len(colours) - 2)
    colour_idx = np.where(uncertain_rows(data), len(colours) - 1, colour_idx)
    return dict(
        start=data.start,
        end=data.end,
        lane=lanes,
        colour_idx=colour_idx,
        alpha_idx=confidence_alpha(data.confidence),
        colours=colours,
        extent_s=data.duration_s,
        hatched=len(colours) - 1,
    )


def draw_lanes(
    plot: pg.PlotItem, blocks: BlocksItem, data: LessonData, mode: str, texts: list[BlockText] | None = None
) -> np.ndarray:
    """Fill ``blocks`` with the lesson's utterances in lanes per ``mode`` (role/speaker), name
    the lanes on the plot's left axis; returns the lane of each row."""
    lanes, names = lane_layout(data, mode)
    blocks.set_blocks(
        **block_arrays(data, lanes), n_lanes=len(names), texts=texts, tooltip=lambda row: utterance_tooltip(data, row)
    )
    plot.getAxis("left").setTicks([[(i + 0.5, n) for i, n in enumerate(names)]])
    plot.setYRange(0, len(names), padding=0.02)
    return lanes


class OverviewTimeline(QWidget):
    """Signals: ``regionChanged(t0, t1)`` when the user moves the selector,
    ``utteranceClicked(row)`` for a click on a block, ``timeClicked(t)`` for empty space."""

    regionChanged = Signal(float, float)
    utteranceClicked = Signal(int)
    timeClicked = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = LessonData.empty()
        self.lane_mode = "role"
        self.lanes = np.zeros(0, dtype=int)
        self.legend = LegendBar()
        self.view = pg.GraphicsLayoutWidget()
        self.view.setToolTip(
            "Overview of the whole lesson: drag the shaded region (or its edges) to choose what the detail view shows"
        )
        self.view.ci.setContentsMargins(0, 0, 8, 0)
        self.view.ci.setSpacing(0)
        self.lanes_plot = self.view.addPlot(row=0, col=0, axisItems={"bottom": TimeAxisItem()})
        self.curve_plot = self.view.addPlot(row=1, col=0, axisItems={"bottom": TimeAxisItem()})
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 2)
        for plot in (self.lanes_plot, self.curve_plot):
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.getAxis("left").setWidth(AXIS_WIDTH)
            plot.showAxis("right")  # both, so the two plots' time axes line up
            plot.getAxis("right").setWidth(RIGHT_AXIS_WIDTH)
            plot.getAxis("right").setStyle(showValues=False)
        self.lanes_plot.getAxis("right").setPen(pg.mkPen(None))
        self.lanes_plot.hideAxis("bottom")
        self.lanes_plot.invertY(True)
        self.curve_plot.setXLink(self.lanes_plot)
        self.curve_plot.getAxis("left").setLabel("share")
        self.curve_plot.setYRange(0, 1, padding=0)
        self.curve_plot.getAxis("left").setTicks([[(0, "0"), (0.5, "½"), (1, "1")]])
        self.blocks = BlocksItem(show_text=False)
        self.blocks.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # redrawn only when it changes
        self.blocks.clicked.connect(self.utteranceClicked)
        self.lanes_plot.addItem(self.blocks)
        self.region = pg.LinearRegionItem(
            values=(0, 1), brush=pg.mkBrush(0, 114, 178, 40), pen=pg.mkPen("#0072B2", width=2), swapMode="block"
        )
        self.region.setZValue(10)
        self.region.sigRegionChanged.connect(self._on_region)
        self.lanes_plot.addItem(self.region)
        self.curve_region = pg.LinearRegionItem(
            values=(0, 1), movable=False, brush=pg.mkBrush(0, 114, 178, 30), pen=pg.mkPen(None)
        )
        self.curve_plot.addItem(self.curve_region)
        self.playhead = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#D55E00", width=2))
        self.playhead.setVisible(False)
        self.lanes_plot.addItem(self.playhead)
        self._curve_items: list = []
        self._setting_region = False
        self.lanes_plot.scene().sigMouseClicked.connect(self._on_scene_click)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.legend)
        lay.addWidget(self.view, 1)
        self.setMinimumHeight(170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    # ---------------------------------------------------------------- data
    def set_lesson(self, data: LessonData) -> None:
        self.data = data
        self.legend.set_labels(list(data.labels))
        dur = max(data.duration_s, 1.0)
        self.lanes_plot.setXRange(0, dur, padding=0)
        self.region.setBounds((0, dur))
        self._redraw_lanes()
        self._redraw_curve()

    def recolour(self, data: LessonData, curve: bool = True) -> None:
        """Show ``data``, the same utterances as now with new labels/roles/speakers: redraws the
        blocks (and the emotion curve unless ``curve`` is False), not the legend or the range."""
        self.data = data
        self._redraw_lanes()
        if curve:
            self._redraw_curve()

    def set_lane_mode(self, mode: str) -> None:
        self.lane_mode = mode
        self._redraw_lanes()

    def _redraw_lanes(self) -> None:
        self.lanes = draw_lanes(self.lanes_plot, self.blocks, self.data, self.lane_mode)

    def _redraw_curve(self) -> None:
        for item in self._curve_items:
            self.curve_plot.removeItem(item)
        self._curve_items = []
        data = self.data
        if not len(data.labels) or not (data.label >= 0).any():
            return
        t, shares = emotion_curve(data, step_s=max(2.0, data.duration_s / 1200))  # <= ~1200 points
        cum = np.cumsum(shares, axis=1)
        colours = label_colours(data.labels)
        # Stacked bands: each curve is filled down to 0, the top one first, so every band shows
        # the colour of its own emotion.
        for k in range(len(colours) - 1, -1, -1):
            c = QColor(colours[k])
            c.setAlphaF(0.85)
            curve = pg.PlotCurveItem(t, cum[:, k], pen=pg.mkPen(None), fillLevel=0.0, brush=pg.mkBrush(c))
            curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # the overview's axes never move
            self.curve_plot.addItem(curve)
            self._curve_items.append(curve)
        self.curve_plot.setToolTip("Smoothed share of each emotion over the lesson (±45 s window)")
        self._draw_arousal(data)

    def _draw_arousal(self, data: LessonData) -> None:
        """The smoothed arousal as a black line over the shares, on the right axis (−1 … +1)."""
        t, arousal = arousal_curve(data, step_s=max(2.0, data.duration_s / 1200))
        right = self.curve_plot.getAxis("right")
        right.setStyle(showValues=not np.isnan(arousal).all())
        right.setLabel("arousal" if not np.isnan(arousal).all() else "")
        if np.isnan(arousal).all():
            return
        line = pg.PlotCurveItem(t, (arousal + 1.0) / 2.0, pen=pg.mkPen("#111111", width=2), connect="finite")
        self.curve_plot.addItem(line)
        self._curve_items.append(line)
        right.setTicks([[(0, "−1"), (0.5, "0"), (1, "+1")]])
        self.curve_plot.setToolTip(
            "Smoothed share of each emotion over the lesson (±45 s window); black line: "
            "smoothed arousal from the emotion probabilities (right axis, calm −1 … excited +1)"
        )

    # ------------------------------------------------------------ region
    def set_region(self, t0: float, t1: float) -> None:
        """Move the selector without emitting ``regionChanged``."""
        self._setting_region = True
        try:
            self.region.setRegion((t0, t1))
            self.curve_region.setRegion((t0, t1))
        finally:
            self._setting_region = False

    def _on_region(self) -> None:
        t0, t1 = self.region.getRegion()
        self.curve_region.setRegion((t0, t1))
        if not self._setting_region:
            self.regionChanged.emit(float(t0), float(t1))

    def set_selected_rows(self, rows) -> None:
        self.blocks.set_selected(rows)

    def set_playhead(self, t: float | None) -> None:
        self.playhead.setVisible(t is not None)
        if t is not None:
            self.playhead.setValue(t)

    def _on_scene_click(self, ev) -> None:
        if ev.isAccepted() or ev.button() != Qt.MouseButton.LeftButton:
            return
        vb = self.lanes_plot.vb
        if vb.sceneBoundingRect().contains(ev.scenePos()):
            self.timeClicked.emit(float(vb.mapSceneToView(ev.scenePos()).x()))
