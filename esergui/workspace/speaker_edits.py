"""A person's edits of a lesson's speakers (mixed into :class:`esergui.workspace.Workspace`).

Add, rename, set the role of, and merge speakers; each is one transaction with one edit-log
row and marks the lesson ``edited``. Undo: renames and roles by :meth:`restore_speaker` with
a snapshot taken before, merges by :meth:`undo_merge_speakers` with the :class:`SpeakerMerge`
that :meth:`merge_speakers` returned. Speaker edits survive re-analysis (the rule in
:mod:`esergui.workspace.reanalysis`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from esergui.errors import WorkspaceError
from esergui.lesson import HUMAN, MODEL, Speaker, stored_id
from esergui.workspace.guard import clean_name
from esergui.workspace.reading import ReadingMixin

__all__ = ["SpeakerEditsMixin", "SpeakerMerge"]


@dataclass(frozen=True)
class SpeakerMerge:
    """What :meth:`SpeakerEditsMixin.merge_speakers` changed, for :meth:`SpeakerEditsMixin.undo_merge_speakers`."""

    lesson_id: int
    keep: Speaker
    removed: Speaker
    model_ids: tuple[int, ...]  # utterances whose model speaker was ``removed``
    human_ids: tuple[int, ...]  # utterances whose human speaker was ``removed``


class SpeakerEditsMixin(ReadingMixin):
    """Edits of speakers (one transaction and one edit-log row each)."""

    def add_speaker(self, lesson_id: int, display_name: str = "", role: str | None = None) -> Speaker:
        """A new speaker a person adds (label ``H1``, ``H2``...)."""
        display_name = clean_name(display_name)
        with self._tx() as con:
            self.lesson(lesson_id)
            taken = {r[0] for r in con.execute("SELECT label FROM speakers WHERE lesson_id = ?", (lesson_id,))}
            k = 1
            while f"H{k}" in taken:
                k += 1
            label = f"H{k}"
            con.execute(
                "INSERT INTO speakers (lesson_id, label, display_name, role, role_source, human_edited) VALUES (?, ?, ?, ?, ?, 1)",
                (lesson_id, label, display_name, role, HUMAN if role else MODEL),
            )
            self._log(lesson_id, "add_speaker", (), None, {"label": label, "display_name": display_name, "role": role})
        return self._speaker(lesson_id, label)

    def _speaker(self, lesson_id: int, label: str) -> Speaker:
        for s in self.speakers(lesson_id):
            if s.label == label:
                return s
        raise WorkspaceError(f"the lesson has no speaker '{label}'")

    def rename_speaker(self, lesson_id: int, label: str, display_name: str) -> None:
        display_name = clean_name(display_name)
        old = self._speaker(lesson_id, label)
        with self._tx() as con:
            con.execute(
                "UPDATE speakers SET display_name = ?, human_edited = 1 WHERE id = ?", (display_name.strip(), old.id)
            )
            self._log(
                lesson_id,
                "rename_speaker",
                (),
                {"label": label, "display_name": old.display_name},
                {"label": label, "display_name": display_name.strip()},
            )
            self._mark_edited(con, lesson_id)

    def set_speaker_role(self, lesson_id: int, label: str, role: str | None) -> None:
        """A person sets a speaker's role: all its utterances without a human role follow."""
        old = self._speaker(lesson_id, label)
        with self._tx() as con:
            con.execute(
                "UPDATE speakers SET role = ?, role_source = ?, human_edited = 1 WHERE id = ?",
                (role, HUMAN if role else MODEL, old.id),
            )
            self._log(
                lesson_id,
                "speaker_role",
                (),
                {"label": label, "role": old.role, "role_source": old.role_source},
                {"label": label, "role": role},
            )
            self._mark_edited(con, lesson_id)

    def restore_speaker(self, speaker: Speaker) -> None:
        """Write a speaker snapshot back (undo of rename / role)."""
        with self._tx() as con:
            con.execute(
                "UPDATE speakers SET display_name = ?, role = ?, role_source = ?, human_edited = ? WHERE id = ?",
                (speaker.display_name, speaker.role, speaker.role_source, int(speaker.human_edited), speaker.id),
            )
            self._log(stored_id(speaker.lesson_id), "restore_speaker", (), None, dataclasses.asdict(speaker))

    def merge_speakers(self, lesson_id: int, keep: str, remove: str) -> SpeakerMerge:
        """Merge speaker ``remove`` into ``keep``: its utterances (model and human speaker)
        become ``keep``'s and ``remove`` is deleted. Survives re-analysis (rule 3)."""
        if keep == remove:
            raise WorkspaceError("cannot merge a speaker into itself")
        with self._tx() as con:
            k, r = self._speaker(lesson_id, keep), self._speaker(lesson_id, remove)
            model_ids = tuple(i for (i,) in con.execute("SELECT id FROM utterances WHERE speaker_id = ?", (r.id,)))
            human_ids = tuple(
                i for (i,) in con.execute("SELECT id FROM utterances WHERE human_speaker_id = ?", (r.id,))
            )
            con.execute("UPDATE utterances SET speaker_id = ? WHERE speaker_id = ?", (k.id, r.id))
            con.execute("UPDATE utterances SET human_speaker_id = ? WHERE human_speaker_id = ?", (k.id, r.id))
            con.execute("DELETE FROM speakers WHERE id = ?", (r.id,))
            con.execute("UPDATE speakers SET human_edited = 1 WHERE id = ?", (k.id,))
            self._log(
                lesson_id,
                "merge_speakers",
                model_ids + human_ids,
                {"keep": keep, "remove": dataclasses.asdict(r)},
                {"keep": keep},
            )
            self._mark_edited(con, lesson_id)
        return SpeakerMerge(lesson_id, k, r, model_ids, human_ids)

    def undo_merge_speakers(self, merge: SpeakerMerge) -> None:
        r = merge.removed
        with self._tx() as con:
            con.execute(
                "INSERT INTO speakers (id, lesson_id, label, display_name, role, role_source, human_edited) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (r.id, merge.lesson_id, r.label, r.display_name, r.role, r.role_source, int(r.human_edited)),
            )
            con.executemany("UPDATE utterances SET speaker_id = ? WHERE id = ?", [(r.id, i) for i in merge.model_ids])
            con.executemany(
                "UPDATE utterances SET human_speaker_id = ? WHERE id = ?", [(r.id, i) for i in merge.human_ids]
            )
            con.execute(
                "UPDATE speakers SET human_edited = ? WHERE id = ?", (int(merge.keep.human_edited), merge.keep.id)
            )
            self._log(
                merge.lesson_id, "undo_merge_speakers", merge.model_ids + merge.human_ids, None, {"restored": r.label}
            )
