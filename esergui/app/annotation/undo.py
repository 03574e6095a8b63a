"""The one command layer of annotation: every human edit is a ``QUndoCommand`` over the
workspace edit API, pushed on a ``QUndoStack`` (the main window's ``undo_stack``).

Rules every command keeps:

* **Written at once.** :meth:`EditLayer.push` performs the edit (one workspace transaction,
  committed with ``synchronous=FULL``) *before* it goes on the stack, so an edit that is shown
  is already on disk: killing the app afterwards loses nothing. An edit the workspace refuses
  (:class:`~esergui.errors.WorkspaceError`) never reaches the stack.
* **Exact undo.** Each command keeps what it needs to put the store back exactly: utterance
  edits keep full snapshots (both layers, boundaries, ids, who/when) before and after and
  undo/redo with :meth:`Workspace.restore_utterances`, which rewrites rows with their ids, so
  later commands that name those ids stay valid; speaker edits keep the speaker record
  (:meth:`Workspace.restore_speaker`) or the :class:`SpeakerMerge`.
* **One transaction per undo and per redo**, each also logged in the lesson's edit log.

After each do/undo/redo the layer emits ``changed(lesson_id, ids, light, records)`` (``ids``:
what to select; ``light``: only notes, codes or the reviewed flag changed, nothing the timelines
draw; ``records``: when the edit kept every utterance and its times — a label, role or speaker
edit — the changed utterances as now stored, else None), so the views can re-read the lesson, or
just patch those rows. Re-analysis replaces model-only utterances (new ids), so the
caller clears the stack when a lesson gets a new analysis run (see
:meth:`esergui.app.annotation.controller.AnnotationController`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QLabel, QUndoView, QVBoxLayout, QWidget

from esergui.errors import USER_ERRORS, WorkspaceError
from esergui.lesson import Speaker, Utterance, stored_id

if TYPE_CHECKING:
    from esergui.workspace import Workspace

log = logging.getLogger(__name__)

WorkspaceGetter = Callable[[], "Workspace | None"]
#: An utterance edit through the workspace API: returns the ids to select afterwards (None: the edited ones).
UtteranceOp = Callable[["Workspace"], "Iterable[int] | None"]
ChangeCallback = Callable[[int, list[int], bool, Any], None]

NOTE_MERGE_ID = 6001  # consecutive note edits of the same utterances merge into one command


class EditCommand(QUndoCommand):
    """Base of every annotation command. Subclasses implement :meth:`apply` (the first
    execution; may raise a user error), :meth:`do_redo` and :meth:`do_undo`, and set
    ``select_redo`` / ``select_undo`` (ids to select afterwards). ``light``: the edit changes
    only notes, codes or the reviewed flag."""

    def __init__(self, text: str, lesson_id: int, light: bool = False) -> None:
        super().__init__(text)
        self.lesson_id = int(lesson_id)
        self.light = light
        self.ws: Workspace | None = None
        self.on_change: ChangeCallback | None = None
        self.on_error: Callable[[str], None] | None = None
        self.select_redo: list[int] = []
        self.select_undo: list[int] = []
        self._skip_redo = False

    @property
    def store(self) -> Workspace:
        """The workspace :meth:`EditLayer.push` gave the command (before its first :meth:`apply`)."""
        if self.ws is None:
            raise TypeError("the command was not pushed through an EditLayer, so it has no workspace")
        return self.ws

    # -- to implement
    def apply(self) -> None:
        raise NotImplementedError

    def do_redo(self) -> None:
        raise NotImplementedError

    def do_undo(self) -> None:
        raise NotImplementedError

    # -- Qt
    def redo(self) -> None:
        if self._skip_redo:  # just applied by EditLayer.push
            self._skip_redo = False
            return
        self._run(self.do_redo, self.select_redo, "redo")

    def undo(self) -> None:
        self._run(self.do_undo, self.select_undo, "undo")

    def changed_records(self, undone: bool) -> list[Utterance] | None:
        """The utterances as stored after this command's redo (or undo, ``undone``) when it
        changed only their labels (no utterance added, removed or moved); else None."""
        return None

    def _run(self, fn: Callable[[], None], ids: list[int], what: str) -> None:
        records = None
        try:
            fn()
            records = self.changed_records(what == "undo")
        except USER_ERRORS as exc:  # e.g. the disk is full or the database is locked
            log.warning("%s of '%s' failed: %s", what, self.text(), exc)
            if self.on_error is not None:
                self.on_error(f"Could not {what} “{self.text()}”: {exc}")
        if self.on_change is not None:  # after a failure the views re-read what is stored
            self.on_change(self.lesson_id, list(ids), self.light, records)


class UtteranceEdit(EditCommand):
    """Any edit of utterances, undone and redone by snapshots.

    ``op(ws) -> ids`` performs the edit through the workspace API (one transaction) and returns
    the ids that exist afterwards and should be selected (new ones from a split or a create
    included). ``ids`` are the utterances the edit may change or remove."""

    def __init__(
        self,
        text: str,
        lesson_id: int,
        ids: Iterable[int],
        op: UtteranceOp,
        merge_id: int = -1,
        light: bool = False,
    ) -> None:
        super().__init__(text, lesson_id, light)
        self.ids = [int(i) for i in ids]
        self.op = op
        self._merge_id = merge_id
        self.before: list[Utterance] = []
        self.after: list[Utterance] = []

    def apply(self) -> None:
        self.before = [self.store.utterance(i) for i in self.ids]
        result = self.op(self.store)
        result_ids = [int(i) for i in (result if result is not None else self.ids)]
        alive = []
        for i in dict.fromkeys([*self.ids, *result_ids]):
            try:
                alive.append(self.store.utterance(i))
            except USER_ERRORS:  # merged away
                continue
        self.after = alive
        self.select_redo = [i for i in result_ids if any(u.id == i for u in alive) and not self._deleted(i)]
        self.select_undo = [stored_id(u.id) for u in self.before if not u.deleted]

    def _deleted(self, uid: int) -> bool:
        return any(u.id == uid and u.deleted for u in self.after)

    def _ids(self, snaps: Sequence[Utterance]) -> set[int]:
        return {stored_id(u.id) for u in snaps}

    def changed_records(self, undone: bool) -> list[Utterance] | None:
        times = lambda snaps: {(u.id, u.start_s, u.end_s, u.deleted) for u in snaps}  # noqa: E731
        if not self.before or times(self.before) != times(self.after):
            return None
        return list(self.before if undone else self.after)

    def do_redo(self) -> None:
        gone = self._ids(self.before) - self._ids(self.after)
        self.store.restore_utterances(self.lesson_id, self.after, remove_ids=sorted(gone))

    def do_undo(self) -> None:
        new = self._ids(self.after) - self._ids(self.before)
        self.store.restore_utterances(self.lesson_id, self.before, remove_ids=sorted(new))

    def id(self) -> int:  # noqa: A003 (Qt API)
        return self._merge_id

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt API)
        """Typing a note: successive note edits of the same utterances become one command."""
        if not isinstance(other, UtteranceEdit) or other.lesson_id != self.lesson_id or other.ids != self.ids:
            return False
        self.after = other.after
        self.select_redo = other.select_redo
        return True


class SpeakerEdit(EditCommand):
    """Rename a speaker or set its role: ``op(ws)`` changes it; undo writes the old record back."""

    def __init__(self, text: str, lesson_id: int, label: str, op: Callable[[Workspace], None]) -> None:
        super().__init__(text, lesson_id)
        self.label = label
        self.op = op
        self.old: Speaker | None = None

    def apply(self) -> None:
        self.old = next((s for s in self.store.speakers(self.lesson_id) if s.label == self.label), None)
        if self.old is None:
            raise WorkspaceError(f"the lesson has no speaker '{self.label}'")
        self.old = dataclasses.replace(self.old)
        self.op(self.store)

    def do_redo(self) -> None:
        self.op(self.store)

    def do_undo(self) -> None:
        assert self.old is not None  # apply() kept it (a command is undone only after it was applied)
        self.store.restore_speaker(self.old)


class MergeSpeakersEdit(EditCommand):
    """Merge speaker ``remove`` into ``keep`` (undo brings ``remove`` back, with its utterances)."""

    def __init__(self, text: str, lesson_id: int, keep: str, remove: str) -> None:
        super().__init__(text, lesson_id)
        self.keep, self.remove = keep, remove
        self.merge: Any = None

    def apply(self) -> None:
        self.merge = self.store.merge_speakers(self.lesson_id, self.keep, self.remove)

    def do_redo(self) -> None:
        self.merge = self.store.merge_speakers(self.lesson_id, self.keep, self.remove)

    def do_undo(self) -> None:
        self.store.undo_merge_speakers(self.merge)


class EditLayer(QObject):
    """Pushes commands on ``stack`` after performing them once against ``workspace()``.

    Signals: ``changed(lesson_id, ids, light, records)`` after every do/undo/redo (see the module doc),
    ``failed(message)`` when the workspace refused an edit (nothing was changed)."""

    changed = Signal(int, list, bool, object)
    failed = Signal(str)

    def __init__(self, stack: QUndoStack, workspace: WorkspaceGetter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stack = stack
        self.workspace = workspace

    def push(self, cmd: EditCommand) -> bool:
        """Perform ``cmd`` now (written to the workspace) and put it on the stack; False (and
        ``failed``) when the workspace refused it."""
        ws = self.workspace()
        if ws is None:
            self.failed.emit("No workspace is open.")
            return False
        cmd.ws = ws
        cmd.on_change = self.changed.emit
        cmd.on_error = self.failed.emit
        try:
            cmd.apply()
        except USER_ERRORS as exc:
            self.failed.emit(str(exc)[:1].upper() + str(exc)[1:])
            return False
        cmd._skip_redo = True
        self.stack.push(cmd)
        self.changed.emit(cmd.lesson_id, list(cmd.select_redo), cmd.light, cmd.changed_records(False))
        return True


class UndoHistory(QWidget):
    """The undo history panel: every edit of this session, newest last; click one to go back
    to that state (later edits stay redoable until a new edit is made)."""

    def __init__(self, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = QUndoView(stack)
        self.view.setEmptyLabel("Lesson as opened")
        self.view.setToolTip("Edits of this session: click one to undo back to it (Ctrl+Z / Ctrl+Shift+Z step)")
        hint = QLabel("Every edit is saved to the workspace at once; undo also saves.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #5a5a5a;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.view, 1)
        lay.addWidget(hint)
