"""Error dialogs that never block: a signal tests can observe plus a window-modal QMessageBox
opened with ``open()`` (no nested event loop), so a failing job can never freeze the app."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)


class ErrorReporter(QObject):
    """``errorShown(title, reason)`` is emitted for every error; ``last_box`` is the dialog."""

    errorShown = Signal(str, str)

    def __init__(self, parent_widget: QWidget) -> None:
        super().__init__(parent_widget)
        self.parent_widget = parent_widget
        self.last_box: QMessageBox | None = None
        self.history: list[tuple[str, str]] = []

    def error(self, title: str, reason: str, details: str = "") -> QMessageBox:
        """Show ``reason`` (one sentence) in a dialog titled ``title``; ``details`` expandable."""
        log.warning("%s: %s", title, reason)
        box = QMessageBox(self.parent_widget)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(title)
        box.setText(reason)
        if details:
            box.setDetailedText(details)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.setObjectName("errorDialog")
        box.finished.connect(box.deleteLater)
        self.last_box = box
        self.history.append((title, reason))
        box.open()
        self.errorShown.emit(title, reason)
        return box
