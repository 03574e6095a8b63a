"""Storing an analysis of a lesson (mixed into :class:`esergui.workspace.Workspace`).

A run marks its lesson ``analysing`` (:meth:`AnalysisMixin.begin_analysis`) under a per-lesson
lock file, then stores its utterances in one transaction (:meth:`AnalysisMixin.store_analysis`)
that keeps every human edit (the rule lives in :mod:`esergui.workspace.reanalysis`). A run that
dies leaves the lesson marked; :meth:`AnalysisMixin.recover_interrupted` settles it again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from esergui.errors import WorkspaceError
from esergui.lesson import HUMAN, AnalysisRun, LessonStatus, Speaker, Utterance, dumps
from esergui.workspace.connection import inserted_id
from esergui.workspace.guard import AnalysisLocks
from esergui.workspace.reading import Disagreement, ReadingMixin
from esergui.workspace.reanalysis import (
    OverlapIndex,
    fresh_label,
    map_speakers,
    refresh_model_layer,
    trim_to_free,
    with_model_layer,
)

__all__ = ["AnalysisMixin", "StoreReport"]


@dataclass
class StoreReport:
    """What :meth:`Workspace.store_analysis` did."""

    run_id: int
    utterances: int  # utterances of the lesson after storing
    replaced: int  # old model-only utterances removed
    kept_human: int  # pinned utterances kept (with human edits or deleted by a person)
    speakers: dict[str, str] = field(default_factory=dict)  # new label -> stored label
    disagreements: list[Disagreement] = field(default_factory=list)


class AnalysisMixin(ReadingMixin):
    """Analysis runs: the ``analysing`` mark with its lock, storing results, recovery."""

    def __init__(self, folder: Path, con: sqlite3.Connection, user: str) -> None:
        super().__init__(folder, con, user)
        self._analysing = AnalysisLocks(folder)

    def recover_interrupted(self) -> list[int]:
        """Lessons left ``analysing`` by a run that ended without finishing (killed, crashed,
        power cut; no process holds their analysis lock) get back the status their stored
        data says (``edited``, ``analysed`` or ``not analysed``); returns their ids."""
        stale = [
            int(r[0])
            for r in self._rows("SELECT id FROM lessons WHERE status = 'analysing'")
            if not self._analysing.in_progress(int(r[0]))
        ]
        for lesson_id in stale:
            try:
                with self._tx() as con:
                    con.execute(
                        "UPDATE lessons SET status = ? WHERE id = ? AND status = 'analysing'",
                        (self._settled_status(lesson_id).value, lesson_id),
                    )
            except WorkspaceError:
                break  # cannot write now: the lesson stays marked; a re-analysis settles it
        return stale

    def _settled_status(self, lesson_id: int) -> LessonStatus:
        """What a lesson's stored data says its status is, whatever it is marked."""
        if (
            self._one(
                "SELECT 1 FROM edits WHERE lesson_id = ? AND action NOT IN ('relocate', 'rename_lesson') LIMIT 1",
                (lesson_id,),
            )
            is not None
        ):
            return LessonStatus.EDITED
        if self._one("SELECT 1 FROM runs WHERE lesson_id = ? LIMIT 1", (lesson_id,)) is not None:
            return LessonStatus.ANALYSED
        return LessonStatus.NOT_ANALYSED

    def begin_analysis(self, lesson_id: int) -> LessonStatus:
        """Mark the lesson ``analysing``; returns the status to restore on failure/cancel (what
        its stored data says when another run is marked as analysing it already). Until the
        status changes again this process holds the lesson's analysis lock, so a run that dies
        is recognised as interrupted (:meth:`recover_interrupted`)."""
        self._analysing.hold(lesson_id)
        try:
            with self._tx() as con:
                old = self.lesson(lesson_id).status
                con.execute("UPDATE lessons SET status = 'analysing' WHERE id = ?", (lesson_id,))
        except BaseException:
            self._analysing.release(lesson_id)
            raise
        return self._settled_status(lesson_id) if old is LessonStatus.ANALYSING else old

    def store_analysis(
        self,
        lesson_id: int,
        run: AnalysisRun,
        utterances: Sequence[Utterance],
        speakers: Sequence[Speaker] = (),
        duration_s: float | None = None,
    ) -> StoreReport:
        """Store a new analysis of a lesson in one transaction, keeping every human edit
        (the rule in :mod:`esergui.workspace.reanalysis`).

        ``utterances`` carry the model layer; one whose ``id`` is a pinned utterance of this
        lesson refreshes that utterance's model layer exactly (the pipeline analyses pinned
        spans this way); other pinned utterances take the model layer of the new utterance
        overlapping them most. ``speakers`` give roles of the new speaker labels."""
        with self._tx() as con:
            self.lesson(lesson_id)
            pinned = self.pinned(lesson_id)
            pinned_ids = {u.id for u in pinned}
            direct = {u.id: u for u in utterances if u.id in pinned_ids}
            fresh = [replace(u, id=None) for u in utterances if u.id not in pinned_ids]
            index = OverlapIndex((u.start_s, u.end_s, u) for u in fresh)
            refreshed = []
            for p in pinned:
                src = direct.get(p.id)
                if src is not None:
                    refreshed.append(with_model_layer(p, src))
                else:
                    refreshed.append(refresh_model_layer(p, index))
            fresh = trim_to_free(fresh, [(p.start_s, p.end_s) for p in pinned])

            # speakers: map new labels onto existing speakers
            old_speakers = {s.label: s for s in self.speakers(lesson_id)}
            old_spans = [(u.start_s, u.end_s, label) for u in self.utterances(lesson_id) if (label := u.final_speaker)]
            new_items = [u for u in [*fresh, *refreshed] if u.speaker and not u.deleted]
            new_spans = [(u.start_s, u.end_s, u.speaker) for u in new_items if u.speaker is not None]
            sticky = {s.label for s in old_speakers.values() if s.human_edited or s.role_source == HUMAN}
            mapping = map_speakers(old_spans, new_spans, sticky)
            roles = {s.label: s.role for s in speakers}
            new_labels = sorted({label for _start, _end, label in new_spans}, key=str)
            taken = set(mapping.values()) | sticky | {u.human_speaker for u in pinned if u.human_speaker}
            for label in new_labels:
                if label not in mapping:
                    mapping[label] = fresh_label(label, taken)
                    taken.add(mapping[label])

            run_id = self._insert_run(lesson_id, run)
            removed = con.execute(
                f"DELETE FROM utterances WHERE lesson_id = ? AND id NOT IN ({','.join('?' * len(pinned_ids))})",
                (lesson_id, *pinned_ids),
            ).rowcount
            # speakers rows: keep mapped / sticky / human-referenced, add new, drop the rest
            keep = set(mapping.values()) | taken
            for label, sp in old_speakers.items():
                if label not in keep:
                    con.execute("DELETE FROM speakers WHERE id = ?", (sp.id,))
            for new_label, stored in mapping.items():
                role = roles.get(new_label)
                if role is None:
                    role = next((u.role for u in new_items if u.speaker == new_label and u.role), None)
                if stored in old_speakers:
                    con.execute(
                        "UPDATE speakers SET role = ? WHERE id = ? AND role_source = 'model'",
                        (role, old_speakers[stored].id),
                    )
                else:
                    con.execute(
                        "INSERT INTO speakers (lesson_id, label, role) VALUES (?, ?, ?)", (lesson_id, stored, role)
                    )
            ids = self._speaker_ids(lesson_id)

            def speaker_id(label: str | None) -> int | None:
                """The stored speaker row a new utterance's speaker label maps to."""
                stored = mapping.get(label) if label is not None else None
                return ids.get(stored) if stored is not None else None

            def model_layer(u: Utterance) -> tuple[object, ...]:
                """The columns of an utterance's model layer, after its run and speaker."""
                return (
                    run_id,
                    speaker_id(u.speaker),
                    u.role,
                    u.role_confidence,
                    u.emotion,
                    u.confidence,
                    dumps(u.probabilities or {}),
                )

            con.executemany(
                "UPDATE utterances SET run_id = ?, speaker_id = ?, role = ?, role_confidence = ?, emotion = ?,"
                " confidence = ?, probabilities = ? WHERE id = ?",
                [(*model_layer(u), u.id) for u in refreshed],
            )
            con.executemany(
                "INSERT INTO utterances (run_id, speaker_id, role, role_confidence, emotion, confidence,"
                " probabilities, lesson_id, start_s, end_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*model_layer(u), lesson_id, float(u.start_s), float(u.end_s)) for u in fresh],
            )
            status = LessonStatus.EDITED if pinned else LessonStatus.ANALYSED
            con.execute("UPDATE lessons SET status = ? WHERE id = ?", (status.value, lesson_id))
            if duration_s is not None:
                con.execute("UPDATE lessons SET duration_s = ? WHERE id = ?", (float(duration_s), lesson_id))
            count = con.execute(
                "SELECT COUNT(*) FROM utterances WHERE lesson_id = ? AND deleted = 0", (lesson_id,)
            ).fetchone()[0]
            report = StoreReport(
                run_id=run_id,
                utterances=int(count),
                replaced=max(0, removed),
                kept_human=len(pinned),
                speakers={k: v for k, v in mapping.items()},
                disagreements=self.disagreements(lesson_id),
            )
        self._analysing.release(lesson_id)
        return report

    def _speaker_ids(self, lesson_id: int) -> dict[str, int]:
        return dict(self._con.execute("SELECT label, id FROM speakers WHERE lesson_id = ?", (lesson_id,)).fetchall())

    def _insert_run(self, lesson_id: int, run: AnalysisRun) -> int:
        cur = self._con.execute(
            "INSERT INTO runs (lesson_id, created, settings, model_name, model_version, labels, device, timings, skipped)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                lesson_id,
                run.created,
                dumps(run.settings),
                run.model_name,
                run.model_version,
                dumps(list(run.labels)),
                run.device,
                dumps(run.timings_s),
                dumps(run.skipped),
            ),
        )
        return inserted_id(cur)
