"""Annotation: correct, label, code and comment utterances fast, with undo, never losing an edit.

:func:`install_annotation` plugs an :class:`AnnotationController` into the main window: an
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
N / Shift+N           next / previous low-confidence utterance (below the threshold)
Ctrl+G                jump to a time
====================  ==================================================================
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QWidget

from esergui.app.annotation.codes import Code, CodesDialog, load_codes, save_codes
from esergui.app.annotation.undo import NOTE_MERGE_ID, EditLayer, MergeSpeakersEdit, SpeakerEdit, UtteranceEdit
from esergui.app.timeline.timeaxis import format_time
from esergui.errors import USER_ERRORS
from esergui.lesson import STUDENT, TEACHER, LessonStatus, Speaker, Utterance
from esergui.review.lessondata import LessonData

log = logging.getLogger(__name__)

#: Single keys the annotation commands use (codes may not take them).
RESERVED_KEYS = {str(d) for d in range(10)} | {"T", "S", "R", "E", "X", "M", "U", "N"}
LOW_CONFIDENCE = 0.5  # default threshold of "next low confidence"
SNAP_PX = 10  # edges dropped within this many pixels of a quiet point snap to it
SNAP_MAX_S = 0.3


def parse_time(text: str) -> float:
    """``"1:02:03.5"``, ``"2:03"``, ``"75.5"``, ``"75 s"`` -> seconds. Raises ValueError."""
    t = text.strip().lower().rstrip("s").strip()
    if not t:
        raise ValueError("empty time")
    if not re.fullmatch(r"\d+(:\d{1,2}){0,2}(\.\d*)?|\d*\.\d+", t):
        raise ValueError(f"not a time: {text!r}")
    seconds = 0.0
    for part in t.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


class AnnotationController(QObject):
    """The annotation logic over a host window (duck-typed: ``workspace``, ``current_id``,
    ``selection``, ``undo_stack``, ``table``, ``detail``, ``overview``,
    ``reload_current_lesson()``, ``statusBar()``; optionally ``relabel_current_lesson(records)``,
    ``errors``, ``add_dock``, ``menus``, ``settings``).

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

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.win = window
        self.selection = window.selection
        self.stack = window.undo_stack
        self.layer = EditLayer(self.stack, lambda: getattr(self.win, "workspace", None), self)
        self.layer.changed.connect(self._after_edit)
        self.layer.failed.connect(self._refused)
        self.codes: list[Code] = load_codes(None)
        self.low_confidence = LOW_CONFIDENCE
        self.snap_enabled = True
        self.marked_range: tuple[float, float] | None = None
        self._run_of: dict[int, int | None] = {}
        self._ws_seen: Any = None
        self.actions: dict[str, QAction] = {}
        self.emotion_actions: list[QAction] = []
        self.code_actions: list[QAction] = []
        self.key_widgets: list[QWidget] = []
        self.reanalysed_lessons: list[int] = []
        self.selection.lessonChanged.connect(self._on_lesson)
        self.selection.utterancesSelected.connect(lambda ids, src: self._refresh_panels())

    # ================================================================ state
    @property
    def ws(self) -> Any:
        return getattr(self.win, "workspace", None)

    @property
    def lesson_id(self) -> int | None:
        lid = getattr(self.win, "current_id", None)
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
        from model.data import EMODB_LABELS

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

    def _ids(self, ids: Iterable[int] | None) -> list[int]:
        out = self.selected_ids() if ids is None else [int(i) for i in ids]
        if not out:
            self.message.emit("Select one or more utterances first.")
        return out

    # ============================================================ command plumbing
    def _push_utterances(self, text: str, ids: Sequence[int], op: Callable[[Any], Iterable[int] | None],
                         merge_id: int = -1, light: bool = False) -> bool:
        if not ids or not self.editable():
            return False
        n = len(ids)
        label = f"{text} ({n} utterances)" if n > 1 else text
        return self.layer.push(UtteranceEdit(label, self.lesson_id, ids, op, merge_id, light))

    def _after_edit(self, lesson_id: int, ids: list, light: bool = False, records: Any = None) -> None:
        """Show the stored state: after a note/code/review edit refresh just those records;
        after a label edit (``records``: the changed utterances) patch their rows; else re-read
        the lesson; then select ``ids``."""
        if lesson_id != self.lesson_id:
            return
        relabel = getattr(self.win, "relabel_current_lesson", None)
        if light and self._refresh_records(ids or self.selected_ids()):
            pass
        elif records is not None and relabel is not None and relabel(records):
            if ids:
                self.selection.select_ids([int(i) for i in ids], self)
        else:
            reload = getattr(self.win, "reload_current_lesson", None)
            if reload is not None:
                reload()
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
        table = getattr(self.win, "table", None)
        if table is not None:
            table.view.viewport().update()
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

    def teacher_label(self) -> str | None:
        """The teacher's speaker: the speaker with role teacher and the most talk time."""
        talk: dict[str, float] = {}
        for u in self.records():
            if u.final_speaker:
                talk[u.final_speaker] = talk.get(u.final_speaker, 0.0) + u.duration_s
        teachers = [s for s in self.speakers() if s.role == TEACHER]
        if not teachers:
            return None
        return max(teachers, key=lambda s: (talk.get(s.label, 0.0), -int(s.id or 0))).label

    def assign_to_teacher(self, ids: Iterable[int] | None = None) -> bool:
        """Give the utterances to the teacher's voice (speaker), so they count as teacher talk."""
        label = self.teacher_label()
        if label is None:
            self.message.emit("No speaker is the teacher yet: set one in the Speakers panel.")
            return False
        return self.set_speaker(label, ids)

    def clear_human(self, ids: Iterable[int] | None = None) -> bool:
        """Back to the model: clear the human emotion, role and speaker."""
        ids = self._ids(ids)
        changes = {i: {"human_emotion": None, "human_role": None, "human_speaker": None} for i in ids}
        return self._push_utterances("Back to the model's labels", ids, lambda ws: ws.update_human(changes, "clear_human"))

    def set_note(self, note: str, ids: Iterable[int] | None = None) -> bool:
        ids = self._ids(ids)
        return self._push_utterances("Note", ids, lambda ws: ws.set_note(ids, note), merge_id=NOTE_MERGE_ID, light=True)

    def set_codes(self, codes: Sequence[str], ids: Iterable[int] | None = None) -> bool:
        ids = self._ids(ids)
        return self._push_utterances("Codes → " + (", ".join(codes) or "none"), ids, lambda ws: ws.set_codes(ids, list(codes)),
                                     light=True)

    def toggle_code(self, name: str, ids: Iterable[int] | None = None) -> bool:
        """Add ``name`` to every utterance, or remove it when all of them have it already."""
        ids = self._ids(ids)
        if not ids or not self.editable():
            return False
        recs = {int(u.id): u for u in (self.ws.utterance(i) for i in ids)}
        on = not all(name in recs[i].codes for i in ids)
        changes = {}
        for i in ids:
            codes = [c for c in recs[i].codes if c != name]
            changes[i] = {"codes": codes + [name] if on else codes}
        text = f"Code {'+' if on else '−'} {name}"
        return self._push_utterances(text, ids, lambda ws: ws.update_human(changes, "codes"), light=True)

    def set_reviewed(self, flag: bool, ids: Iterable[int] | None = None) -> bool:
        ids = self._ids(ids)
        return self._push_utterances("Reviewed" if flag else "Not reviewed", ids, lambda ws: ws.set_reviewed(ids, flag),
                                     light=True)

    def toggle_reviewed(self, ids: Iterable[int] | None = None) -> bool:
        ids = self._ids(ids)
        if not ids or not self.editable():
            return False
        flag = not all(self.ws.utterance(i).reviewed for i in ids)
        return self.set_reviewed(flag, ids)

    # ============================================================ boundaries
    def split_at(self, t: float | None = None, uid: int | None = None) -> bool:
        """Split the selected utterance (or the one under the cursor) at ``t`` (default: the
        detail view's cursor)."""
        if not self.editable():
            return False
        t = float(self.win.detail.cursor_time if t is None else t)
        if uid is None:
            uid = self._utterance_at(t, prefer=self.selected_ids())
        if uid is None:
            self.message.emit(f"No utterance at the cursor ({format_time(t, 2)}): click inside one to place the cursor.")
            return False
        # the second part is selected afterwards: label it, or Up to label the first
        return self._push_utterances(f"Split at {format_time(t, 2)}", [uid], lambda ws: [ws.split_utterance(uid, t)[1]])

    def _utterance_at(self, t: float, prefer: Sequence[int] = ()) -> int | None:
        d = self.data
        inside = [int(d.ids[r]) for r in np.flatnonzero((d.start < t) & (d.end > t))]
        for uid in prefer:
            if uid in inside:
                return uid
        return inside[0] if inside else None

    def merge(self, ids: Iterable[int] | None = None) -> bool:
        """Merge the selected utterances (two or more), or the selected one with the next."""
        ids = self._ids(ids)
        if not ids or not self.editable():
            return False
        if len(ids) == 1:
            row = self.data.row_of_id(ids[0])
            if row < 0 or row + 1 >= len(self.data):
                self.message.emit("There is no next utterance to merge with.")
                return False
            ids = [ids[0], int(self.data.ids[row + 1])]
        return self._push_utterances("Merge", ids, lambda ws: [ws.merge_utterances(ids)])

    def delete(self, ids: Iterable[int] | None = None) -> bool:
        ids = self._ids(ids)
        if not ids or not self.editable():
            return False
        nxt = self._neighbour_after(ids)

        def op(ws: Any) -> list[int]:
            ws.delete_utterances(ids)
            return []

        ok = self._push_utterances("Delete", ids, op)
        if ok and nxt is not None:
            self.selection.select_ids([nxt], self)
        return ok

    def _neighbour_after(self, ids: Sequence[int]) -> int | None:
        rows = [self.data.row_of_id(i) for i in ids]
        last = max(rows, default=-1)
        gone = set(ids)
        for r in range(last + 1, len(self.data)):
            if int(self.data.ids[r]) not in gone:
                return int(self.data.ids[r])
        return None

    def create(self, start_s: float, end_s: float, role: str | None = None, speaker: str | None = None) -> bool:
        """A new utterance (speech the VAD missed) from ``start_s`` to ``end_s`` seconds."""
        if not self.editable():
            return False
        a, b = sorted((float(start_s), float(end_s)))
        if b - a < 0.05:
            self.message.emit("Mark at least 50 ms to make an utterance (Shift+drag in the detail view).")
            return False
        lid = self.lesson_id
        ok = self.layer.push(UtteranceEdit(
            f"New utterance {format_time(a, 1)}–{format_time(b, 1)}", lid, [],
            lambda ws: [ws.create_utterance(lid, a, b, speaker=speaker, role=role)]))
        if ok:
            self.marked_range = None
            self.rangeMarked.emit(None)
        return ok

    def mark_range(self, start_s: float, end_s: float) -> None:
        a, b = sorted((float(start_s), float(end_s)))
        self.marked_range = (a, b)
        self.rangeMarked.emit(self.marked_range)
        self.message.emit(f"Marked {format_time(a, 2)}–{format_time(b, 2)}: Insert makes it an utterance")

    def create_in_marked(self) -> bool:
        if self.marked_range is None:
            self.message.emit("Mark a range first: Shift+drag in the detail view.")
            return False
        return self.create(*self.marked_range)

    def snap(self, t: float) -> float:
        """``t`` snapped to a quiet point of the waveform when one is within a few pixels."""
        from esergui.review.snap import snap_edge

        src = self.data.source
        if not self.snap_enabled or src is None:
            return t
        t0, t1 = self.win.detail.visible_range()
        width = max(1.0, float(self.win.detail.lanes_plot.vb.width()) or 800.0)
        radius = min(SNAP_MAX_S, SNAP_PX * (t1 - t0) / width)
        return snap_edge(src, src.sample_rate, self.data.duration_s, t, radius)

    def move_edges(self, uid: int, start_s: float, end_s: float, snap: bool = True) -> bool:
        """Set an utterance's boundaries (snapped to quiet points when ``snap``)."""
        if not self.editable():
            return False
        a, b = sorted((float(start_s), float(end_s)))
        old = self.ws.utterance(uid)
        if snap:
            a = self.snap(a) if abs(a - old.start_s) > 1e-6 else a
            b = self.snap(b) if abs(b - old.end_s) > 1e-6 else b
        if abs(a - old.start_s) < 1e-6 and abs(b - old.end_s) < 1e-6:
            self._after_edit(int(self.lesson_id), [uid], False)  # put the handles back
            return False
        return self._push_utterances(f"Boundaries {format_time(a, 2)}–{format_time(b, 2)}", [uid],
                                     lambda ws: ws.set_boundaries(uid, a, b))

    # ============================================================== speakers
    def rename_speaker(self, label: str, name: str) -> bool:
        if not self.editable():
            return False
        lid = self.lesson_id
        return self.layer.push(SpeakerEdit(f"Rename speaker {label} → {name}", lid, label,
                                           lambda ws: ws.rename_speaker(lid, label, name)))

    def set_speaker_role(self, label: str, role: str | None) -> bool:
        if not self.editable():
            return False
        lid = self.lesson_id
        names = {s.label: s.name for s in self.speakers()}
        return self.layer.push(SpeakerEdit(f"{names.get(label, label)} is {role or 'as the model says'}", lid, label,
                                           lambda ws: ws.set_speaker_role(lid, label, role)))

    def merge_speakers(self, keep: str, remove: str) -> bool:
        if not self.editable():
            return False
        names = {s.label: s.name for s in self.speakers()}
        return self.layer.push(MergeSpeakersEdit(f"Merge {names.get(remove, remove)} into {names.get(keep, keep)}",
                                                 int(self.lesson_id), keep, remove))

    # ============================================================ navigation
    def table_rows(self) -> list[int]:
        """Lesson rows in the table's current order, filters applied."""
        table = getattr(self.win, "table", None)
        if table is None:
            return list(range(len(self.data)))
        proxy = table.proxy
        return [proxy.mapToSource(proxy.index(r, 0)).row() for r in range(proxy.rowCount())]

    def _go(self, step: int, accept: Callable[[int], bool] | None = None, what: str = "utterance") -> bool:
        order = self.table_rows()
        if not order:
            self.message.emit("No utterances are shown (check the table's filters).")
            return False
        current = self.selection.current_row
        pos = order.index(current) if current in order else (-1 if step > 0 else len(order))
        n = len(order)
        for k in range(1, n + 1):
            p = pos + k * (1 if step > 0 else -1)
            if accept is None and not 0 <= p < n:
                return False  # plain next/previous stops at the ends
            row = order[p % n]
            if accept is None or accept(row):
                if not 0 <= p < n:
                    self.message.emit(f"Wrapped around: back to the {'first' if step > 0 else 'last'} {what}")
                self.selection.select_rows([row], self)
                return True
        self.message.emit(f"No {what} left")
        return False

    def next(self, step: int = 1) -> bool:  # noqa: A003
        return self._go(step)

    def next_unreviewed(self, step: int = 1) -> bool:
        return self._go(step, lambda row: not getattr(self.record(row), "reviewed", False), "unreviewed utterance")

    def next_low_confidence(self, step: int = 1) -> bool:
        conf = self.data.confidence
        thr = self.low_confidence
        return self._go(step, lambda row: not math.isnan(float(conf[row])) and float(conf[row]) < thr,
                        f"utterance below {thr:.0%} confidence")

    def jump_to_time(self, t: float) -> bool:
        """Select the utterance at ``t`` (or the next one after it) and put the cursor there."""
        d = self.data
        t = float(min(max(0.0, t), d.duration_s))
        detail = self.win.detail
        rows = np.flatnonzero(d.end > t)
        if len(rows):
            self.selection.select_rows([int(rows[0])], self)
        detail.set_cursor(t)
        detail.ensure_visible(t, t)
        if not len(rows):
            self.message.emit(f"No utterance after {format_time(t, 1)}")
        return bool(len(rows))

    def ask_jump_to_time(self) -> None:
        text, ok = QInputDialog.getText(self.win, "Jump to time", "Time (h:mm:ss, m:ss or seconds):",
                                        text=format_time(self.win.detail.cursor_time, 1))
        if ok:
            try:
                self.jump_to_time(parse_time(text))
            except ValueError:
                self.message.emit(f"'{text}' is not a time; write it like 12:30 or 750.")

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
        self.message.emit(f"Re-analysed: all human edits kept; the new model disagrees with {n} human label(s)"
                          if n else "Re-analysed: all human edits kept")

    def _refresh_panels(self) -> None:
        self.panelsRefresh.emit()

    # ============================================================= actions
    def make_actions(self) -> dict[str, QAction]:
        """Every annotation action (text, key, tooltip), parented to the window."""
        win = self.win
        acts: dict[str, QAction] = {}

        def act(name: str, text: str, tip: str, slot: Callable[[], Any], keys: Sequence[str] = ()) -> QAction:
            a = QAction(text, win)
            a.setObjectName(f"annotate_{name}")
            seqs = [QKeySequence(k) for k in keys]
            if seqs:
                a.setShortcuts(seqs)
                a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                tip += f" ({' / '.join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in seqs)})"
            a.setToolTip(tip)
            a.setStatusTip(tip)
            a.triggered.connect(lambda checked=False: slot())
            acts[name] = a
            return a

        self.emotion_actions = []
        for k in range(1, 10):
            self.emotion_actions.append(act(f"emotion_{k}", f"Emotion {k}", f"Set the emotion to label {k}",
                                            lambda k=k: self.set_emotion_key(k), [str(k)]))
        act("emotion_model", "Emotion: the Model's", "Clear the human emotion: show the model's again",
            lambda: self.set_emotion_key(0), ["0"])
        act("teacher", "Role: &Teacher", "Mark as teacher talk", lambda: self.set_role(TEACHER), ["T"])
        act("student", "Role: &Student", "Mark as student talk", lambda: self.set_role(STUDENT), ["S"])
        act("role_model", "Role: the Model's", "Clear the human role: show the model's again", lambda: self.set_role(None))
        act("assign_teacher", "Assign to the Teacher's Voice", "Give the utterances to the teacher's speaker",
            self.assign_to_teacher, ["Shift+T"])
        act("clear_human", "Back to the Model's Labels", "Clear the human emotion, role and speaker",
            self.clear_human, ["Backspace"])
        act("reviewed", "Reviewed On/Off", "Mark the utterances as reviewed (or not)", self.toggle_reviewed, ["R"])
        act("note", "Write a &Note…", "Write a free-text note on the utterance", lambda: self.noteRequested.emit(), ["E"])
        act("split", "S&plit at Cursor", "Split the utterance at the play cursor (click to place it)",
            lambda: self.split_at(), ["X"])
        act("merge", "&Merge", "Merge the selected utterances, or the selected one with the next", lambda: self.merge(), ["M"])
        act("delete", "&Delete Utterance", "Delete the selected utterances (undo brings them back)", lambda: self.delete(),
            ["Delete"])
        act("create", "&New Utterance in Marked Range", "Make an utterance of the range marked with Shift+drag",
            self.create_in_marked, ["Insert"])
        act("next", "Next Utterance", "Select the next utterance (table order)", lambda: self.next(1), ["Down"])
        act("previous", "Previous Utterance", "Select the previous utterance (table order)", lambda: self.next(-1), ["Up"])
        act("next_unreviewed", "Next &Unreviewed", "Select the next utterance not marked reviewed",
            lambda: self.next_unreviewed(1), ["U"])
        act("previous_unreviewed", "Previous Unreviewed", "Select the previous utterance not marked reviewed",
            lambda: self.next_unreviewed(-1), ["Shift+U"])
        act("next_low", "Next &Low Confidence", "Select the next utterance whose model confidence is low",
            lambda: self.next_low_confidence(1), ["N"])
        act("previous_low", "Previous Low Confidence", "Select the previous low-confidence utterance",
            lambda: self.next_low_confidence(-1), ["Shift+N"])
        jump = act("jump", "&Jump to Time…", "Go to a time in the lesson", self.ask_jump_to_time)
        jump.setShortcut(QKeySequence("Ctrl+G"))  # a window shortcut: works from anywhere
        act("codes", "Researcher &Codes…", "Edit the list of researcher codes and their keys", self.edit_codes)
        self.actions = acts
        self._make_code_actions()
        return acts

    def _make_code_actions(self) -> None:
        for a in self.code_actions:
            for w in self.key_widgets:
                w.removeAction(a)
            a.deleteLater()
        self.code_actions = []
        for code in self.codes:
            a = QAction(code.name, self.win)
            a.setObjectName(f"annotate_code_{code.name}")
            tip = f"Toggle the code '{code.name}'" + (f": {code.description}" if code.description else "")
            if code.key:
                a.setShortcut(QKeySequence(code.key))
                a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                tip += f" ({code.key})"
            a.setToolTip(tip)
            a.setStatusTip(tip)
            a.triggered.connect(lambda checked=False, n=code.name: self.toggle_code(n))
            self.code_actions.append(a)
            for w in self.key_widgets:
                w.addAction(a)

    def attach_keys(self, widgets: Sequence[QWidget]) -> None:
        """Make the single-key actions work while ``widgets`` (or their children) have focus."""
        self.key_widgets = list(widgets)
        for w in self.key_widgets:
            for a in [*self.actions.values(), *self.code_actions]:
                if a.shortcutContext() == Qt.ShortcutContext.WidgetWithChildrenShortcut:
                    w.addAction(a)
        self.codesChanged.connect(self._make_code_actions)

    def update_emotion_actions(self) -> None:
        labels = self.labels
        for k, a in enumerate(self.emotion_actions, 1):
            name = labels[k - 1] if k <= len(labels) else ""
            a.setText(f"&{k}  {name}" if name else f"{k}  (no label)")
            a.setData(name)  # keys without a label stay live: they say so instead of typing into the table

    def fill_menu(self, menu: QMenu, for_context: bool = False) -> None:
        """The annotation commands (also used for context menus)."""
        self.update_emotion_actions()
        a = self.actions
        emo = menu.addMenu("&Emotion")
        emo.setToolTipsVisible(True)
        for act in self.emotion_actions:
            if act.data():
                emo.addAction(act)
        emo.addSeparator()
        emo.addAction(a["emotion_model"])
        role = menu.addMenu("&Role")
        for name in ("teacher", "student", "role_model"):
            role.addAction(a[name])
        spk = menu.addMenu("Spea&ker")
        for s in self.speakers():
            item = spk.addAction(f"{s.name}" + (f" ({s.role})" if s.role else ""))
            item.triggered.connect(lambda checked=False, label=s.label: self.set_speaker(label))
        spk.addSeparator()
        spk.addAction(a["assign_teacher"])
        spk.setEnabled(bool(self.speakers()))
        codes = menu.addMenu("&Codes")
        codes.setToolTipsVisible(True)
        recs = self.selected_records()
        for act in self.code_actions:
            act.setCheckable(True)
            act.setChecked(bool(recs) and all(act.text() in u.codes for u in recs))
            codes.addAction(act)
        if not for_context:
            codes.addSeparator()
            codes.addAction(a["codes"])
        menu.addAction(a["clear_human"])
        menu.addAction(a["note"])
        menu.addAction(a["reviewed"])
        menu.addSeparator()
        for name in ("split", "merge", "delete", "create"):
            menu.addAction(a[name])
        if not for_context:
            menu.addSeparator()
            for name in ("next", "previous", "next_unreviewed", "previous_unreviewed", "next_low", "previous_low", "jump"):
                menu.addAction(a[name])

    def context_menu(self, global_pos) -> QMenu:
        menu = QMenu(self.win)
        menu.setToolTipsVisible(True)
        self.fill_menu(menu, for_context=True)
        menu.popup(global_pos)
        return menu
