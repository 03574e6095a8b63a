"""Moving through a lesson while annotating: next/previous utterance in the table's order and
filters, next unreviewed, next low-confidence, jump to a time. Mixed into
:class:`~esergui.app.annotation.controller.AnnotationController` (uses ``data``, ``selection``,
``record()``, ``low_confidence``, ``message`` and the window's table and detail view)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtWidgets import QInputDialog

from esergui.app.common.uncertain import threshold_text
from esergui.timefmt import format_time

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from esergui.app.shell.selection import SelectionModel
    from esergui.app.shell.window import MainWindow
    from esergui.lesson import Utterance
    from esergui.review.lessondata import LessonData


def parse_time(text: str) -> float:
    """``"1:02:03.5"``, ``"2:03"``, ``"75.5"``, ``"75 s"`` -> seconds. Raises ValueError."""
    t = text.strip().lower().rstrip("s").strip()
    if not t:
        raise ValueError("empty time")
    if not re.fullmatch(r"\d+(:\d{1,2}){0,2}(\.\d*)?|\d*\.\d+", t):
        raise ValueError(f"not a time: {text!r}")
    seconds = 0.0
    for part in t.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


class Navigation:
    """Select the next/previous utterance by a rule (wrapping around where that helps)."""

    if TYPE_CHECKING:  # defined by esergui.app.annotation.controller.AnnotationController
        win: MainWindow
        selection: SelectionModel
        message: SignalInstance
        low_confidence: float

        @property
        def data(self) -> LessonData: ...

        def record(self, row: int) -> Utterance | None: ...

    def table_rows(self) -> list[int]:
        """Lesson rows in the table's current order, filters applied."""
        proxy = self.win.table.proxy
        return [proxy.mapToSource(proxy.index(r, 0)).row() for r in range(proxy.rowCount())]

    def _go(self, step: int, accept: Callable[[int], bool] | None = None, what: str = "utterance") -> bool:
        order = self.table_rows()
        if not order:
            self.message.emit("No utterances are shown (check the table's filters).")
            return False
        current = self.selection.current_row
        pos = order.index(current) if current in order else (-1 if step > 0 else len(order))
        n = len(order)
        for k in range(1, n + 1):
            p = pos + k * (1 if step > 0 else -1)
            if accept is None and not 0 <= p < n:
                return False  # plain next/previous stops at the ends
            row = order[p % n]
            if accept is None or accept(row):
                if not 0 <= p < n:
                    self.message.emit(f"Wrapped around: back to the {'first' if step > 0 else 'last'} {what}")
                self.selection.select_rows([row], self)
                return True
        self.message.emit(f"No {what} left")
        return False

    def next(self, step: int = 1) -> bool:  # noqa: A003
        return self._go(step)

    def next_unreviewed(self, step: int = 1) -> bool:
        return self._go(step, lambda row: not getattr(self.record(row), "reviewed", False), "unreviewed utterance")

    def next_low_confidence(self, step: int = 1) -> bool:
        conf = self.data.confidence
        thr = self.low_confidence
        return self._go(
            step,
            lambda row: not math.isnan(float(conf[row])) and float(conf[row]) < thr,
            f"uncertain utterance ({threshold_text(thr)})",
        )

    def jump_to_time(self, t: float) -> bool:
        """Select the utterance at ``t`` (or the next one after it) and put the cursor there."""
        d = self.data
        t = float(min(max(0.0, t), d.duration_s))
        detail = self.win.detail
        rows = np.flatnonzero(d.end > t)
        if len(rows):
            self.selection.select_rows([int(rows[0])], self)
        detail.set_cursor(t)
        detail.ensure_visible(t, t)
        if not len(rows):
            self.message.emit(f"No utterance after {format_time(t, 1)}")
        return bool(len(rows))

    def ask_jump_to_time(self) -> None:
        text, ok = QInputDialog.getText(
            self.win,
            "Jump to time",
            "Time (h:mm:ss, m:ss or seconds):",
            text=format_time(self.win.detail.cursor_time, 1),
        )
        if ok:
            try:
                self.jump_to_time(parse_time(text))
            except ValueError:
                self.message.emit(f"'{text}' is not a time; write it like 12:30 or 750.")
