"""The speakers panel: the lesson's voices with role, talk time and utterance count; rename,
merge two speakers into one, set the teacher, give the selected utterances to a speaker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from esergui.app.annotation.lazy import LazyPanel, readonly_table
from esergui.lesson import HUMAN, STUDENT, TEACHER
from esergui.timefmt import format_time

if TYPE_CHECKING:
    from esergui.app.annotation.controller import AnnotationController

HEADERS = ("Speaker", "Label", "Role", "Talk", "Utterances")


class SpeakersPanel(LazyPanel):
    """One row per speaker of the current lesson (most talk first)."""

    def __init__(self, controller: AnnotationController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.table = readonly_table(list(HEADERS))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(HEADERS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip(
            "Voices found in the lesson. Select one to rename it or set its role; select two to merge them"
        )
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda *_: self.rename())

        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        specs = (
            ("rename", "Rename…", "Give the selected speaker a name (e.g. the teacher's)", self.rename),
            (
                "merge",
                "Merge two",
                "Merge the two selected speakers into one (the one with more talk keeps its name)",
                self.merge,
            ),
            (
                "teacher",
                "Is the teacher",
                "The selected speaker is the teacher: its utterances count as teacher talk",
                lambda: self.set_role(TEACHER),
            ),
            ("student", "Is a student", "The selected speaker is a student", lambda: self.set_role(STUDENT)),
            (
                "assign",
                "Give selected utterances",
                "Assign the utterances selected in the table to this speaker",
                self.assign,
            ),
        )
        for i, (name, text, tip, slot) in enumerate(specs):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            self.buttons[name] = b
            grid.addWidget(b, i // 2, i % 2)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #5a5a5a;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.table, 1)
        lay.addLayout(grid)
        lay.addWidget(self.note)
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> None:
        """Re-read the speakers and their talk (only while shown, or when forced)."""
        if self.skip(force):
            return
        keep = set(self.selected_labels())
        speakers = self.c.speakers()
        talk: dict[str, float] = {}
        count: dict[str, int] = {}
        for u in self.c.records():
            if u.final_speaker:
                talk[u.final_speaker] = talk.get(u.final_speaker, 0.0) + u.duration_s
                count[u.final_speaker] = count.get(u.final_speaker, 0) + 1
        speakers.sort(key=lambda s: (-talk.get(s.label, 0.0), s.label))
        self.table.blockSignals(True)
        self.table.setRowCount(len(speakers))
        for r, s in enumerate(speakers):
            role = (s.role or "—") + (" (human)" if s.role_source == HUMAN and s.role else "")
            cells = (s.name, s.label, role, format_time(talk.get(s.label, 0.0)), str(count.get(s.label, 0)))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, s.label)
                if col >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, col, item)
            if s.label in keep:
                self.table.selectRow(r)
        self.table.blockSignals(False)
        self.note.setText("" if speakers else "No speakers yet: analyse the lesson first.")
        self._update_buttons()

    def selected_labels(self) -> list[str]:
        rows = sorted({ix.row() for ix in self.table.selectionModel().selectedRows()})
        items = [self.table.item(r, 0) for r in rows]
        return [item.data(Qt.ItemDataRole.UserRole) for item in items if item]

    def select_labels(self, labels: list[str]) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) in labels:
                self.table.selectRow(r)
        self.table.setSelectionMode(mode)

    def _update_buttons(self) -> None:
        n = len(self.selected_labels())
        editable = self.c.editable(quiet=True)
        for name in ("rename", "teacher", "student", "assign"):
            self.buttons[name].setEnabled(editable and n == 1)
        self.buttons["assign"].setEnabled(editable and n == 1 and bool(self.c.selected_ids()))
        self.buttons["merge"].setEnabled(editable and n == 2)

    def rename(self, name: str | None = None) -> bool:
        labels = self.selected_labels()
        if len(labels) != 1:
            return False
        label = labels[0]
        current = next((s.name for s in self.c.speakers() if s.label == label), label)
        if name is None:
            name, ok = QInputDialog.getText(self, "Rename speaker", f"Name of speaker {label}:", text=current)
            if not ok:
                return False
        return bool(name.strip()) and self.c.rename_speaker(label, name.strip())

    def merge(self) -> bool:
        """Merge the two selected speakers; the one with more talk time keeps its label and name."""
        labels = self.selected_labels()  # rows are sorted by talk time, most first
        if len(labels) != 2:
            return False
        return self.c.merge_speakers(labels[0], labels[1])

    def set_role(self, role: str) -> bool:
        labels = self.selected_labels()
        return len(labels) == 1 and self.c.set_speaker_role(labels[0], role)

    def assign(self) -> bool:
        labels = self.selected_labels()
        return len(labels) == 1 and self.c.set_speaker(labels[0])
