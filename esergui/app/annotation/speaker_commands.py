"""Speaker commands while annotating: the teacher's voice, giving utterances to it, renaming a
speaker, setting a speaker's role, merging two speakers (each one undoable edit). Mixed into
:class:`~esergui.app.annotation.controller.AnnotationController` (uses ``records()``,
``speakers()``, ``set_speaker()``, ``editable()``, ``_target()``, ``layer`` and ``message``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from esergui.app.annotation.undo import MergeSpeakersEdit, SpeakerEdit
from esergui.lesson import TEACHER

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from esergui.app.annotation.undo import EditLayer
    from esergui.lesson import Speaker, Utterance
    from esergui.workspace import Workspace


class SpeakerCommands:
    """The teacher's speaker, and edits of whole speakers."""

    if TYPE_CHECKING:  # defined by esergui.app.annotation.controller.AnnotationController
        layer: EditLayer
        message: SignalInstance

        def records(self) -> list[Utterance]: ...

        def speakers(self) -> list[Speaker]: ...

        def editable(self, quiet: bool = False) -> bool: ...

        def _target(self) -> tuple[Workspace, int]: ...

        def set_speaker(self, label: str | None, ids: Iterable[int] | None = None) -> bool: ...

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

    def rename_speaker(self, label: str, name: str) -> bool:
        if not self.editable():
            return False
        lid = self._target()[1]
        return self.layer.push(
            SpeakerEdit(f"Rename speaker {label} → {name}", lid, label, lambda ws: ws.rename_speaker(lid, label, name))
        )

    def set_speaker_role(self, label: str, role: str | None) -> bool:
        if not self.editable():
            return False
        lid = self._target()[1]
        names = {s.label: s.name for s in self.speakers()}
        return self.layer.push(
            SpeakerEdit(
                f"{names.get(label, label)} is {role or 'as the model says'}",
                lid,
                label,
                lambda ws: ws.set_speaker_role(lid, label, role),
            )
        )

    def merge_speakers(self, keep: str, remove: str) -> bool:
        if not self.editable():
            return False
        names = {s.label: s.name for s in self.speakers()}
        return self.layer.push(
            MergeSpeakersEdit(
                f"Merge {names.get(remove, remove)} into {names.get(keep, keep)}", self._target()[1], keep, remove
            )
        )
