"""Widgets of the retraining wizard: live training curves (pyqtgraph), a confusion-matrix heat
map, and small read-only count tables."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"


def _plot(title: str, y_label: str) -> pg.PlotWidget:
    w = pg.PlotWidget(background="w")
    w.setTitle(title, color="#222222", size="10pt")
    w.setLabel("bottom", "epoch", color="#222222")
    w.setLabel("left", y_label, color="#222222")
    w.showGrid(x=True, y=True, alpha=0.25)
    w.addLegend(offset=(-8, 8), labelTextColor="#222222")
    w.setMouseEnabled(x=False, y=False)
    w.hideButtons()
    w.setMinimumHeight(200)
    return w


class TrainingCurves(QWidget):
    """Loss (training, validation) and validation accuracy (WA, UA, %) per epoch, updated live."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = _plot("Loss", "loss")
        self.acc_plot = _plot("Validation accuracy", "%")
        self.acc_plot.setYRange(0, 100)
        sym = {"symbol": "o", "symbolSize": 6}
        self.train_loss = self.loss_plot.plot(
            [], [], name="training", pen=pg.mkPen(BLUE, width=2), symbolBrush=BLUE, **sym
        )
        self.val_loss = self.loss_plot.plot(
            [], [], name="validation", pen=pg.mkPen(ORANGE, width=2), symbolBrush=ORANGE, **sym
        )
        self.wa = self.acc_plot.plot(
            [], [], name="accuracy (WA)", pen=pg.mkPen(GREEN, width=2), symbolBrush=GREEN, **sym
        )
        self.ua = self.acc_plot.plot(
            [], [], name="mean recall (UA)", pen=pg.mkPen(VERMILLION, width=2), symbolBrush=VERMILLION, **sym
        )
        self.baseline = pg.InfiniteLine(
            angle=0,
            movable=False,
            pen=pg.mkPen("#666666", width=1, style=Qt.PenStyle.DashLine),
            label="starting model UA",
            labelOpts={"position": 0.15, "color": "#444444"},
        )
        self.baseline.setVisible(False)
        self.acc_plot.addItem(self.baseline)
        self.rows: list[tuple[int, float, float, float, float]] = []
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.loss_plot)
        lay.addWidget(self.acc_plot)

    def reset(self, epochs: int) -> None:
        self.rows.clear()
        for curve in (self.train_loss, self.val_loss, self.wa, self.ua):
            curve.setData([], [])
        self.baseline.setVisible(False)
        step = 1 if epochs <= 15 else 5 if epochs <= 75 else 10
        for p in (self.loss_plot, self.acc_plot):
            p.setXRange(1, max(2, epochs), padding=0.04)
            p.getAxis("bottom").setTickSpacing(step, step)

    def set_baseline_ua(self, ua: float | None) -> None:
        if ua is not None and math.isfinite(ua):
            self.baseline.setPos(100 * ua)
            self.baseline.setVisible(True)

    def add_epoch(self, epoch: int, train_loss: float, val_loss: float, val_acc: float, val_ua: float) -> None:
        self.rows.append((epoch, train_loss, val_loss, val_acc, val_ua))
        x = [r[0] for r in self.rows]
        self.train_loss.setData(x, [r[1] for r in self.rows])
        self.val_loss.setData(x, [r[2] for r in self.rows])
        self.wa.setData(x, [100 * r[3] for r in self.rows])
        self.ua.setData(x, [100 * r[4] for r in self.rows])


class ConfusionHeatmap(QWidget):
    """Rows = true label, columns = predicted label; the colour is the row share (recall on the
    diagonal), the number the clip count."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels: list[str] = []
        self.matrix: list[list[int]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 260)
        self.setToolTip(
            "Confusion matrix on the validation clips: rows are the true labels, columns what the "
            "new model predicted; darker = larger share of the row"
        )

    def set_matrix(self, labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> None:
        self.labels = list(labels)
        self.matrix = [list(map(int, row)) for row in matrix]
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(440, 360)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        n = len(self.labels)
        if not n:
            p.setPen(QColor("#666666"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No results yet")
            return
        fm = p.fontMetrics()
        left = max(fm.horizontalAdvance(lab) for lab in self.labels) + 28
        top = fm.height() * 2 + 8
        bottom_pad = fm.height() + 10
        size = min((self.width() - left - 8) / n, (self.height() - top - bottom_pad) / n)
        size = max(size, 8.0)
        bold = QFont(p.font())
        bold.setBold(True)
        p.setPen(QColor("#222222"))
        p.drawText(QRectF(left, 0, size * n, fm.height()), Qt.AlignmentFlag.AlignCenter, "predicted")
        for j, lab in enumerate(self.labels):  # column headers, elided to the cell width
            text = fm.elidedText(lab, Qt.TextElideMode.ElideRight, int(size) - 2)
            p.drawText(QRectF(left + j * size, fm.height() + 2, size, fm.height()), Qt.AlignmentFlag.AlignCenter, text)
        p.save()
        p.translate(10, top + size * n / 2)
        p.rotate(-90)
        p.drawText(
            QRectF(-size * n / 2, -fm.height() / 2 - 2, size * n, fm.height()), Qt.AlignmentFlag.AlignCenter, "true"
        )
        p.restore()
        for i, lab in enumerate(self.labels):
            row = self.matrix[i] if i < len(self.matrix) else [0] * n
            total = sum(row)
            p.setPen(QColor("#222222"))
            p.drawText(
                QRectF(14, top + i * size, left - 20, size),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                lab,
            )
            for j in range(n):
                share = row[j] / total if total else 0.0
                colour = (
                    QColor.fromRgbF(1 - 0.9 * share, 1 - 0.55 * share, 1 - 0.3 * share) if total else QColor("#F2F2F2")
                )
                rect = QRectF(left + j * size, top + i * size, size, size)
                p.fillRect(rect, colour)
                p.setPen(QColor("#DDDDDD"))
                p.drawRect(rect)
                if total:
                    p.setPen(QColor("white") if share > 0.55 else QColor("#222222"))
                    p.setFont(bold if i == j else self.font())
                    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(row[j]))
                    p.setFont(self.font())
        p.setPen(QColor("#555555"))
        p.drawText(
            QRectF(left, top + n * size + 4, size * n, fm.height()),
            Qt.AlignmentFlag.AlignCenter,
            "number of validation clips; colour = share of the true label's clips",
        )


def counts_table(headers: Sequence[str]) -> QTableWidget:
    """A compact read-only table with ``headers``."""
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(list(headers))
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    t.setAlternatingRowColors(True)
    h = t.horizontalHeader()
    h.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for c in range(1, len(headers)):
        h.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
    return t


def fill_rows(table: QTableWidget, rows: Sequence[Sequence[object]]) -> None:
    """Replace the table's rows; numbers are right-aligned."""
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(str(value))
            numeric = (
                isinstance(value, (int, float))
                or value in ("–",)
                or (isinstance(value, str) and value.rstrip(" %").replace(".", "").isdigit())
            )
            if c > 0 and numeric:  # the first column names things (speaker "03" stays left)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


def fill_counts(table: QTableWidget, counts: Mapping[str, int]) -> None:
    fill_rows(table, [(k, v) for k, v in counts.items()])
