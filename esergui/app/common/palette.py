"""Colours: a colour-blind-safe palette (Okabe & Ito, 2008) for emotion labels and roles.

Emotions get fixed, meaningful colours when their name is known (anger = vermillion,
sadness = blue, ...), so a retrained model with other label names still gets distinct colours.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPixmap

from esergui.lesson import UNCERTAIN

#: Okabe-Ito palette (hex), plus its grey.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
    "grey": "#999999",
}

# Name prefixes of common emotion labels -> palette entry.
_KNOWN = (
    ("ang", "vermillion"), ("hap", "orange"), ("joy", "orange"), ("sad", "blue"),
    ("neu", "grey"), ("fea", "reddish_purple"), ("dis", "bluish_green"), ("bor", "sky_blue"),
    ("sur", "yellow"), ("exc", "yellow"), ("fru", "reddish_purple"), ("cal", "sky_blue"),
)
_CYCLE = ("vermillion", "orange", "blue", "bluish_green", "reddish_purple", "sky_blue", "yellow", "black")

#: Colour of utterances with no emotion yet (not analysed).
UNKNOWN_COLOUR = "#BBBBBB"
#: Fill of "uncertain" utterances (below the confidence threshold), drawn hatched in
#: :data:`UNCERTAIN_HATCH` so they never pass for a pale emotion colour.
UNCERTAIN_COLOUR = "#E4E4E4"
UNCERTAIN_HATCH = "#6E6E6E"

ROLE_COLOURS = {"teacher": "#0072B2", "student": "#E69F00"}


def label_colours(labels: Sequence[str]) -> list[str]:
    """One hex colour per label, distinct within ``labels``; known emotion names keep theirs."""
    used: set[str] = set()
    out: list[str | None] = [None] * len(labels)
    for i, name in enumerate(labels):
        key = name.strip().lower()
        if key == UNCERTAIN:
            out[i] = UNCERTAIN_COLOUR
            continue
        for prefix, entry in _KNOWN:
            if key.startswith(prefix) and entry not in used:
                out[i] = OKABE_ITO[entry]
                used.add(entry)
                break
    free = [e for e in _CYCLE if e not in used]
    for i, colour in enumerate(out):
        if colour is None:
            entry = free.pop(0) if free else _CYCLE[i % len(_CYCLE)]
            out[i] = OKABE_ITO[entry]
    return [c for c in out if c is not None]


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
        items.append(f'<span style="white-space:nowrap"><span style="color:{shade}{size}">{mark}</span>&nbsp;{name}</span>')
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


def role_colour(role: str) -> str:
    return ROLE_COLOURS.get(role, "#666666")
