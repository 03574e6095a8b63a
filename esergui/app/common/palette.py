"""Colours of the app: the Qt-free palette (:mod:`esergui.report.palette`, shared with the
lesson report and paper figures: Okabe & Ito colours for emotion labels and roles, "uncertain"
and "no emotion yet") plus the Qt brushes, swatches and legend text built on it."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPixmap

from esergui.lesson import UNCERTAIN
from esergui.report.palette import (
    OKABE_ITO,
    ROLE_COLOURS,
    UNCERTAIN_COLOUR,
    UNCERTAIN_HATCH,
    UNKNOWN_COLOUR,
    label_colours,
    role_colour,
)

__all__ = [
    "OKABE_ITO",
    "ROLE_COLOURS",
    "UNCERTAIN_COLOUR",
    "UNCERTAIN_HATCH",
    "UNKNOWN_COLOUR",
    "label_colours",
    "legend_html",
    "qcolours",
    "role_colour",
    "uncertain_brush",
    "uncertain_swatch",
]


def uncertain_brush() -> QBrush:
    """The hatch drawn over :data:`UNCERTAIN_COLOUR` (on top of a plain fill)."""
    return QBrush(QColor(UNCERTAIN_HATCH), Qt.BrushStyle.BDiagPattern)


def legend_html(labels: Sequence[str], size_pt: float = 0) -> str:
    """Rich text naming each label after its colour swatch (``uncertain`` hatched); the items
    wrap as a whole when a word-wrapped label narrows ("" without labels)."""
    size = f"; font-size:{size_pt:g}pt" if size_pt else ""
    items = []
    for name, colour in zip(labels, label_colours(labels)):
        mark = "▨" if name == UNCERTAIN else "■"
        shade = UNCERTAIN_HATCH if name == UNCERTAIN else colour
        items.append(
            f'<span style="white-space:nowrap"><span style="color:{shade}{size}">{mark}</span>&nbsp;{name}</span>'
        )
    return " &nbsp; ".join(items)


def uncertain_swatch(size: int = 12) -> QPixmap:
    """The "uncertain" swatch for icons and legends: light grey, hatched."""
    pm = QPixmap(size, size)
    pm.fill(QColor(UNCERTAIN_COLOUR))
    painter = QPainter(pm)
    painter.fillRect(0, 0, size, size, uncertain_brush())
    painter.end()
    return pm


def qcolours(labels: Sequence[str]) -> list[QColor]:
    return [QColor(c) for c in label_colours(labels)]
