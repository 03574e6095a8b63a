"""Base of the annotation panels that re-read the workspace after edits: they refresh once per
burst of changes, and only while on screen (a dock tab behind another one waits until its tab
is chosen: connect the dock's ``visibilityChanged`` to :meth:`LazyPanel.set_shown`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractItemView, QTableWidget, QWidget

if TYPE_CHECKING:
    from esergui.app.annotation.controller import AnnotationController


class LazyPanel(QWidget):
    """Subclasses implement :meth:`refresh` and start it with ``if self.skip(force): return``."""

    def __init__(self, controller: AnnotationController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.c = controller
        self._stale = True
        self._timer = QTimer(self, singleShot=True, interval=0)  # one refresh per burst of changes
        self._timer.timeout.connect(self.refresh)
        controller.lessonShown.connect(lambda data: self._changed())
        controller.edited.connect(self._changed)

    def _changed(self) -> None:
        self._stale = True
        if self.shown():
            self._timer.start()

    def shown(self) -> bool:
        """On screen (a dock tab behind another one is not, though Qt calls it visible)."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def set_shown(self, shown: bool) -> None:
        """Connected to the dock's ``visibilityChanged``: catch up when the tab is selected."""
        if shown and self._stale:
            self.refresh(force=True)

    def skip(self, force: bool) -> bool:
        """True (and marked stale) when a refresh now would be wasted."""
        if not (force or self.shown()):
            self._stale = True
            return True
        self._stale = False
        return False

    def refresh(self, force: bool = False) -> None:
        raise NotImplementedError


def readonly_table(headers: list[str]) -> QTableWidget:
    """An empty read-only table with ``headers``: whole-row selection, alternating rows."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    return table
