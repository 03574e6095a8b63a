"""Editing on the timelines: drag the selected utterance's edges (snapping to quiet points),
Shift+drag to mark a range (on an empty lane: a new utterance at once), right-click menus.

Nothing here edits the timeline widgets' code: the items are added to their plots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtWidgets import QGraphicsItem

from esergui.app.timeline.timeaxis import lane_layout
from esergui.lesson import ROLES
from esergui.timefmt import format_time

if TYPE_CHECKING:
    from esergui.app.annotation.controller import AnnotationController
    from esergui.app.timeline.detail import DetailView
    from esergui.app.timeline.overview import OverviewTimeline

EDGE_PEN = pg.mkPen("#CC4400", width=3)
EDGE_HOVER = pg.mkPen("#FF6A00", width=5)
MARK_BRUSH = pg.mkBrush(0, 158, 115, 60)  # bluish green, translucent
MIN_LEN_S = 0.05


class RangeDragItem(pg.GraphicsObject):
    """An invisible item under everything in a plot: Shift+drag marks a time range; any other
    drag is left to the plot (it scrolls)."""

    def __init__(self, editor: TimelineEditor, plot: Any) -> None:
        super().__init__()
        self.editor = editor
        self.plot = plot
        self.setZValue(25)  # above the blocks (which take clicks, not drags), below the edge handles
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)
        self._start: tuple[float, float] | None = None

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return QRectF(-1e5, -1e5, 4e5, 2e5)

    def paint(self, *args) -> None:
        pass

    def mouseDragEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph API)
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            if not ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                ev.ignore()
                return
            p = ev.buttonDownPos()
            self._start = (float(p.x()), float(p.y()))
        if self._start is None:
            ev.ignore()
            return
        ev.accept()
        x = float(ev.pos().x())
        self.editor.show_mark(self._start[0], x)
        if ev.isFinish():
            start, self._start = self._start, None
            self.editor.drag_finished(self.plot, start, x)


class TimelineEditor:
    """Edge handles for the selected utterance, range marking and context menus on the
    window's detail view and overview."""

    def __init__(
        self, controller: AnnotationController, detail: DetailView, overview: OverviewTimeline | None = None
    ) -> None:
        self.c = controller
        self.detail = detail
        self.overview = overview
        self.uid: int | None = None
        self.edges: list[tuple[pg.InfiniteLine, pg.InfiniteLine]] = []
        for plot in (detail.lanes_plot, detail.wave_plot):
            pair = []
            for which in ("start", "end"):
                line = pg.InfiniteLine(angle=90, movable=True, pen=EDGE_PEN, hoverPen=EDGE_HOVER)
                line.setZValue(30)
                line.setVisible(False)
                line.setToolTip(f"Drag to move the utterance's {which} (snaps to a quiet point when close)")
                line.sigDragged.connect(self._dragged)
                line.sigPositionChangeFinished.connect(self._drag_done)
                plot.addItem(line, ignoreBounds=True)
                pair.append(line)
            self.edges.append((pair[0], pair[1]))
        self.marks: list[pg.LinearRegionItem] = []
        self.drag_items: list[RangeDragItem] = []
        for plot in detail.plots:
            mark = pg.LinearRegionItem(values=(0, 0), movable=False, brush=MARK_BRUSH, pen=pg.mkPen("#009E73", width=1))
            mark.setZValue(15)  # over the spectrogram image and the blocks, under the handles
            mark.setVisible(False)
            plot.addItem(mark, ignoreBounds=True)
            self.marks.append(mark)
            item = RangeDragItem(self, plot)
            plot.addItem(item, ignoreBounds=True)
            self.drag_items.append(item)
        detail.view.scene().sigMouseClicked.connect(lambda ev: self._scene_click(ev, detail.lanes_plot, detail.blocks))
        if overview is not None:
            overview.view.scene().sigMouseClicked.connect(
                lambda ev: self._scene_click(ev, overview.lanes_plot, overview.blocks)
            )
        controller.selection.utterancesSelected.connect(lambda ids, src: self.update_edges())
        controller.lessonShown.connect(lambda data: self.update_edges())
        controller.rangeMarked.connect(self._on_marked)
        self._syncing = False

    # ------------------------------------------------------------------ edges
    def update_edges(self) -> None:
        c = self.c
        rows = c.selection.rows()
        show = len(rows) == 1 and c.editable(quiet=True)
        self.uid = int(c.data.ids[rows[0]]) if show else None
        if show:
            a, b = float(c.data.start[rows[0]]), float(c.data.end[rows[0]])
            dur = c.data.duration_s
        self._syncing = True
        for start, end in self.edges:
            for line in (start, end):
                line.setVisible(show)
            if show:
                start.setBounds((0.0, b - MIN_LEN_S))
                end.setBounds((a + MIN_LEN_S, max(dur, b)))
                start.setValue(a)
                end.setValue(b)
        self._syncing = False

    def _dragged(self, line: pg.InfiniteLine) -> None:
        if self._syncing:
            return
        self._syncing = True
        for pair in self.edges:
            for k, twin in enumerate(pair):
                for other in self.edges:
                    if other[k] is line and twin is not line:
                        twin.setValue(line.value())
        self._syncing = False
        self.c.message.emit(
            f"Edge at {format_time(float(line.value()), 2)}: release to set it (snaps to a quiet point)"
        )

    def _drag_done(self, line: pg.InfiniteLine) -> None:
        if self.uid is None or self._syncing:
            return
        start, end = self.edges[0]
        for pair in self.edges:
            if line in pair:
                start, end = pair
        self.c.move_edges(self.uid, float(start.value()), float(end.value()), snap=True)

    # ------------------------------------------------------------------ marking
    def show_mark(self, a: float, b: float) -> None:
        lo, hi = sorted((a, b))
        for mark in self.marks:
            mark.setRegion((lo, hi))
            mark.setVisible(True)

    def _on_marked(self, span) -> None:
        if span is None:
            for mark in self.marks:
                mark.setVisible(False)
        else:
            self.show_mark(*span)

    def drag_finished(self, plot: Any, start: tuple[float, float], x_end: float) -> None:
        a, b = sorted((start[0], x_end))
        dur = self.c.data.duration_s
        a, b = max(0.0, a), min(dur, b)
        if b - a < MIN_LEN_S:
            self.c.marked_range = None
            self._on_marked(None)
            return
        self.c.mark_range(a, b)
        if plot is self.detail.lanes_plot and self.detail.blocks.row_at(start[0], start[1]) < 0:
            role, speaker = self.lane_identity(start[1])
            self.c.create(a, b, role=role, speaker=speaker)

    def lane_identity(self, y: float) -> tuple[str | None, str | None]:
        """``(role, speaker label)`` of the detail lane at ``y`` (data coordinates)."""
        data = self.c.data
        _, names = lane_layout(data, self.detail.lane_mode)
        k = int(np.floor(y))
        if not 0 <= k < len(names):
            return None, None
        name = names[k]
        if self.detail.lane_mode == "speaker":
            for s in self.c.speakers():
                if s.name == name or s.label == name:
                    return None, s.label
            return None, None
        return (name if name in ROLES else None), None

    # ------------------------------------------------------------------ menus
    def _scene_click(self, ev, plot: Any, blocks: Any) -> None:
        if ev.button() != Qt.MouseButton.RightButton:
            return
        vb = plot.vb
        if vb.sceneBoundingRect().contains(ev.scenePos()):
            p = vb.mapSceneToView(ev.scenePos())
            row = blocks.row_at(float(p.x()), float(p.y()))
            if row >= 0 and row not in self.c.selection.rows():
                self.c.selection.select_rows([row], self)
        if self.c.selection.ids or self.c.marked_range is not None:
            sp = ev.screenPos()
            self.c.menus.context_menu(QPoint(int(sp.x()), int(sp.y())))
            ev.accept()
