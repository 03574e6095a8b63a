"""The lesson library: the workspace's lessons with date, duration and status.

Audio files dropped on it are added; a click (or Enter) opens a lesson; names too long for
the column are elided in the middle (the full name is the tooltip); F2 renames;
Delete removes (after the main window asks). Multiple selection feeds "export selected".
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QApplication, QHeaderView, QMenu, QTableView, QVBoxLayout, QWidget

from esergui.lesson import Lesson, LessonStatus, stored_id
from esergui.timefmt import format_time

AUDIO_SUFFIXES = {
    ".wav",
    ".flac",
    ".ogg",
    ".oga",
    ".opus",
    ".mp3",
    ".m4a",
    ".aac",
    ".mp4",
    ".wma",
    ".aif",
    ".aiff",
    ".webm",
}
STATUS_COLOURS = {
    LessonStatus.NOT_ANALYSED: "#777777",
    LessonStatus.ANALYSING: "#E69F00",
    LessonStatus.ANALYSED: "#009E73",
    LessonStatus.EDITED: "#0072B2",
}
HEADERS = ("Lesson", "Date", "Duration", "Status")


def audio_paths(urls_or_paths) -> list[str]:
    """Local audio files among dropped URLs/paths (folders are searched one level deep)."""
    out: list[str] = []
    for item in urls_or_paths:
        path = Path(item.toLocalFile() if hasattr(item, "toLocalFile") else item)
        if path.is_dir():
            out.extend(str(p) for p in sorted(path.iterdir()) if p.suffix.lower() in AUDIO_SUFFIXES)
        elif path.suffix.lower() in AUDIO_SUFFIXES or path.is_file():
            out.append(str(path))
    return out


def _date(created: str) -> str:
    try:
        return datetime.fromisoformat(created).astimezone().strftime("%Y-%m-%d")
    except (TypeError, ValueError):
        return created or ""


class LessonListModel(QAbstractTableModel):
    """Rows of :class:`esergui.lesson.Lesson`; ``queued`` ids show as "queued"."""

    renamed = Signal(int, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.lessons: list[Lesson] = []
        self.queued: set[int] = set()

    def set_lessons(self, lessons: list[Lesson], queued: set[int] | None = None) -> None:
        self.beginResetModel()
        self.lessons = list(lessons)
        self.queued = set(queued or ())
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self.lessons)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 (Qt API)
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def status_text(self, lesson: Lesson) -> str:
        status = LessonStatus(lesson.status)
        if lesson.id in self.queued:
            return status.value if status == LessonStatus.ANALYSING else "queued"
        if status == LessonStatus.ANALYSING:
            return "interrupted"  # marked analysing by a run that did not finish (closed, crashed)
        return status.value

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        lesson = self.lessons[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == 0:
                return lesson.name
            if col == 1:
                return _date(lesson.created)
            if col == 2:
                return format_time(lesson.duration_s) if lesson.duration_s else "–"
            return self.status_text(lesson)
        if role == Qt.ItemDataRole.UserRole:
            return (lesson.name.lower(), lesson.created, lesson.duration_s or 0.0, self.status_text(lesson))[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 3:
            return QColor(STATUS_COLOURS.get(LessonStatus(lesson.status), "#444444"))
        if role == Qt.ItemDataRole.ToolTipRole:
            note = (
                "\nIts analysis did not finish: analyse it again (Ctrl+R)"
                if self.status_text(lesson) == "interrupted"
                else ""
            )
            return f"{lesson.name}\n{lesson.audio_path}\nClick to open · F2 to rename{note}"
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex):
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.column() == 0 else base

    def setData(self, index: QModelIndex | QPersistentModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802 (Qt API)
        if role == Qt.ItemDataRole.EditRole and index.column() == 0 and str(value).strip():
            lesson = self.lessons[index.row()]
            if str(value).strip() != lesson.name:
                self.renamed.emit(stored_id(lesson.id), str(value).strip())
            return True
        return False


class LessonLibrary(QWidget):
    """Signals: ``lessonOpened(id)``, ``renameRequested(id, name)``, ``removeRequested(list[id])``,
    ``analyseRequested(list[id])``. Dropped audio files reach the main window, which adds them."""

    lessonOpened = Signal(int)
    renameRequested = Signal(int, str)
    removeRequested = Signal(list)
    analyseRequested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = LessonListModel(self)
        self.model.renamed.connect(self.renameRequested)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.setAlternatingRowColors(True)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # "demo_l…son 2" tells two lessons apart
        self.view.setToolTip("Lessons in this workspace. Drop audio files here to add them; click to open")
        self.view.clicked.connect(self._on_click)
        self.view.doubleClicked.connect(self._on_double)
        self.view.activated.connect(self._on_double)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        self.remove_action = QAction("Remove from workspace", self)
        self.remove_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.remove_action.triggered.connect(self._remove_selected)
        self.addAction(self.remove_action)

    def set_lessons(self, lessons: list[Lesson], queued: set[int] | None = None, current: int | None = None) -> None:
        keep = set(self.selected_ids())
        self.model.set_lessons(lessons, queued)
        self.select_ids(keep or ({current} if current is not None else set()))

    def lesson_ids(self) -> list[int]:
        return [stored_id(lesson.id) for lesson in self.model.lessons]

    def _remove_selected(self) -> None:
        if self.selected_ids():
            self.removeRequested.emit(self.selected_ids())

    def selected_ids(self) -> list[int]:
        rows = sorted({self.proxy.mapToSource(ix).row() for ix in self.view.selectionModel().selectedRows()})
        return [stored_id(self.model.lessons[r].id) for r in rows]

    def select_ids(self, ids) -> None:
        sm = self.view.selectionModel()
        sm.clearSelection()
        for row, lesson in enumerate(self.model.lessons):
            if lesson.id in ids:
                ix = self.proxy.mapFromSource(self.model.index(row, 0))
                sm.select(ix, sm.SelectionFlag.Select | sm.SelectionFlag.Rows)

    def _on_click(self, index: QModelIndex) -> None:
        """A plain click opens the lesson; Ctrl/Shift+click only extends the selection."""
        mods = QApplication.keyboardModifiers()
        if not mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            self._on_double(index)

    def _on_double(self, index: QModelIndex) -> None:
        row = self.proxy.mapToSource(index).row()
        if 0 <= row < len(self.model.lessons):
            self.lessonOpened.emit(stored_id(self.model.lessons[row].id))

    def _menu(self, pos) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.lessonOpened.emit(ids[0]))
        menu.addAction("Analyse", lambda: self.analyseRequested.emit(ids))
        rename = menu.addAction("Rename…", lambda: self.view.edit(self.view.currentIndex().siblingAtColumn(0)))
        rename.setEnabled(len(ids) == 1)
        menu.addSeparator()
        menu.addAction(self.remove_action)
        menu.popup(self.view.viewport().mapToGlobal(pos))
