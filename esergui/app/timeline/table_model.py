"""The utterance table's data: :class:`UtteranceTableModel` (one row per utterance of a
:class:`LessonData`, display text, sort keys, tooltips and colours) and
:class:`UtteranceFilterProxy` (role, speaker, emotion, confidence range, annotated or not).
The widget with its filter bar is :mod:`.table`."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QIcon, QPixmap

from esergui.app.common.palette import UNCERTAIN_HATCH, UNKNOWN_COLOUR, label_colours, uncertain_swatch
from esergui.app.common.uncertain import probabilities_text, threshold_text, uncertain_rows
from esergui.lesson import UNCERTAIN
from esergui.review.lessondata import LessonData
from esergui.timefmt import format_time

COLUMNS = ("#", "Start", "End", "Duration", "Speaker", "Role", "Emotion", "Confidence", "Annotated")
COL = {name: i for i, name in enumerate(COLUMNS)}
N_COLUMNS = len(COLUMNS)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ALL = "__all__"
UNCERTAIN_FILTER = -2  # the emotion filter's value for "uncertain" (-1: not recognised)


class UtteranceTableModel(QAbstractTableModel):
    """One row per utterance (row = row of :class:`LessonData`). ``SORT_ROLE`` gives raw values."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.data_ = LessonData.empty()
        self._n = 0
        self._icons: list[QIcon] = []
        self._unsure_of: LessonData | None = None  # the lesson _unsure was computed for
        self._unsure = np.zeros(0, bool)

    def is_uncertain(self, row: int) -> bool:
        """Whether ``row`` shows as "uncertain" (:func:`~esergui.app.common.uncertain.uncertain_rows`)."""
        if self._unsure_of is not self.data_:
            self._unsure, self._unsure_of = uncertain_rows(self.data_), self.data_
        return bool(self._unsure[row])

    def ranks(self, col: int) -> list[int]:
        """Rank of every row when sorted by column ``col`` (ties keep lesson order)."""
        d = self.data_
        name = COLUMNS[col]
        if name in ("#", "Start"):
            key = d.start if name == "Start" else np.arange(len(d))
        elif name == "End":
            key = d.end
        elif name == "Duration":
            key = d.end - d.start
        elif name == "Confidence":
            key = np.nan_to_num(d.confidence.astype(np.float64), nan=-1.0)
        elif name == "Annotated":
            key = d.annotated.astype(int)
        elif name == "Emotion":
            key = np.array([d.label_name(i) for i in range(len(d))], dtype=str)
        else:
            key = (d.speaker if name == "Speaker" else d.role).astype(str)
        order = np.argsort(key, kind="stable")
        rank = np.empty(len(d), dtype=np.int64)
        rank[order] = np.arange(len(d))
        return rank.tolist()

    def set_lesson(self, data: LessonData) -> None:
        self.beginResetModel()
        self.data_ = data
        self._n = len(data)
        self._icons = []
        for colour in label_colours(data.labels) + [UNKNOWN_COLOUR]:
            pm = QPixmap(12, 12)
            pm.fill(QColor(colour))
            self._icons.append(QIcon(pm))
        self._uncertain_icon = QIcon(uncertain_swatch())
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt API; called very often)
        return 0 if parent.isValid() else self._n

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else N_COLUMNS

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 (Qt API)
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return {
                    "#": "Utterance number in the lesson",
                    "Confidence": "Probability of the top emotion",
                    "Annotated": "Whether a person has corrected or annotated this utterance",
                    "Role": "Teacher or student",
                    "Duration": "Length in seconds",
                }.get(COLUMNS[section], COLUMNS[section])
        return None

    def raw(self, row: int, col: int):
        d = self.data_
        name = COLUMNS[col]
        if name == "#":
            return row + 1
        if name == "Start":
            return float(d.start[row])
        if name == "End":
            return float(d.end[row])
        if name == "Duration":
            return float(d.end[row] - d.start[row])
        if name == "Speaker":
            return str(d.speaker[row])
        if name == "Role":
            return str(d.role[row])
        if name == "Emotion":
            return d.label_name(row)
        if name == "Confidence":
            c = float(d.confidence[row])
            return -1.0 if np.isnan(c) else c
        return bool(d.annotated[row])

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        name = COLUMNS[col]
        if role == SORT_ROLE:
            return self.raw(row, col)
        if role == Qt.ItemDataRole.DisplayRole:
            value = self.raw(row, col)
            if name in ("Start", "End"):
                return format_time(value, 1)
            if name == "Duration":
                return f"{value:.1f} s"
            if name == "Confidence":
                return "" if value < 0 else f"{value:.0%}"
            if name == "Annotated":
                return "✓" if value else ""
            if name == "Emotion" and self.is_uncertain(row):
                return f"{UNCERTAIN} ({value}?)"
            return value
        if name == "Emotion" and self.is_uncertain(row):
            if role == Qt.ItemDataRole.DecorationRole:
                return self._uncertain_icon
            if role == Qt.ItemDataRole.ForegroundRole:
                return QColor(UNCERTAIN_HATCH)
            if role == Qt.ItemDataRole.ToolTipRole:
                probs = probabilities_text(self.data_, row)
                return f"Uncertain: the model's label is {threshold_text()}" + (f"\n{probs}" if probs else "")
        if role == Qt.ItemDataRole.DecorationRole and name == "Emotion":
            k = int(self.data_.label[row])
            return self._icons[k] if 0 <= k < len(self._icons) - 1 else self._icons[-1] if self._icons else None
        if role == Qt.ItemDataRole.TextAlignmentRole and name in ("#", "Start", "End", "Duration", "Confidence"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.TextAlignmentRole and name == "Annotated":
            return int(Qt.AlignmentFlag.AlignCenter)
        return None


class UtteranceFilterProxy(QSortFilterProxyModel):
    """Filters rows by role, speaker, emotion (label index, -1 = not recognised), a confidence
    range in ``[0, 1]`` and annotated (None = either)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.role: str | None = None
        self.speaker: str | None = None
        self.emotion: int | None = None
        self.min_conf = 0.0
        self.max_conf = 1.0
        self.annotated: bool | None = None
        self._accept: list[bool] | None = None
        self._rank: list[int] | None = None

    def set_filters(self, **kw) -> None:
        for key, value in kw.items():
            if not hasattr(self, key):
                raise AttributeError(key)
            setattr(self, key, value)
        self._accept = None
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9
            self.beginFilterChange()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateRowsFilter()

    def _mask(self) -> list[bool]:
        """Which lesson rows pass the filters (computed with numpy, once per change)."""
        d: LessonData = self._source().data_
        keep = np.ones(len(d), bool)
        if self.role is not None:
            keep &= d.role.astype(str) == self.role
        if self.speaker is not None:
            keep &= d.speaker.astype(str) == self.speaker
        if self.emotion == UNCERTAIN_FILTER:
            keep &= uncertain_rows(d)
        elif self.emotion is not None:
            keep &= d.label == self.emotion
        if self.min_conf > 0.0 or self.max_conf < 1.0:
            c = d.confidence
            keep &= ~np.isnan(c) & (c >= self.min_conf - 1e-6) & (c <= self.max_conf + 1e-6)
        if self.annotated is not None:
            keep &= d.annotated == self.annotated
        return keep.tolist()

    def _source(self) -> UtteranceTableModel:
        model = self.sourceModel()
        assert isinstance(model, UtteranceTableModel)  # UtteranceTable sets it
        return model

    def invalidate_cache(self) -> None:
        self._accept = None
        self._rank = None

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802 (Qt API)
        if self._accept is None:
            self._accept = self._mask()
        return self._accept[row]

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Rank the rows with numpy first, so the comparisons are cheap (a lesson of three hours
        has thousands of utterances)."""
        self._rank = self._source().ranks(column) if column >= 0 else None
        super().sort(column, order)

    def lessThan(self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802 (Qt API)
        rank = self._rank
        if rank is None:
            rank = self._rank = self._source().ranks(self.sortColumn())
        return rank[left.row()] < rank[right.row()]
