"""Editing where utterances begin and end: split at the cursor, merge, delete, create one in a
marked range, drag edges (snapped to quiet points), and recognise an edited utterance again. Mixed into
:class:`~esergui.app.annotation.controller.AnnotationController`, whose state it uses
(``data``, ``ws``, ``layer``, ``selection``, ``message``, ``editable()``, ``_push_utterances()``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from esergui.app.annotation.undo import UtteranceEdit, UtteranceOp
from esergui.app.common.workers import TaskRunner
from esergui.review.recognise import recognise_job, with_model_layer
from esergui.review.snap import snap_edge
from esergui.timefmt import format_time

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from esergui.app.annotation.undo import EditLayer
    from esergui.app.shell.selection import SelectionModel
    from esergui.app.shell.window import MainWindow
    from esergui.lesson import Utterance
    from esergui.review.lessondata import LessonData
    from esergui.workspace import Workspace

SNAP_PX = 10  # edges dropped within this many pixels of a quiet point snap to it
SNAP_MAX_S = 0.3


class BoundaryEdits:
    """Split, merge, delete, create and move utterances (each one undoable edit)."""

    if TYPE_CHECKING:  # defined by esergui.app.annotation.controller.AnnotationController
        win: MainWindow
        layer: EditLayer
        selection: SelectionModel
        message: SignalInstance
        rangeMarked: SignalInstance
        marked_range: tuple[float, float] | None
        snap_enabled: bool
        recognising: TaskRunner | None

        @property
        def ws(self) -> Workspace | None: ...

        @property
        def lesson_id(self) -> int | None: ...

        @property
        def data(self) -> LessonData: ...

        def editable(self, quiet: bool = False) -> bool: ...

        def _target(self) -> tuple[Workspace, int]: ...

        def selected_ids(self) -> list[int]: ...

        def _ids(self, ids: Iterable[int] | None) -> list[int]: ...

        def _push_utterances(self, text: str, ids: Sequence[int], op: UtteranceOp, merge_id: int = ...) -> bool: ...

        def _after_edit(
            self, lesson_id: int, ids: list, light: bool = False, records: Sequence[Utterance] | None = None
        ) -> None: ...

    def split_at(self, t: float | None = None, uid: int | None = None) -> bool:
        """Split the selected utterance (or the one under the cursor) at ``t`` (default: the
        detail view's cursor)."""
        if not self.editable():
            return False
        t = float(self.win.detail.cursor_time if t is None else t)
        if uid is None:
            uid = self._utterance_at(t, prefer=self.selected_ids())
        if uid is None:
            self.message.emit(
                f"No utterance at the cursor ({format_time(t, 2)}): click inside one to place the cursor."
            )
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

        def op(ws: Workspace) -> list[int]:
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
        lid = self._target()[1]
        ok = self.layer.push(
            UtteranceEdit(
                f"New utterance {format_time(a, 1)}–{format_time(b, 1)}",
                lid,
                [],
                lambda ws: [ws.create_utterance(lid, a, b, speaker=speaker, role=role)],
            )
        )
        if ok:
            self.marked_range = None
            self.rangeMarked.emit(None)
        return ok

    def recognise(self, uid: int | None = None) -> bool:
        """Recognise the selected utterance's emotion again with the active model, off the GUI
        thread (after a manual edit: no re-analysis); the result is one undoable edit."""
        if uid is None:
            ids = self._ids(None)
            uid = ids[-1] if ids else None
        source = self.data.source
        if uid is None or not self.editable():
            return False
        if source is None:
            self.message.emit("The lesson's audio is not loaded yet.")
            return False
        ws, lid = self._target()
        runner = TaskRunner(recognise_job(ws, int(uid), source, self.win.compute_device), self.win)
        self.recognising = runner

        def store(probabilities: dict[str, float]) -> None:
            if self.lesson_id != lid:
                return
            op = lambda ws: ws.restore_utterances(lid, [with_model_layer(ws.utterance(uid), probabilities)]) or [uid]  # noqa: E731
            if self._push_utterances("Recognise utterance", [uid], op):
                u = self._target()[0].utterance(uid)
                self.message.emit(f"Recognised: {u.emotion} ({u.confidence:.0%})")

        runner.succeeded.connect(store)
        runner.failed.connect(lambda reason, details: self.message.emit(f"Cannot recognise the utterance: {reason}"))
        runner.start()
        self.message.emit("Recognising the utterance…")
        return True

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
        ws, lid = self._target()
        old = ws.utterance(uid)
        if snap:
            a = self.snap(a) if abs(a - old.start_s) > 1e-6 else a
            b = self.snap(b) if abs(b - old.end_s) > 1e-6 else b
        if abs(a - old.start_s) < 1e-6 and abs(b - old.end_s) < 1e-6:
            self._after_edit(lid, [uid], False)  # put the handles back
            return False
        return self._push_utterances(
            f"Boundaries {format_time(a, 2)}–{format_time(b, 2)}", [uid], lambda ws: ws.set_boundaries(uid, a, b)
        )
