"""Page 6, Activate: make the new model the active one and queue lessons for re-analysis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWizardPage,
)

from esergui.app.retrain.common import ERROR_STYLE, NOTE_STYLE, text_label
from esergui.errors import USER_ERRORS
from esergui.lesson import stored_id
from esergui.retrain_evidence import assess_outcome

if TYPE_CHECKING:
    from esergui.app.retrain.wizard import RetrainWizard


class ActivatePage(QWizardPage):
    def __init__(self, wiz: RetrainWizard) -> None:
        super().__init__()
        self.wiz = wiz
        self.setTitle("Activate")
        self.setSubTitle("Use the new model for this workspace, and optionally re-analyse lessons with it.")
        self.saved_text = text_label()
        self.activate = QCheckBox()
        self.why = text_label("", NOTE_STYLE)  # why it is (not) ticked
        self.lessons = QListWidget()
        self.lessons.setToolTip("Tick the lessons to analyse again with the new model")
        self.all = QPushButton("Select all")
        self.none = QPushButton("Select none")
        self.note = text_label(
            "Re-analysis replaces the model's emotions, speakers and utterance boundaries; every "
            "human label, note and correction is kept.",
            NOTE_STYLE,
        )
        row = QHBoxLayout()
        row.addWidget(QLabel("<b>Re-analyse these lessons with the new model</b>"), 1)
        row.addWidget(self.all)
        row.addWidget(self.none)
        lay = QVBoxLayout(self)
        lay.addWidget(self.saved_text)
        lay.addWidget(self.activate)
        lay.addWidget(self.why)
        lay.addLayout(row)
        lay.addWidget(self.lessons, 1)
        lay.addWidget(self.note)
        self.activate.toggled.connect(self._toggle)
        self.all.clicked.connect(lambda: self._check_all(True))
        self.none.clicked.connect(lambda: self._check_all(False))

    def initializePage(self) -> None:  # noqa: N802 (Qt API)
        saved = self.wiz.state.saved
        assert saved is not None
        self.saved_text.setText(f"Saved “{saved.name}” ({', '.join(saved.labels)}) to {saved.path}.")
        self.activate.setText(f"Make “{saved.name}” the active model of this workspace (new analyses use it)")
        out = self.wiz.state.outcome
        decision = assess_outcome(out).decision if out is not None else None
        # active by default only on sufficient evidence of doing better on the same clips
        self.activate.setChecked(decision is not None and decision.activate)
        self.why.setText(decision.reason if decision is not None else "")
        self.lessons.clear()
        for lesson in self.wiz.ws.lessons():
            item = QListWidgetItem(f"{lesson.name}  ·  {lesson.status.value}")
            item.setData(Qt.ItemDataRole.UserRole, stored_id(lesson.id))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.lessons.addItem(item)
        if not self.lessons.count():
            self.lessons.addItem("No lessons in this workspace yet.")
        self._toggle(self.activate.isChecked())

    def _toggle(self, on: bool) -> None:
        for w in (self.lessons, self.all, self.none):
            w.setEnabled(on)

    def _check_all(self, on: bool) -> None:
        for i in range(self.lessons.count()):
            item = self.lessons.item(i)
            if item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def selected_lessons(self) -> list[int]:
        return [
            int(self.lessons.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.lessons.count())
            if self.lessons.item(i).checkState() == Qt.CheckState.Checked
            and self.lessons.item(i).data(Qt.ItemDataRole.UserRole) is not None
        ]

    def validatePage(self) -> bool:  # noqa: N802 (Qt API): Finish
        saved = self.wiz.state.saved
        if saved is None or not self.activate.isChecked():
            return True
        try:
            self.wiz.registry.set_active(saved.name)
        except USER_ERRORS as exc:
            self.note.setText(str(exc))
            self.note.setStyleSheet(ERROR_STYLE)
            return False
        self.wiz.activeModelChanged.emit(saved.name)
        ids = self.selected_lessons()
        if ids:
            self.wiz.reanalyseRequested.emit(ids)
        return True
