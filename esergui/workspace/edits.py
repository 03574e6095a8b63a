"""Human edits of a lesson's utterances (mixed into :class:`esergui.workspace.Workspace`;
speakers are edited in :mod:`esergui.workspace.speaker_edits`).

Every method here is one transaction that also writes one row to the lesson's edit log
(who, when, action, utterance ids, before, after) and marks the lesson ``edited``. Undo:
label edits are undone by calling :meth:`update_human` with the old values;
boundary edits (split, merge, move, create) by :meth:`restore_utterances` with snapshots
taken before (it rewrites rows with their old ids); deletions by :meth:`undelete_utterances`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from esergui.errors import WorkspaceError
from esergui.lesson import HUMAN, HUMAN_FIELDS, Utterance, dumps, now_iso, stored_id
from esergui.workspace.connection import inserted_id
from esergui.workspace.guard import clean_note
from esergui.workspace.reading import ReadingMixin

if TYPE_CHECKING:
    import sqlite3

#: Shortest piece a split may leave, seconds.
MIN_PIECE_S = 0.05

_FIELD_SQL = {
    "human_emotion": "human_emotion",
    "human_role": "human_role",
    "note": "note",
    "codes": "codes",
    "reviewed": "reviewed",
    "human_speaker": "human_speaker_id",
}


def _snapshot(u: Utterance) -> dict[str, Any]:
    d = dataclasses.asdict(u)
    d["codes"] = list(u.codes)
    return d


class EditsMixin(ReadingMixin):
    """Edit operations (one transaction and one edit-log row each)."""

    # -------------------------------------------------------------- helpers
    def _lesson_of(self, ids: Iterable[int]) -> tuple[int, list[Utterance]]:
        utts = [self.utterance(int(i)) for i in ids]
        if not utts:
            raise WorkspaceError("no utterances were given")
        lessons = {u.lesson_id for u in utts}
        if len(lessons) != 1:
            raise WorkspaceError("an edit can change utterances of one lesson only")
        return stored_id(utts[0].lesson_id), utts

    def _speaker_id(self, con: sqlite3.Connection, lesson_id: int, label: str | None) -> int | None:
        if label is None:
            return None
        row = con.execute("SELECT id FROM speakers WHERE lesson_id = ? AND label = ?", (lesson_id, label)).fetchone()
        if row is None:
            raise WorkspaceError(f"the lesson has no speaker '{label}'")
        return int(row[0])

    def _check_span(self, lesson_id: int, start_s: float, end_s: float) -> tuple[float, float]:
        start_s, end_s = float(start_s), float(end_s)
        if not (0.0 <= start_s < end_s):
            raise WorkspaceError(
                f"an utterance must start at or after 0 s and end after it starts ({start_s:.2f}-{end_s:.2f} s)"
            )
        duration = self.lesson(lesson_id).duration_s
        if duration is not None and end_s > duration + 0.01:
            raise WorkspaceError(f"an utterance cannot end after the lesson ({end_s:.2f} s > {duration:.2f} s)")
        return start_s, end_s

    def _write_row(self, con: sqlite3.Connection, u: Utterance, lesson_id: int) -> int:
        """Insert ``u`` (with its id when given, replacing a row of that id)."""
        ids = dict(con.execute("SELECT label, id FROM speakers WHERE lesson_id = ?", (lesson_id,)).fetchall())
        cur = con.execute(
            "INSERT OR REPLACE INTO utterances (id, lesson_id, start_s, end_s, speaker_id, role, role_confidence,"
            " emotion, confidence, probabilities, human_speaker_id, human_role, human_emotion, note, codes, reviewed,"
            " boundary_source, deleted, edited_by, edited_at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                u.id,
                lesson_id,
                float(u.start_s),
                float(u.end_s),
                ids.get(u.speaker),
                u.role,
                u.role_confidence,
                u.emotion,
                u.confidence,
                dumps(u.probabilities or {}),
                ids.get(u.human_speaker),
                u.human_role,
                u.human_emotion,
                u.note,
                dumps(list(u.codes)),
                int(u.reviewed),
                u.boundary_source,
                int(u.deleted),
                u.edited_by,
                u.edited_at,
                u.run_id,
            ),
        )
        return inserted_id(cur)

    # -------------------------------------------------------------- labels, notes, codes, review
    def update_human(self, changes: Mapping[int, Mapping[str, Any]], action: str = "edit") -> None:
        """Set human-layer fields, per utterance: ``{utterance_id: {field: value}}`` with fields
        from :data:`esergui.lesson.HUMAN_FIELDS` (``human_speaker`` is a speaker label; ``None``
        clears a human label, so the model's shows again)."""
        for fields in changes.values():
            unknown = set(fields) - set(HUMAN_FIELDS)
            if unknown:
                raise WorkspaceError(f"not human-editable fields: {', '.join(sorted(unknown))}")
        with self._tx() as con:
            lesson_id, utts = self._lesson_of(changes)
            before, after = {}, {}
            stamp, who = now_iso(), self.user
            for u in utts:
                fields = changes[stored_id(u.id)]
                values: list[Any] = []
                for name, value in fields.items():
                    if name == "human_speaker":
                        value = self._speaker_id(con, lesson_id, value)
                    elif name == "codes":
                        value = dumps([str(c) for c in (value or ())])
                    elif name == "reviewed":
                        value = int(bool(value))
                    elif name == "note":
                        value = clean_note(value or "")
                    elif value is not None:
                        value = str(value).strip() or None
                    values.append(value)
                if not fields:
                    continue
                sets = ", ".join(f"{_FIELD_SQL[n]} = ?" for n in fields)
                con.execute(
                    f"UPDATE utterances SET {sets}, edited_by = ?, edited_at = ? WHERE id = ?",
                    (*values, who, stamp, u.id),
                )
                before[str(u.id)] = {n: _jsonable(getattr(u, n)) for n in fields}
                after[str(u.id)] = {n: _jsonable(v) for n, v in fields.items()}
            self._log(lesson_id, action, [stored_id(u.id) for u in utts], before, after)
            self._mark_edited(con, lesson_id)

    def _set_all(self, ids: Iterable[int], field: str, value: Any, action: str) -> None:
        self.update_human({int(i): {field: value} for i in ids}, action)

    def set_emotion(self, ids: Iterable[int], label: str | None) -> None:
        """Human emotion label for utterances (``None``: back to the model's)."""
        self._set_all(ids, "human_emotion", label, "set_emotion")

    def set_role(self, ids: Iterable[int], role: str | None) -> None:
        """Human role (``teacher``/``student``) for utterances (``None``: back to the model's)."""
        self._set_all(ids, "human_role", role, "set_role")

    def set_speaker(self, ids: Iterable[int], label: str | None) -> None:
        """Assign utterances to a speaker of their lesson (by label; ``None``: the model's).
        The utterances then take that speaker's role unless a human role is set on them."""
        self._set_all(ids, "human_speaker", label, "set_speaker")

    def set_note(self, ids: Iterable[int], note: str) -> None:
        self._set_all(ids, "note", note, "note")

    def set_codes(self, ids: Iterable[int], codes: Sequence[str]) -> None:
        """Replace the researcher codes of utterances."""
        self._set_all(ids, "codes", list(codes), "codes")

    def set_reviewed(self, ids: Iterable[int], reviewed: bool = True) -> None:
        self._set_all(ids, "reviewed", reviewed, "reviewed")

    # -------------------------------------------------------------- boundaries
    def create_utterance(
        self,
        lesson_id: int,
        start_s: float,
        end_s: float,
        *,
        speaker: str | None = None,
        role: str | None = None,
        emotion: str | None = None,
        note: str = "",
        codes: Sequence[str] = (),
    ) -> int:
        """A person adds an utterance (e.g. speech VAD missed); returns its id."""
        with self._tx() as con:
            start_s, end_s = self._check_span(lesson_id, start_s, end_s)
            self._speaker_id(con, lesson_id, speaker)
            u = Utterance(
                start_s,
                end_s,
                human_speaker=speaker,
                human_role=role,
                human_emotion=emotion,
                note=clean_note(note),
                codes=tuple(codes),
                boundary_source=HUMAN,
                edited_by=self.user,
                edited_at=now_iso(),
            )
            new_id = self._write_row(con, u, lesson_id)
            self._log(lesson_id, "create", [new_id], None, _snapshot(u))
            self._mark_edited(con, lesson_id)
        return new_id

    def delete_utterances(self, ids: Iterable[int]) -> None:
        """Delete utterances (kept as tombstones so re-analysis does not bring them back)."""
        self._flag_deleted(ids, True, "delete")

    def undelete_utterances(self, ids: Iterable[int]) -> None:
        self._flag_deleted(ids, False, "undelete")

    def _flag_deleted(self, ids: Iterable[int], flag: bool, action: str) -> None:
        with self._tx() as con:
            lesson_id, utts = self._lesson_of(ids)
            con.executemany(
                "UPDATE utterances SET deleted = ?, edited_by = ?, edited_at = ? WHERE id = ?",
                [(int(flag), self.user, now_iso(), u.id) for u in utts],
            )
            self._log(lesson_id, action, [stored_id(u.id) for u in utts], [_snapshot(u) for u in utts], None)
            self._mark_edited(con, lesson_id)

    def set_boundaries(self, utterance_id: int, start_s: float, end_s: float) -> None:
        """Move an utterance's edges (seconds)."""
        with self._tx() as con:
            u = self.utterance(utterance_id)
            start_s, end_s = self._check_span(stored_id(u.lesson_id), start_s, end_s)
            con.execute(
                "UPDATE utterances SET start_s = ?, end_s = ?, boundary_source = 'human', edited_by = ?, edited_at = ? WHERE id = ?",
                (start_s, end_s, self.user, now_iso(), u.id),
            )
            self._log(stored_id(u.lesson_id), "boundaries", [stored_id(u.id)], [u.start_s, u.end_s], [start_s, end_s])
            self._mark_edited(con, stored_id(u.lesson_id))

    def split_utterance(self, utterance_id: int, at_s: float) -> tuple[int, int]:
        """Split at ``at_s``: the first part keeps the id, the second is new; both keep both
        layers. Returns ``(first_id, second_id)``."""
        with self._tx() as con:
            u = self.utterance(utterance_id)
            at_s = float(at_s)
            if not (u.start_s + MIN_PIECE_S <= at_s <= u.end_s - MIN_PIECE_S):
                raise WorkspaceError(
                    f"split point {at_s:.2f} s is not inside the utterance ({u.start_s:.2f}-{u.end_s:.2f} s)"
                )
            stamp = now_iso()
            first = dataclasses.replace(u, end_s=at_s, boundary_source=HUMAN, edited_by=self.user, edited_at=stamp)
            second = dataclasses.replace(first, id=None, start_s=at_s, end_s=u.end_s)
            self._write_row(con, first, stored_id(u.lesson_id))
            new_id = self._write_row(con, second, stored_id(u.lesson_id))
            self._log(stored_id(u.lesson_id), "split", [stored_id(u.id), new_id], _snapshot(u), {"at_s": at_s})
            self._mark_edited(con, stored_id(u.lesson_id))
        return stored_id(u.id), new_id

    def merge_utterances(self, ids: Iterable[int]) -> int:
        """Merge utterances adjacent in time (no other utterance between them) into the first;
        returns its id. Model layer from the longest part; human labels from the first part
        that has one; notes joined; codes united; reviewed only if all were."""
        with self._tx() as con:
            lesson_id, utts = self._lesson_of(ids)
            if len(utts) < 2:
                raise WorkspaceError("select at least two utterances to merge")
            utts.sort(key=lambda u: (u.start_s, u.id))
            start, end = utts[0].start_s, max(u.end_s for u in utts)
            ids_set = {u.id for u in utts}
            if any(u.deleted for u in utts):
                raise WorkspaceError("a deleted utterance cannot be merged")
            between = con.execute(
                "SELECT id, start_s, end_s FROM utterances WHERE lesson_id = ? AND deleted = 0 AND start_s >= ? AND start_s < ?",
                (lesson_id, start, end),
            ).fetchall()
            other = next((row for row in between if row[0] not in ids_set), None)
            if other is not None:
                raise WorkspaceError(
                    f"cannot merge: the utterance at {other[1]:.2f}–{other[2]:.2f} s starts inside the selection "
                    "(it lies between or overlaps the selected ones, perhaps another speaker's); select it too, or move it first"
                )
            longest = max(utts, key=lambda u: u.duration_s)
            codes: list[str] = []
            for u in utts:
                codes += [c for c in u.codes if c not in codes]
            merged = dataclasses.replace(
                longest,
                id=utts[0].id,
                start_s=start,
                end_s=end,
                human_speaker=next((u.human_speaker for u in utts if u.human_speaker), None),
                human_role=next((u.human_role for u in utts if u.human_role), None),
                human_emotion=next((u.human_emotion for u in utts if u.human_emotion), None),
                note="\n".join(u.note for u in utts if u.note),
                codes=tuple(codes),
                reviewed=all(u.reviewed for u in utts),
                boundary_source=HUMAN,
                edited_by=self.user,
                edited_at=now_iso(),
            )
            con.executemany("DELETE FROM utterances WHERE id = ?", [(u.id,) for u in utts[1:]])
            self._write_row(con, merged, lesson_id)
            self._log(
                lesson_id,
                "merge",
                [stored_id(u.id) for u in utts],
                [_snapshot(u) for u in utts],
                {"id": merged.id, "start_s": start, "end_s": end},
            )
            self._mark_edited(con, lesson_id)
        return stored_id(merged.id)

    def restore_utterances(
        self, lesson_id: int, snapshots: Sequence[Utterance], remove_ids: Iterable[int] = ()
    ) -> None:
        """Undo/redo of boundary edits: delete ``remove_ids``, then write ``snapshots`` back
        exactly (same ids, both layers, boundary source, deleted flag)."""
        remove = [int(i) for i in remove_ids]
        with self._tx() as con:
            self.lesson(lesson_id)
            con.executemany("DELETE FROM utterances WHERE id = ? AND lesson_id = ?", [(i, lesson_id) for i in remove])
            for u in snapshots:
                if u.lesson_id not in (None, lesson_id):
                    raise WorkspaceError("a snapshot of another lesson cannot be restored here")
                self._write_row(con, u, lesson_id)
            self._log(
                lesson_id,
                "restore",
                remove + [int(u.id) for u in snapshots if u.id is not None],
                remove,
                [_snapshot(u) for u in snapshots],
            )
            self._mark_edited(con, lesson_id)


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
