"""Tools ▸ Emotion Models…: the workspace's model registry (:mod:`esergui.models`): list the
bundled and trained models with their labels, data and figures; switch the active model;
export a model file to share; import one (verified; a tampered or foreign file is refused with
the reason shown in the dialog)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from esergui.errors import USER_ERRORS
from esergui.models import BUNDLED, MODEL_SUFFIX, ModelInfo, ModelRegistry
from esergui.retrain_evidence import MIN_CLIPS

if TYPE_CHECKING:
    from esergui.workspace import Workspace

COLUMNS = ("Model", "Date", "Labels", "Training data", "Figures")


class ModelsDialog(QDialog):
    """``activeModelChanged(name)`` after a switch; ``status`` shows the last outcome or error."""

    activeModelChanged = Signal(str)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.registry = ModelRegistry(workspace)
        self.setWindowTitle("Emotion models")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        h = self.table.horizontalHeader()
        for c, mode in enumerate(
            (
                QHeaderView.ResizeMode.ResizeToContents,
                QHeaderView.ResizeMode.ResizeToContents,
                QHeaderView.ResizeMode.Stretch,
                QHeaderView.ResizeMode.Stretch,
                QHeaderView.ResizeMode.Stretch,
            )
        ):
            h.setSectionResizeMode(c, mode)
        self.activate_button = QPushButton("Make Active")
        self.activate_button.setToolTip("Analyse this workspace's lessons with the selected model from now on")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save a copy of the selected model's file to share with colleagues")
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("Add a model file from a colleague (it is verified first)")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Forget the selected model and delete its copy in the workspace")
        self.status = QLabel("The active model (★) analyses this workspace's lessons.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QHBoxLayout()
        for b in (self.activate_button, self.export_button, self.import_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.status)
        lay.addLayout(buttons)
        self.activate_button.clicked.connect(lambda: self.activate(self.selected()))
        self.export_button.clicked.connect(self._export_clicked)
        self.import_button.clicked.connect(self._import_clicked)
        self.remove_button.clicked.connect(self._remove_clicked)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.activate(self.selected()))
        self.resize(980, 420)
        self.refresh()

    # ------------------------------------------------------------------ view
    def refresh(self, select: str | None = None) -> None:
        self.infos: list[ModelInfo] = self.registry.models()
        self.table.setRowCount(len(self.infos))
        bold = QFont(self.font())
        bold.setBold(True)
        for r, info in enumerate(self.infos):
            name = ("★ " if info.active else "") + ("Bundled model (EmoDB)" if info.bundled else info.name)
            figures = info.figures_text()
            validated = str(info.figures.get("on", "")).startswith("validation")
            if validated and int(info.figures.get("n", 0) or 0) < MIN_CLIPS:  # esergui.retrain_evidence's rule
                figures = f"too few to measure ({int(info.figures.get('n', 0) or 0)} validation clips)"
            elif "base_ua" in info.figures:
                figures += f"; starting model on the same clips UA {100 * info.figures['base_ua']:.1f} %"
            if validated:
                figures += " — not comparable with cross-validated figures"
            cells = (
                name,
                info.created[:16].replace("T", " "),
                ", ".join(info.labels) or "–",
                info.data + (f"; fine-tuned from {info.base}" if info.base else ""),
                figures,
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(str(info.path) if c == 0 and info.path else text)
                if info.active:
                    item.setFont(bold)
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        names = [i.name for i in self.infos]
        want = select if select in names else next((i.name for i in self.infos if i.active), BUNDLED)
        self.table.selectRow(names.index(want))
        self._update_buttons()

    def selected(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.infos[rows[0].row()].name if rows else None

    def _update_buttons(self) -> None:
        name = self.selected()
        info = next((i for i in self.infos if i.name == name), None)
        self.activate_button.setEnabled(info is not None and not info.active and info.path is not None)
        self.export_button.setEnabled(info is not None and info.path is not None)
        self.remove_button.setEnabled(info is not None and not info.bundled)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #B00020;" if error else "")

    # ------------------------------------------------------------------ actions
    def activate(self, name: str | None) -> bool:
        if name is None:
            return False
        try:
            self.registry.set_active(name)
        except USER_ERRORS as exc:
            self._say(f"Cannot switch: {exc}", True)
            return False
        self.refresh(name)
        self._say(f"“{name}” is now the active model; re-analyse lessons to use it.")
        self.activeModelChanged.emit(name)
        return True

    def export_to(self, name: str, destination: str) -> bool:
        try:
            path = self.registry.export(name, destination)
        except USER_ERRORS as exc:
            self._say(f"Cannot export: {exc}", True)
            return False
        self._say(f"Exported “{name}” to {path}.")
        return True

    def import_from(self, path: str) -> ModelInfo | None:
        try:
            info = self.registry.import_file(path)
        except USER_ERRORS as exc:
            self._say(f"Refused: {exc}", True)
            return None
        self.refresh(info.name)
        self._say(f"Imported “{info.name}” (verified). Make it active to analyse with it.")
        return info

    def remove(self, name: str | None) -> bool:
        if name is None:
            return False
        was_active = self.registry.get(name).active
        try:
            self.registry.remove(name)
        except USER_ERRORS as exc:
            self._say(f"Cannot remove: {exc}", True)
            return False
        self.refresh()
        self._say(f"Removed “{name}”." + (" The bundled model is active again." if was_active else ""))
        if was_active:
            self.activeModelChanged.emit(BUNDLED)
        return True

    def _export_clicked(self) -> None:
        name = self.selected()
        if name is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export model", f"{name}{MODEL_SUFFIX}", f"ESER model (*{MODEL_SUFFIX})"
        )
        if path:
            self.export_to(name, path)

    def _remove_clicked(self) -> None:
        name = self.selected()
        if name is None:
            return
        answer = QMessageBox.question(self, "Remove model", f"Remove “{name}” and delete its file in this workspace?")
        if answer == QMessageBox.StandardButton.Yes:
            self.remove(name)

    def _import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import model", "", f"ESER model (*{MODEL_SUFFIX});;All files (*)")
        if path:
            self.import_from(path)
