"""One graphics item that draws every utterance block of a timeline (thousands of them).

Blocks are grouped by (colour, opacity step); each group keeps its rectangles sorted by start,
so a repaint draws only the groups' visible slices with one ``QPainter.drawRects`` call each.
A cosmetic 1-pixel outline in the fill colour keeps blocks narrower than a pixel visible when
the whole lesson is shown. Labels are drawn in screen space when a block is wide enough (the
longest text that fits, else the shortest elided). One colour may be drawn hatched: the
"uncertain" blocks (:mod:`esergui.app.common.uncertain`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QPainter, QPen

from esergui.app.common.palette import uncertain_brush

#: Opacity steps for confidence (blocks with confidence c get alpha of the nearest step).
ALPHA_STEPS = np.array([0.25, 0.45, 0.65, 0.82, 1.0])
LANE_FILL = 0.8  # fraction of a lane's height covered by its blocks
MIN_TEXT_PX = 28  # blocks narrower than this on screen get no label


def confidence_alpha(conf: np.ndarray) -> np.ndarray:
    """Confidence in [0, 1] (NaN = unknown) -> index into :data:`ALPHA_STEPS`."""
    c = np.nan_to_num(np.asarray(conf, dtype=np.float64), nan=1.0)
    # Chance level for 7 classes is ~0.14; map [0.2, 0.9] onto the steps.
    x = np.clip((c - 0.2) / 0.7, 0.0, 1.0)
    return np.rint(x * (len(ALPHA_STEPS) - 1)).astype(int)


@dataclass
class _Group:
    colour: QColor
    starts: np.ndarray  # (k,) sorted
    rows: np.ndarray  # (k,) row numbers into the item's arrays
    rects: list[QRectF]
    pen: QPen  # cosmetic 1-pixel outline in the fill colour (keeps sub-pixel blocks visible)
    hatch: QBrush | None = None  # drawn over the fill ("uncertain" blocks)


#: A block's text: one, or several longest first (the longest that fits is drawn).
BlockText = str | tuple[str, ...]


class BlocksItem(pg.GraphicsObject):
    """Blocks ``[start, end) x [lane + gap, lane + 1 - gap)`` in data coordinates.

    ``set_blocks`` takes ``(N,)`` arrays: start/end in seconds, lane (int), colour index into
    ``colours``, alpha step index, and optional texts: per block a string or a tuple of
    strings, longest first (the longest that fits inside the block is drawn).
    Emits ``clicked(row)`` (row into the arrays, -1 for empty space) and keeps a selection.
    """

    clicked = Signal(int)
    doubleClicked = Signal(int)

    def __init__(self, show_text: bool = False) -> None:
        super().__init__()
        self.show_text = show_text
        self._groups: list[_Group] = []
        self._start = np.zeros(0)
        self._end = np.zeros(0)
        self._lane = np.zeros(0, dtype=int)
        self._texts: list[BlockText] = []
        self._max_len = 0.0
        self._n_lanes = 1
        self._extent = 1.0
        self._selected = np.zeros(0, dtype=int)
        self._tooltip: Callable[[int], str] | None = None
        self._row_colour: dict[int, QColor] = {}
        self._text_widths: dict[str, float] = {}  # label text -> pixels (same font throughout)
        self._rects: list[QRectF] = []  # one per row, reused while times and lanes stay the same
        self._rect_geometry: tuple[np.ndarray, ...] | None = None
        self.last_click_x = 0.0  # seconds: where the last click on a block was
        self.setAcceptHoverEvents(True)

    # ------------------------------------------------------------------ data
    def set_blocks(
        self,
        start: np.ndarray,
        end: np.ndarray,
        lane: np.ndarray,
        colour_idx: np.ndarray,
        alpha_idx: np.ndarray,
        colours: list[QColor],
        n_lanes: int,
        extent_s: float,
        texts: list[BlockText] | None = None,
        tooltip: Callable[[int], str] | None = None,
        hatched: int = -1,
    ) -> None:
        """``hatched``: the colour index whose blocks are drawn opaque with a hatch over them
        (the "uncertain" ones), whatever their alpha step."""
        self.prepareGeometryChange()
        self._start = np.asarray(start, dtype=np.float64)
        self._end = np.maximum(np.asarray(end, dtype=np.float64), self._start)
        self._lane = np.asarray(lane, dtype=int)
        self._texts = list(texts) if texts is not None else []
        self._tooltip = tooltip
        self._n_lanes = max(1, int(n_lanes))
        self._extent = max(float(extent_s), float(self._end.max()) if len(self._end) else 0.0, 1e-3)
        self._max_len = float((self._end - self._start).max()) if len(self._start) else 0.0
        self._update_rects()
        groups: dict[tuple[int, int], list[int]] = {}
        for row, key in enumerate(zip(np.asarray(colour_idx, int).tolist(), np.asarray(alpha_idx, int).tolist())):
            groups.setdefault(key, []).append(row)
        self._groups = []
        for (ci, ai), rows in sorted(groups.items()):
            r = np.asarray(rows, dtype=int)
            r = r[np.argsort(self._start[r], kind="stable")]
            colour = QColor(colours[ci]) if 0 <= ci < len(colours) else QColor("#BBBBBB")
            hatch = uncertain_brush() if ci == hatched else None
            colour.setAlphaF(1.0 if hatch is not None else float(ALPHA_STEPS[min(ai, len(ALPHA_STEPS) - 1)]))
            rects = [self._rects[i] for i in r]
            pen = QPen(colour if hatch is None else hatch.color())
            pen.setCosmetic(True)
            pen.setWidth(0)
            self._groups.append(_Group(colour, self._start[r], r, rects, pen, hatch))
        # (group, start) keys for one searchsorted over every group at paint time
        span = 4.0 * (self._extent + self._max_len + 1.0)
        self._group_base = np.arange(len(self._groups)) * span
        self._group_offsets = np.cumsum([0] + [len(g.rows) for g in self._groups[:-1]]).astype(np.int64)
        self._group_keys = (
            np.concatenate([g.starts + b for g, b in zip(self._groups, self._group_base)])
            if self._groups
            else np.zeros(0)
        )
        self._row_colour = {int(i): g.colour for g in self._groups for i in g.rows} if self.show_text else {}
        self._selected = np.zeros(0, dtype=int)
        self.update()

    def _update_rects(self) -> None:
        """One rectangle per row (seconds x lanes), rebuilt only when times or lanes changed:
        a relabel re-groups the same rectangles by colour."""
        geometry = (self._start, self._end, self._lane)
        old = self._rect_geometry
        if old is not None and all(np.array_equal(a, b) for a, b in zip(old, geometry)):
            return
        gap = (1.0 - LANE_FILL) / 2
        self._rects = [
            QRectF(s, lane + gap, e - s, LANE_FILL)
            for s, e, lane in zip(self._start.tolist(), self._end.tolist(), self._lane.tolist())
        ]
        self._rect_geometry = geometry

    def set_selected(self, rows) -> None:
        self._selected = np.asarray(sorted(int(r) for r in rows if 0 <= int(r) < len(self._start)), dtype=int)
        self.update()

    # --------------------------------------------------------------- drawing
    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return QRectF(0.0, 0.0, self._extent, float(self._n_lanes))

    def _visible_x(self) -> tuple[float, float]:
        vb = self.getViewBox()
        if vb is None:
            return 0.0, self._extent
        (x0, x1), _ = vb.viewRange()
        return x0, x1

    def paint(self, p: QPainter, *args) -> None:
        x0, x1 = self._visible_x()
        lo = x0 - self._max_len
        drawn = 0
        if self._groups:
            # one vectorised search for all groups: keys are (group, start) in sorted order
            lo_c, hi_c = max(lo, -1.0 - self._max_len), min(x1, self._extent + 1.0)  # stay inside each group's key band
            first = np.searchsorted(self._group_keys, self._group_base + lo_c, "left") - self._group_offsets
            last = np.searchsorted(self._group_keys, self._group_base + hi_c, "right") - self._group_offsets
            for g, i0, i1 in zip(self._groups, first.tolist(), last.tolist()):
                if i1 <= i0:
                    continue
                p.setPen(g.pen)
                p.setBrush(g.colour)
                p.drawRects(g.rects[i0:i1])
                if g.hatch is not None:
                    g.hatch.setTransform(p.transform().inverted()[0])  # hatch lines in pixels, not seconds
                    p.setBrush(g.hatch)
                    p.drawRects(g.rects[i0:i1])
                drawn += i1 - i0
        if len(self._selected):
            pen = QPen(QColor("#111111"))
            pen.setCosmetic(True)
            pen.setWidthF(2.5)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            gap = (1.0 - LANE_FILL) / 2
            p.drawRects(
                [
                    QRectF(
                        self._start[i],
                        self._lane[i] + gap - 0.04,
                        max(self._end[i] - self._start[i], 0.0),
                        LANE_FILL + 0.08,
                    )
                    for i in self._selected
                ]
            )
        if self.show_text and self._texts and drawn:
            self._paint_texts(p, x0, x1)

    def _paint_texts(self, p: QPainter, x0: float, x1: float) -> None:
        """Labels inside blocks at least :data:`MIN_TEXT_PX` wide, in screen space (vectorised
        culling; text widths cached per string)."""
        i0 = int(np.searchsorted(self._start, x0 - self._max_len, "left"))
        i1 = int(np.searchsorted(self._start, x1, "right"))
        tr = p.transform()
        sx, dx, sy, dy = tr.m11(), tr.dx(), tr.m22(), tr.dy()
        rows = np.arange(i0, i1)
        left_px = self._start[rows] * sx + dx
        width_px = (self._end[rows] - self._start[rows]) * sx
        rows, left_px, width_px = (
            rows[width_px >= MIN_TEXT_PX],
            left_px[width_px >= MIN_TEXT_PX],
            width_px[width_px >= MIN_TEXT_PX],
        )
        if not len(rows) or len(rows) > 800:
            return
        gap = (1.0 - LANE_FILL) / 2
        height_px = abs(LANE_FILL * sy)
        fm = QFontMetrics(p.font())
        if height_px < fm.height():
            return
        p.save()
        p.resetTransform()
        widths = self._text_widths
        lane_free: dict[int, float] = {}  # per lane: screen x where the last label ended
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for i, left, width in zip(rows.tolist(), left_px.tolist(), width_px.tolist()):
            choices: BlockText = self._texts[i] if i < len(self._texts) else ()
            if isinstance(choices, str):
                choices = (choices,)
            lane = int(self._lane[i])
            start = max(left, lane_free.get(lane, -1e9))
            room = left + width - start
            text, need = "", 0.0
            for candidate in choices:  # the longest text that fits
                if not candidate:
                    continue
                w = widths.get(candidate)
                if w is None:
                    w = widths[candidate] = fm.horizontalAdvance(candidate) + 6
                if w <= room:
                    text, need = candidate, w
                    break
            if not text and choices and room >= MIN_TEXT_PX:  # none fits: the shortest, elided
                text = fm.elidedText(choices[-1], Qt.TextElideMode.ElideRight, int(room) - 6)
                need = fm.horizontalAdvance(text) + 6
                if len(text) < 3:  # "d…" tells nothing
                    text = ""
            if not text:
                continue
            top = min((self._lane[i] + gap) * sy + dy, (self._lane[i] + gap + LANE_FILL) * sy + dy)
            p.setPen(self._text_colour(i))
            p.drawText(QRectF(start + 3, top, need, height_px), flags, text)
            lane_free[lane] = start + need
        p.restore()

    def _text_colour(self, row: int) -> QColor:
        """White on dark, opaque fills; near-black otherwise."""
        colour = self._row_colour.get(row)
        if colour is None:
            return QColor("#111111")
        lum = (0.299 * colour.redF() + 0.587 * colour.greenF() + 0.114 * colour.blueF()) * colour.alphaF() + (
            1 - colour.alphaF()
        )
        return QColor("#FFFFFF") if lum < 0.5 else QColor("#111111")

    # ----------------------------------------------------------------- hits
    def row_at(self, x: float, y: float) -> int:
        """Row of the block under data point (x, y), or -1."""
        lane = int(np.floor(y))
        i0 = int(np.searchsorted(self._start, x - self._max_len, "left"))
        i1 = int(np.searchsorted(self._start, x, "right"))
        cand = np.arange(i0, i1)
        if not cand.size:
            return -1
        hit = cand[(self._lane[cand] == lane) & (self._end[cand] >= x)]
        if not hit.size:
            # Blocks narrower than a pixel: accept the nearest one within 3 pixels.
            vb = self.getViewBox()
            tol = 0.0
            if vb is not None:
                (vx0, vx1), _ = vb.viewRange()
                tol = 3 * (vx1 - vx0) / max(1.0, vb.width())
            i0 = int(np.searchsorted(self._start, x - self._max_len - tol, "left"))
            i1 = int(np.searchsorted(self._start, x + tol, "right"))
            cand = np.arange(i0, i1)
            cand = cand[self._lane[cand] == lane] if cand.size else cand
            if not cand.size:
                return -1
            dist = np.maximum(0, np.maximum(self._start[cand] - x, x - self._end[cand]))
            best = cand[int(np.argmin(dist))]
            return int(best) if dist.min() <= tol else -1
        return int(hit[-1])

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph API)
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        pos: QPointF = ev.pos()
        row = self.row_at(pos.x(), pos.y())
        if row >= 0:
            ev.accept()
            self.last_click_x = float(pos.x())
            if ev.double():
                self.doubleClicked.emit(row)
            else:
                self.clicked.emit(row)

    def hoverEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph API)
        if ev.isExit() or self._tooltip is None:
            self.setToolTip("")
            return
        pos = ev.pos()
        row = self.row_at(pos.x(), pos.y())
        self.setToolTip(self._tooltip(row) if row >= 0 else "")
