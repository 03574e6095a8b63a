"""What the retraining wizard's pages share: label styles, the "(drop)" choice, a selectable
label and a percentage formatter."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

DROP = "(drop)"
ERROR_STYLE = "color: #B00020;"
NOTE_STYLE = "color: #555555;"


def text_label(text: str = "", style: str = "", wrap: bool = True) -> QLabel:
    lab = QLabel(text)
    lab.setWordWrap(wrap)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if style:
        lab.setStyleSheet(style)
    return lab


def percent(x: float | None) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f} %"
