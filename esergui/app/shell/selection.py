"""The one shared selection: the current lesson and the selected utterances.

The table, both timelines, playback and (later) the annotation panel all read and write this
object instead of talking to each other. Utterances are named by their stable ids (the
``ids`` column of :class:`LessonData`), so a selection survives re-sorting and reloads.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from esergui.review.lessondata import LessonData


class SelectionModel(QObject):
    """Signals: ``lessonChanged(LessonData)`` when another lesson (or a reloaded one) is
    current; ``utterancesSelected(list[int] ids, object source)`` where ``source`` is whoever
    changed the selection (views ignore their own echoes)."""

    lessonChanged = Signal(object)
    utterancesSelected = Signal(list, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lesson: LessonData = LessonData.empty()
        self.ids: list[int] = []
        self._row_of: dict[int, int] = {}

    def set_lesson(self, data: LessonData, keep_selection: bool = False) -> None:
        """Make ``data`` current (``keep_selection``: keep ids that still exist, for reloads)."""
        self.lesson = data
        self._row_of = {int(uid): i for i, uid in enumerate(data.ids)}
        kept = [i for i in self.ids if i in self._row_of] if keep_selection else []
        self.ids = kept
        self.lessonChanged.emit(data)
        self.utterancesSelected.emit(list(self.ids), self)

    def select_ids(self, ids: list[int], source: object = None) -> None:
        ids = [int(i) for i in ids if int(i) in self._row_of]
        if ids == self.ids:
            return
        self.ids = ids
        self.utterancesSelected.emit(list(ids), source)

    def select_rows(self, rows: list[int], source: object = None) -> None:
        """Select by rows of the current :class:`LessonData`."""
        ids = self.lesson.ids
        self.select_ids([int(ids[r]) for r in rows if 0 <= r < len(ids)], source)

    def rows(self) -> list[int]:
        """Rows of the selected utterances in the current lesson, in time order."""
        return sorted(self._row_of[i] for i in self.ids if i in self._row_of)

    def row_of(self, uid: int) -> int:
        return self._row_of.get(int(uid), -1)

    @property
    def current_row(self) -> int:
        """Row of the most recently selected utterance (-1 if none)."""
        return self._row_of.get(self.ids[-1], -1) if self.ids else -1
