"""Recordings a crash left unfinished: a dialog that lists them and lets the user keep
(repair) or discard each, offered when a workspace opens."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from esergui.errors import USER_ERRORS
from esergui.recording import UnfinishedRecording, discard_recording, find_unfinished, repair_recording
from esergui.timefmt import format_clock


class RecoveryDialog(QDialog):
    """Lists recordings a crash left unfinished; per row: Keep (repair), Discard or Decide later.

    After ``accept()`` (or :meth:`apply`), :attr:`kept` holds the repaired files and
    :attr:`errors` the messages of those that could not be repaired.
    """

    CHOICES = ("Keep", "Discard", "Decide later")

    def __init__(self, recordings: Sequence[UnfinishedRecording], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unfinished recordings")
        self.recordings = list(recordings)
        self.kept: list[Path] = []
        self.errors: list[str] = []
        intro = QLabel(
            "These recordings were interrupted (the app or the computer stopped while "
            "recording). Keep them to repair the files and add them as lessons."
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(len(self.recordings), 4)
        self.table.setHorizontalHeaderLabels(["File", "Started", "Length (about)", "Action"])
        self.table.verticalHeader().setVisible(False)
        self._combos: list[QComboBox] = []
        for row, rec in enumerate(self.recordings):
            name_item = QTableWidgetItem(rec.path.name)
            name_item.setToolTip(str(rec.path))
            self.table.setItem(row, 0, name_item)
            self.table.setItem(row, 1, QTableWidgetItem(rec.started.replace("T", " ")))
            self.table.setItem(row, 2, QTableWidgetItem(format_clock(rec.seconds_estimate)))
            combo = QComboBox()
            combo.addItems(self.CHOICES)
            self.table.setCellWidget(row, 3, combo)
            self._combos.append(combo)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 120 + 32 * len(self.recordings))

    def set_choice(self, row: int, choice: str) -> None:
        self._combos[row].setCurrentText(choice)

    def apply(self) -> list[Path]:
        """Repair the kept, delete the discarded; returns the kept files."""
        for rec, combo in zip(self.recordings, self._combos):
            choice = combo.currentText()
            if choice == "Keep":
                try:
                    self.kept.append(repair_recording(rec).path)
                except USER_ERRORS as exc:
                    self.errors.append(str(exc))
            elif choice == "Discard":
                discard_recording(rec)
        return self.kept

    def accept(self) -> None:
        self.apply()
        super().accept()


def offer_recovery(folder: str | Path, parent: QWidget | None = None) -> list[Path]:
    """If ``folder`` holds unfinished recordings, ask what to do; returns the files kept."""
    found = find_unfinished(folder)
    if not found:
        return []
    dialog = RecoveryDialog(found, parent)
    dialog.exec()
    return dialog.kept
