"""Model vs human: where the current model layer disagrees with the human labels.

After a re-analysis (for example with a retrained model) every human edit is kept; this panel
lists the utterances where the new model says something else (``Workspace.disagreements``),
lets the researcher jump to each, and take the model's label where it is right."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidgetItem, QVBoxLayout, QWidget

from esergui.app.annotation.lazy import LazyPanel, readonly_table
from esergui.timefmt import format_time

if TYPE_CHECKING:
    from esergui.app.annotation.controller import AnnotationController

HEADERS = ("Start", "End", "Field", "Human", "Model now")
_FIELD = {"emotion": "human_emotion", "role": "human_role", "speaker": "human_speaker"}


class ComparePanel(LazyPanel):
    """Rows of :class:`esergui.workspace.Disagreement`; double-click selects the utterance."""

    def __init__(self, controller: AnnotationController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.items: list = []
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.table = readonly_table(list(HEADERS))
        self.table.setSortingEnabled(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)  # sized once per fill, not per cell
        header.setStretchLastSection(True)
        self.table.setToolTip("Human labels the current model disagrees with. Double-click to go to the utterance")
        self.table.cellDoubleClicked.connect(lambda row, col: self.go_to(row))
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.take_model = QPushButton("Use the model's label")
        self.take_model.setToolTip("Drop the human label of the selected rows so the model's label counts (undoable)")
        self.take_model.clicked.connect(self.use_model)
        row = QHBoxLayout()
        row.addWidget(self.take_model)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.summary)
        lay.addWidget(self.table, 1)
        lay.addLayout(row)
        self.refresh()

    def refresh(self, force: bool = False) -> None:
        """Re-read the disagreements (only while the panel is shown: it reads the whole lesson)."""
        if self.skip(force):
            return
        self.items = self.c.disagreements()
        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(len(self.items))
        for r, d in enumerate(self.items):
            cells = (format_time(d.start_s, 1), format_time(d.end_s, 1), d.field, d.human, d.model or "")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col < 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, col, item)
        self.table.resizeColumnsToContents()
        self.table.setUpdatesEnabled(True)
        labelled = sum(1 for u in self.c.records() if u.human_emotion or u.human_role or u.human_speaker)
        if self.c.lesson_id is None:
            self.summary.setText("Open a lesson.")
        elif not labelled:
            self.summary.setText("No human labels in this lesson yet.")
        else:
            self.summary.setText(
                f"The model disagrees with {len(self.items)} human label(s) on {labelled} "
                "utterance(s) a person labelled. Re-analysis never changes human labels."
            )
        self._update_buttons()

    def selected_rows(self) -> list[int]:
        return sorted({ix.row() for ix in self.table.selectionModel().selectedRows()})

    def _update_buttons(self) -> None:
        self.take_model.setEnabled(bool(self.selected_rows()) and self.c.editable(quiet=True))

    def go_to(self, row: int) -> None:
        if 0 <= row < len(self.items):
            self.c.selection.select_ids([self.items[row].utterance_id], self)

    def use_model(self) -> bool:
        changes: dict[int, dict] = {}
        for r in self.selected_rows():
            d = self.items[r]
            changes.setdefault(int(d.utterance_id), {})[_FIELD[d.field]] = None
        if not changes:
            return False
        ids = sorted(changes)
        return self.c._push_utterances("Use the model's labels", ids, lambda ws: ws.update_human(changes, "use_model"))
