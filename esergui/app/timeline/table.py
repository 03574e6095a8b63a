"""The utterance table widget: the table view over :mod:`.table_model`'s model and filter proxy,
with its filter bar (role, speaker, emotion, confidence range, annotated or not) and selection."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from esergui.app.common.uncertain import threshold_text
from esergui.app.timeline.table_model import (
    COL,
    N_COLUMNS,
    UNCERTAIN_FILTER,
    UtteranceFilterProxy,
    UtteranceTableModel,
)
from esergui.review.lessondata import LessonData


class UtteranceTable(QWidget):
    """Filter bar + sortable table. ``rowsSelected(list[int])`` gives lesson rows chosen by the
    user; ``rowActivated(row)`` is a double-click or Enter."""

    rowsSelected = Signal(list)
    rowActivated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = UtteranceTableModel(self)
        self.proxy = UtteranceFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(COL["Start"], Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        for name, width in (
            ("#", 52),
            ("Start", 80),
            ("End", 80),
            ("Duration", 72),
            ("Speaker", 90),
            ("Role", 72),
            ("Emotion", 110),
            ("Confidence", 84),
        ):
            self.view.setColumnWidth(COL[name], width)
        self.view.setToolTip(
            "Utterances of the current lesson: click to select (it is shown in the timelines), double-click to play"
        )
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.view.doubleClicked.connect(lambda ix: self.rowActivated.emit(self.proxy.mapToSource(ix).row()))
        self._updating = False

        self.role_box = self._combo("Show only utterances of this role")
        self.speaker_box = self._combo("Show only utterances of this speaker")
        self.emotion_box = self._combo("Show only utterances with this emotion")
        self.annot_box = self._combo("Show annotated (corrected) utterances, or those not annotated yet")
        for text, value in (("Annotated or not", None), ("Annotated", True), ("Not annotated", False)):
            self.annot_box.addItem(text, value)
        self.min_conf = self._spin("Lowest confidence shown (%)", 0)
        self.max_conf = self._spin("Highest confidence shown (%)", 100)
        self.count_label = QLabel()
        self.count_label.setToolTip("Utterances shown / in the lesson")
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        for w in (self.role_box, self.speaker_box, self.emotion_box):
            bar.addWidget(w)
        bar.addWidget(QLabel("Confidence"))
        bar.addWidget(self.min_conf)
        bar.addWidget(QLabel("–"))
        bar.addWidget(self.max_conf)
        bar.addWidget(self.annot_box)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)
        for box in (self.role_box, self.speaker_box, self.emotion_box, self.annot_box):
            box.currentIndexChanged.connect(self._apply_filters)
        for spin in (self.min_conf, self.max_conf):
            spin.valueChanged.connect(self._apply_filters)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)

    def _combo(self, tip: str) -> QComboBox:
        box = QComboBox()
        box.setToolTip(tip)
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        return box

    def _spin(self, tip: str, value: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(0, 100)
        spin.setDecimals(0)
        spin.setSingleStep(5)
        spin.setSuffix(" %")
        spin.setValue(value)
        spin.setToolTip(tip)
        return spin

    # ---------------------------------------------------------------- data
    def update_rows(self, data: LessonData, rows: np.ndarray | None = None) -> None:
        """Show ``data`` — the same utterances (ids, times, labels list) as now, with new
        labels/roles/speakers on ``rows`` (model rows; None: any row) — without resetting the model: keeps the
        view's scroll position and selection. Falls back to :meth:`set_lesson` when the role or
        speaker lists (the filter boxes) change."""
        old = self.model.data_
        if len(old) != len(data) or data.roles() != old.roles() or sorted(data.speakers()) != sorted(old.speakers()):
            self.set_lesson(data)
            return
        self.proxy.invalidate_cache()
        self.model.data_ = data
        if rows is None:
            rows = np.arange(len(data))
        if len(rows):
            self.model.dataChanged.emit(
                self.model.index(int(rows.min()), 0), self.model.index(int(rows.max()), N_COLUMNS - 1)
            )

    def set_lesson(self, data: LessonData) -> None:
        old = (self.role_box.currentData(), self.speaker_box.currentData(), self.emotion_box.currentText())
        self._updating = True
        try:
            self.proxy.invalidate_cache()
            self.model.set_lesson(data)
            self._fill(self.role_box, "All roles", data.roles(), old[0])
            self._fill(self.speaker_box, "All speakers", sorted(data.speakers()), old[1])
            self.emotion_box.clear()
            self.emotion_box.addItem("All emotions", None)
            for k, name in enumerate(data.labels):
                self.emotion_box.addItem(name, k)
            self.emotion_box.addItem("Not recognised", -1)
            self.emotion_box.addItem(f"Uncertain ({threshold_text()})", UNCERTAIN_FILTER)
            i = self.emotion_box.findText(old[2])
            self.emotion_box.setCurrentIndex(max(0, i))
        finally:
            self._updating = False
        self._apply_filters()

    @staticmethod
    def _fill(box: QComboBox, all_text: str, values: list[str], keep) -> None:
        box.clear()
        box.addItem(all_text, None)
        for v in values:
            box.addItem(v or "(none)", v)
        i = box.findData(keep) if keep is not None else 0
        box.setCurrentIndex(max(0, i))

    def _apply_filters(self) -> None:
        if self._updating:
            return
        lo, hi = self.min_conf.value() / 100, self.max_conf.value() / 100
        self.proxy.set_filters(
            role=self.role_box.currentData(),
            speaker=self.speaker_box.currentData(),
            emotion=self.emotion_box.currentData(),
            min_conf=min(lo, hi),
            max_conf=max(lo, hi),
            annotated=self.annot_box.currentData(),
        )
        self._update_count()

    def _update_count(self, *_) -> None:
        self.count_label.setText(f"{self.proxy.rowCount()} of {self.model.rowCount()} utterances")

    # ----------------------------------------------------------- selection
    def selected_rows(self) -> list[int]:
        rows = {self.proxy.mapToSource(ix).row() for ix in self.view.selectionModel().selectedRows()}
        return sorted(rows)

    def select_rows(self, rows: list[int], scroll: bool = True) -> None:
        """Select lesson ``rows`` (those hidden by the filters are skipped) without emitting."""
        sel = QItemSelection()
        last = None
        for r in rows:
            ix = self.proxy.mapFromSource(self.model.index(r, 0))
            if ix.isValid():
                sel.select(ix, ix)
                last = ix
        self._updating = True
        try:
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            self.view.selectionModel().select(sel, flags)
            if last is not None:
                self.view.selectionModel().setCurrentIndex(last, QItemSelectionModel.SelectionFlag.NoUpdate)
                if scroll:
                    self.view.scrollTo(last, QAbstractItemView.ScrollHint.EnsureVisible)
        finally:
            self._updating = False

    def _on_selection(self, *_) -> None:
        if not self._updating:
            self.rowsSelected.emit(self.selected_rows())
