"""Researcher codes: the configurable code list (name + key) and its editing dialog.

The list is a workspace setting (``annotation_codes``: ``[{"name": ..., "key": ...}, ...]``),
so everyone coding in one workspace uses the same scheme. The defaults follow Flanders'
Interaction Analysis Categories (FIAC, ten categories of classroom talk).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from esergui.workspace import Workspace

SETTING = "annotation_codes"


@dataclass(frozen=True)
class Code:
    """A researcher code and its key (one key, e.g. ``"Q"``; ``""`` for none)."""

    name: str
    key: str = ""
    description: str = ""


#: FIAC (Flanders, 1970): teacher talk 1-7, student talk 8-9, silence 10.
FIAC_CODES: tuple[Code, ...] = (
    Code("accepts feeling", "F", "FIAC 1: teacher accepts or clarifies students' feelings"),
    Code("praise", "P", "FIAC 2: teacher praises or encourages"),
    Code("uses student ideas", "I", "FIAC 3: teacher accepts or uses students' ideas"),
    Code("question", "Q", "FIAC 4: teacher asks a question"),
    Code("lecture", "L", "FIAC 5: teacher lectures (facts, opinions, explanations)"),
    Code("direction", "D", "FIAC 6: teacher gives directions"),
    Code("criticism", "C", "FIAC 7: teacher criticises or justifies authority"),
    Code("student response", "A", "FIAC 8: student talk in answer to the teacher"),
    Code("student initiation", "O", "FIAC 9: student talk that opens a new idea"),
    Code("silence/confusion", "Z", "FIAC 10: silence, pause or confusion"),
)


def load_codes(ws: Workspace | None) -> list[Code]:
    """The workspace's code list (FIAC defaults when none was set, or no workspace)."""
    raw = ws.get_setting(SETTING) if ws is not None else None
    if not raw:
        return list(FIAC_CODES)
    out = []
    for item in raw:
        if isinstance(item, dict) and str(item.get("name", "")).strip():
            out.append(
                Code(
                    str(item["name"]).strip(),
                    str(item.get("key", "")).strip().upper()[:1],
                    str(item.get("description", "")),
                )
            )
    return out


def save_codes(ws: Workspace, codes: Sequence[Code]) -> None:
    ws.set_setting(SETTING, [{"name": c.name, "key": c.key, "description": c.description} for c in codes])


def validate(codes: Sequence[Code], reserved: set[str]) -> str:
    """An empty string, or a sentence naming what is wrong with ``codes``."""
    names, keys = set(), set()
    for c in codes:
        if not c.name.strip():
            return "Every code needs a name."
        if c.name.lower() in names:
            return f"The code '{c.name}' is listed twice."
        names.add(c.name.lower())
        if c.key:
            if len(c.key) != 1 or not c.key.isalnum():
                return f"The key of '{c.name}' must be one letter or digit."
            if c.key.upper() in reserved:
                return f"Key {c.key} of '{c.name}' is already used by another annotation command."
            if c.key in keys:
                return f"Key {c.key} is given to two codes."
            keys.add(c.key)
    return ""


class CodesDialog(QDialog):
    """Edit the code list: name, key, description; add, remove, reset to the FIAC defaults."""

    def __init__(self, codes: Sequence[Code], reserved: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Researcher codes")
        self.reserved = {k.upper() for k in reserved}
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Code", "Key", "Description"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setColumnWidth(0, 170)
        self.table.setToolTip(
            "Double-click a cell to edit it. A key is one letter or digit, pressed with the table or timeline focused"
        )
        self._fill(codes)
        add = QPushButton("Add")
        add.setToolTip("Add a new code")
        add.clicked.connect(self._add)
        remove = QPushButton("Remove")
        remove.setToolTip("Remove the selected codes (utterances keep codes already given)")
        remove.clicked.connect(self._remove)
        reset = QPushButton("FIAC defaults")
        reset.setToolTip("Replace the list with Flanders' ten interaction categories")
        reset.clicked.connect(lambda: self._fill(FIAC_CODES))
        row = QHBoxLayout()
        for b in (add, remove, reset):
            row.addWidget(b)
        row.addStretch(1)
        taken = ", ".join(sorted(self.reserved))
        note = QLabel(f"Keys already used by annotation commands: {taken}")
        note.setWordWrap(True)
        note.setStyleSheet("color: #5a5a5a;")
        self.error = QLabel("")
        self.error.setStyleSheet("color: #D55E00;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addLayout(row)
        lay.addWidget(note)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.resize(620, 440)

    def _fill(self, codes: Sequence[Code]) -> None:
        self.table.setRowCount(0)
        for c in codes:
            self._append(c)

    def _append(self, c: Code) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for col, text in enumerate((c.name, c.key, c.description)):
            item = QTableWidgetItem(text)
            if col == 1:
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.table.setItem(r, col, item)

    def _add(self) -> None:
        self._append(Code("new code"))
        item = self.table.item(self.table.rowCount() - 1, 0)
        assert item is not None  # _append() set every cell of the new row
        self.table.editItem(item)

    def _remove(self) -> None:
        for r in sorted({ix.row() for ix in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(r)

    def codes(self) -> list[Code]:
        out = []
        for r in range(self.table.rowCount()):
            items = [self.table.item(r, c) for c in range(3)]
            cells = [(item.text() if item else "").strip() for item in items]
            out.append(Code(cells[0], cells[1].upper(), cells[2]))
        return out

    def accept(self) -> None:
        problem = validate(self.codes(), self.reserved)
        if problem:
            self.error.setText(problem)
            return
        super().accept()


def key_text(key: str) -> str:
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText) if key else ""
