"""Annotation: correct, label, code and comment utterances fast, with undo, never losing an edit.

:func:`~esergui.app.annotation.install.install_annotation` plugs an :class:`AnnotationController` into the main window: an
Annotate menu (with the keys), context menus on the table and the timelines, docks (annotation
panel with the emotion legend, speakers, model-vs-human comparison, undo history), draggable
edges and Shift+drag creation on the detail timeline, and a column display of who set a label.

Every edit goes through :mod:`esergui.app.annotation.undo` (one workspace transaction, at once, undoable).
Keys act on the selected utterances while the table or a timeline has the focus:

====================  ==================================================================
1-9 / 0               emotion: the n-th label of the model (legend in the panel) / back to the model's
T / S / Shift+T       role teacher / student / assign to the teacher's voice (speaker)
Backspace             back to the model: clear human emotion, role and speaker
R                     reviewed on/off
E                     write a note (focus the note field)
letters (Q, P, L...)  toggle a researcher code (configurable list, FIAC defaults)
X / M                 split at the cursor / merge with the next utterance (or the selected ones)
Delete / Insert       delete / new utterance in the marked range (Shift+drag in the detail view)
Down / Up             next / previous utterance (in the table's order and filters)
U / Shift+U           next / previous unreviewed utterance
N / Shift+N           next / previous uncertain utterance (below ``CONFIDENCE_THRESHOLD``)
Ctrl+G                jump to a time
====================  ==================================================================
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDockWidget, QStyledItemDelegate

from esergui.app.annotation.boundaries import BoundaryEdits
from esergui.app.annotation.codes import Code, CodesDialog, load_codes, save_codes
from esergui.app.annotation.menus import AnnotationMenus
from esergui.app.annotation.navigation import Navigation
from esergui.app.annotation.speaker_commands import SpeakerCommands
from esergui.app.annotation.undo import (
    NOTE_MERGE_ID,
    EditLayer,
    UtteranceEdit,
    UtteranceOp,
)
from esergui.errors import USER_ERRORS
from esergui.lesson import CONFIDENCE_THRESHOLD, LessonStatus, Speaker, Utterance, stored_id
from esergui.review.lessondata import LessonData
from model.data import EMODB_LABELS

if TYPE_CHECKING:
    from esergui.app.annotation.compare import ComparePanel
    from esergui.app.annotation.editor import TimelineEditor
    from esergui.app.annotation.panel import AnnotationPanel
    from esergui.app.annotation.speakers import SpeakersPanel
    from esergui.app.annotation.undo import UndoHistory
    from esergui.app.common.workers import TaskRunner
    from esergui.app.shell.window import MainWindow
    from esergui.workspace import Workspace

log = logging.getLogger(__name__)

#: Single keys the annotation commands use (codes may not take them).
RESERVED_KEYS = {str(d) for d in range(10)} | {"T", "S", "R", "E", "X", "M", "U", "N"}


class AnnotationController(BoundaryEdits, Navigation, SpeakerCommands, QObject):
    """The annotation logic over the main window (it uses ``workspace``, ``current_id``,
    ``selection``, ``undo_stack``, ``table``, ``detail``, ``overview``,
    ``reload_current_lesson()`` and ``relabel_current_lesson(records)``).

    Edit methods act on ``ids`` (default: the selected utterances) and return True when the
    edit was made. Signals: ``edited()`` after every do/undo/redo, ``message(text)`` for the
    status bar, ``refused(text)`` when the workspace refused an edit."""

    edited = Signal()
    message = Signal(str)
    refused = Signal(str)
    rangeMarked = Signal(object)  # (start, end) seconds, or None
    codesChanged = Signal()
    lessonShown = Signal(object)  # LessonData
    reanalysed = Signal(int, int)  # lesson id, number of disagreements with human labels
    panelsRefresh = Signal()  # selection or content changed: panels re-read
    noteRequested = Signal()  # E: the panel focuses its note field

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.win = window
        self.selection = window.selection
        self.stack = window.undo_stack
        self.layer = EditLayer(self.stack, lambda: self.win.workspace, self)
        self.layer.changed.connect(self._after_edit)
        self.layer.failed.connect(self._refused)
        self.codes: list[Code] = load_codes(None)
        self.low_confidence = CONFIDENCE_THRESHOLD  # "next uncertain" (N) stops below it
        self.snap_enabled = True
        self.marked_range: tuple[float, float] | None = None
        self._run_of: dict[int, int | None] = {}
        self._ws_seen: Workspace | None = None
        self.menus = AnnotationMenus(self)
        # what install_annotation() attaches (None until then): table delegates, timeline editor, docks
        self.delegates: list[QStyledItemDelegate] = []
        self.timeline: TimelineEditor | None = None
        self.panel: AnnotationPanel | None = None
        self.speakers_panel: SpeakersPanel | None = None
        self.compare_panel: ComparePanel | None = None
        self.history: UndoHistory | None = None
        self.docks: dict[str, QDockWidget] = {}
        self._first_show: QObject | None = None  # sizes the docks once the window is first shown
        self.reanalysed_lessons: list[int] = []
        self.recognising: TaskRunner | None = None  # the running "recognise this utterance" job
        self.selection.lessonChanged.connect(self._on_lesson)
        self.selection.utterancesSelected.connect(lambda ids, src: self._refresh_panels())

    # ================================================================ state
    @property
    def ws(self) -> Workspace | None:
        return self.win.workspace

    @property
    def lesson_id(self) -> int | None:
        lid = self.win.current_id
        return None if lid is None else int(lid)

    @property
    def data(self) -> LessonData:
        return self.selection.lesson

    @property
    def labels(self) -> tuple[str, ...]:
        """The emotion labels keys 1-9 map to: the lesson's model's, else the active model's."""
        if self.data.labels:
            return tuple(self.data.labels)
        ws = self.ws
        entry = getattr(ws, "active_model", None) if ws is not None else None
        if entry is not None and entry.labels:
            return tuple(entry.labels)

        return tuple(EMODB_LABELS)

    def records(self) -> list[Utterance]:
        """The current lesson's utterance records in row order."""
        return list(self.data.extra.get("records", []))

    def record(self, row: int) -> Utterance | None:
        recs = self.data.extra.get("records", [])
        return recs[row] if 0 <= row < len(recs) else None

    def selected_ids(self) -> list[int]:
        """Selected utterance ids in time order."""
        ids = self.data.ids
        return [int(ids[r]) for r in self.selection.rows()]

    def selected_records(self) -> list[Utterance]:
        return [r for r in (self.record(row) for row in self.selection.rows()) if r is not None]

    def speakers(self) -> list[Speaker]:
        if self.ws is None or self.lesson_id is None:
            return []
        return self.ws.speakers(self.lesson_id)

    def editable(self, quiet: bool = False) -> bool:
        """Whether the current lesson can be edited now (open, stored, not being analysed)."""
        why = ""
        if self.ws is None or self.lesson_id is None:
            why = "Open a lesson first."
        elif self.data.extra.get("partial") or (len(self.data) and int(self.data.ids.min()) < 0):
            why = "The lesson is being analysed; edit it when the analysis is done."
        else:
            try:
                if self.ws.lesson(self.lesson_id).status == LessonStatus.ANALYSING:
                    why = "The lesson is being analysed; edit it when the analysis is done."
            except USER_ERRORS as exc:
                why = str(exc)
        if why and not quiet:
            self.message.emit(why)
        return not why

    def _target(self) -> tuple[Workspace, int]:
        """The open workspace and the current lesson's id, once :meth:`editable` said yes."""
        ws, lid = self.ws, self.lesson_id
        assert ws is not None and lid is not None, "editable() checks both"
        return ws, lid

    def _ids(self, ids: Iterable[int] | None) -> list[int]:
        out = self.selected_ids() if ids is None else [int(i) for i in ids]
        if not out:
            self.message.emit("Select one or more utterances first.")
        return out

    # ============================================================ command plumbing
    def _push_utterances(
        self,
        text: str,
        ids: Sequence[int],
        op: UtteranceOp,
        merge_id: int = -1,
        light: bool = False,
    ) -> bool:
        if not ids or not self.editable():
            return False
        n = len(ids)
        label = f"{text} ({n} utterances)" if n > 1 else text
        return self.layer.push(UtteranceEdit(label, self._target()[1], ids, op, merge_id, light))

    def _after_edit(
        self, lesson_id: int, ids: list, light: bool = False, records: Sequence[Utterance] | None = None
    ) -> None:
        """Show the stored state: after a note/code/review edit refresh just those records;
        after a label edit (``records``: the changed utterances) patch their rows; else re-read
        the lesson; then select ``ids``."""
        if lesson_id != self.lesson_id:
            return
        if light and self._refresh_records(ids or self.selected_ids()):
            pass
        elif records is not None and self.win.relabel_current_lesson(records):
            if ids:
                self.selection.select_ids([int(i) for i in ids], self)
        else:
            self.win.reload_current_lesson()
            if ids:
                self.selection.select_ids([int(i) for i in ids], self)
        self._refresh_panels()
        self.edited.emit()

    def _refresh_records(self, ids: Sequence[int]) -> bool:
        """Replace the shown records of ``ids`` by what the store holds (False if any is not
        shown: then the caller reloads everything)."""
        data = self.data
        recs = data.extra.get("records")
        if recs is None or self.ws is None:
            return False
        for uid in ids:
            row = data.row_of_id(int(uid))
            if row < 0 or row >= len(recs):
                return False
            u = self.ws.utterance(int(uid))
            if u.deleted:
                return False
            recs[row] = u
            data.annotated[row] = u.has_human_edit
        self.win.table.view.viewport().update()
        return True

    def _refused(self, text: str) -> None:
        self.refused.emit(text)
        self.message.emit(text)

    # ================================================================ labels
    def set_emotion(self, label: str | None, ids: Iterable[int] | None = None) -> bool:
        ids = self._ids(ids)
        text = f"Emotion → {label}" if label else "Emotion → model's"
        return self._push_utterances(text, ids, lambda ws: ws.set_emotion(ids, label))

    def set_emotion_key(self, k: int) -> bool:
        """Key ``k`` (1-9): the k-th label; 0: back to the model's."""
        if k == 0:
            return self.set_emotion(None)
        labels = self.labels
        if not 1 <= k <= len(labels):
            self.message.emit(f"The model has {len(labels)} emotion labels; key {k} has none.")
            return False
        return self.set_emotion(labels[k - 1])

    def set_role(self, role: str | None, ids: Iterable[int] | None = None) -> bool:
        ids = self._ids(ids)
        text = f"Role → {role}" if role else "Role → model's"
        return self._push_utterances(text, ids, lambda ws: ws.set_role(ids, role))

    def set_speaker(self, label: str | None, ids: Iterable[int] | None = None) -> bool:
        ids = self._ids(ids)
        names = {s.label: s.name for s in self.speakers()}
        text = f"Speaker → {names.get(label, label)}" if label else "Speaker → model's"
        return self._push_utterances(text, ids, lambda ws: ws.set_speaker(ids, label))

    def clear_human(self, ids: Iterable[int] | None = None) -> bool:
        """Back to the model: clear the human emotion, role and speaker."""
        ids = self._ids(ids)
        changes = {i: {"human_emotion": None, "human_role": None, "human_speaker": None} for i in ids}
        return self._push_utterances(
            "Back to the model's labels", ids, lambda ws: ws.update_human(changes, "clear_human")
        )

    def set_note(self, note: str, ids: Iterable[int] | None = None) -> bool:
        ids = self._ids(ids)
        return self._push_utterances("Note", ids, lambda ws: ws.set_note(ids, note), merge_id=NOTE_MERGE_ID, light=True)

    def set_codes(self, codes: Sequence[str], ids: Iterable[int] | None = None) -> bool:
        ids = self._ids(ids)
        return self._push_utterances(
            "Codes → " + (", ".join(codes) or "none"), ids, lambda ws: ws.set_codes(ids, list(codes)), light=True
        )

    def toggle_code(self, name: str, ids: Iterable[int] | None = None) -> bool:
        """Add ``name`` to every utterance, or remove it when all of them have it already."""
        ids = self._ids(ids)
        if not ids or not self.editable():
            return False
        ws = self._target()[0]
        recs = {stored_id(u.id): u for u in (ws.utterance(i) for i in ids)}
        on = not all(name in recs[i].codes for i in ids)
        changes = {}
        for i in ids:
            codes = [c for c in recs[i].codes if c != name]
            changes[i] = {"codes": codes + [name] if on else codes}
        text = f"Code {'+' if on else '−'} {name}"
        return self._push_utterances(text, ids, lambda ws: ws.update_human(changes, "codes"), light=True)

    def set_reviewed(self, flag: bool, ids: Iterable[int] | None = None) -> bool:
        ids = self._ids(ids)
        return self._push_utterances(
            "Reviewed" if flag else "Not reviewed", ids, lambda ws: ws.set_reviewed(ids, flag), light=True
        )

    def toggle_reviewed(self, ids: Iterable[int] | None = None) -> bool:
        ids = self._ids(ids)
        if not ids or not self.editable():
            return False
        ws = self._target()[0]
        flag = not all(ws.utterance(i).reviewed for i in ids)
        return self.set_reviewed(flag, ids)

    # ================================================================ review
    def review_progress(self) -> tuple[int, int]:
        if self.ws is None or self.lesson_id is None:
            return 0, 0
        return self.ws.review_progress(self.lesson_id)

    def disagreements(self) -> list:
        if self.ws is None or self.lesson_id is None:
            return []
        return self.ws.disagreements(self.lesson_id)

    # ================================================================ codes
    def set_code_list(self, codes: Sequence[Code]) -> None:
        if self.ws is not None:
            save_codes(self.ws, codes)
        self.codes = list(codes)
        self.codesChanged.emit()

    def edit_codes(self) -> CodesDialog:
        dialog = CodesDialog(self.codes, RESERVED_KEYS, self.win)
        dialog.accepted.connect(lambda: self.set_code_list(dialog.codes()))
        dialog.open()
        return dialog

    # ============================================================ lesson changes
    def _on_lesson(self, data: LessonData) -> None:
        ws = self.ws
        if ws is not self._ws_seen:
            self._ws_seen = ws
            self._run_of.clear()
            self.codes = load_codes(ws)
            self.codesChanged.emit()
        lid = self.lesson_id
        if ws is not None and lid is not None and not data.extra.get("partial"):
            try:
                run = ws.latest_run(lid)
            except USER_ERRORS:
                run = None
            run_id = run.id if run is not None else None
            if lid in self._run_of and self._run_of[lid] != run_id:
                if self._run_of[lid] is None:
                    self.stack.clear()  # first analysis: nothing to compare yet
                else:
                    self._on_reanalysed(lid)
            self._run_of[lid] = run_id
        if self.marked_range is not None and lid is None:
            self.marked_range = None
        self.lessonShown.emit(data)
        self._refresh_panels()

    def _on_reanalysed(self, lesson_id: int) -> None:
        """A new analysis replaced the model layer: old commands name replaced utterances, so
        the undo history of this lesson ends here; show where the model now disagrees."""
        self.stack.clear()
        self.reanalysed_lessons.append(lesson_id)
        n = len(self.disagreements())
        self.reanalysed.emit(lesson_id, n)
        self.message.emit(
            f"Re-analysed: all human edits kept; the new model disagrees with {n} human label(s)"
            if n
            else "Re-analysed: all human edits kept"
        )

    def _refresh_panels(self) -> None:
        self.panelsRefresh.emit()
