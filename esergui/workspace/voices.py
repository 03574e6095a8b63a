"""Teacher voices, the model registry's rows and workspace settings (mixed into
:class:`esergui.workspace.Workspace`; every write is one transaction of the store)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from esergui.audio.info import check_file
from esergui.errors import WorkspaceError
from esergui.lesson import ModelEntry, TeacherVoice, dumps, now_iso
from esergui.workspace.connection import WorkspaceConnection, inserted_id
from esergui.workspace.guard import DamagedData, clean_name, json_cell


class VoicesModelsMixin(WorkspaceConnection):
    """Teacher voices, model rows and settings, written through the connection's helpers."""

    # ------------------------------------------------------------------ teacher voices
    def enrol_teacher(self, name: str, audio_path: str | Path, embedding: np.ndarray, encoder: str) -> TeacherVoice:
        """Store an enrolled teacher voice: the recording is copied into ``enrolment/`` and
        the embedding (1-D float32) kept as a blob."""
        src, _head = check_file(audio_path)
        name = clean_name(name)
        vec = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if vec.size == 0 or not np.all(np.isfinite(vec)):
            raise WorkspaceError("the teacher voice embedding is empty or not finite")
        created = now_iso()
        with self._tx() as con:
            cur = con.execute(
                "INSERT INTO teacher_voices (name, audio_file, encoder, embedding, created) VALUES (?, '', ?, ?, ?)",
                (name, encoder, vec.tobytes(), created),
            )
            voice_id = inserted_id(cur)
            target = self.enrolment_dir / f"voice{voice_id}{src.suffix.lower()}"
            try:
                shutil.copyfile(src, target)
            except BaseException:
                target.unlink(missing_ok=True)  # no partial copy is left behind
                raise
            con.execute("UPDATE teacher_voices SET audio_file = ? WHERE id = ?", (target.name, voice_id))
        return self.teacher_voice(voice_id)

    def teacher_voice(self, voice_id: int) -> TeacherVoice:
        row = self._one(
            "SELECT id, name, audio_file, encoder, embedding, created FROM teacher_voices WHERE id = ?", (voice_id,)
        )
        if row is None:
            raise WorkspaceError(f"no enrolled teacher voice with id {voice_id}")
        blob = row[4]
        vec = np.frombuffer(blob, dtype=np.float32) if isinstance(blob, bytes) and len(blob) % 4 == 0 else None
        if vec is None or vec.size == 0 or not np.all(np.isfinite(vec)):
            raise DamagedData(
                f"{self.db_path}: the enrolled teacher voice '{row[1]}' (id {voice_id}) is damaged "
                "(its voice print does not decode); remove it and enrol the teacher again"
            )
        return TeacherVoice(
            id=row[0], name=row[1], audio_file=row[2], encoder=row[3], embedding=tuple(vec.tolist()), created=row[5]
        )

    def teacher_voices(self) -> list[TeacherVoice]:
        return [self.teacher_voice(r[0]) for r in self._rows("SELECT id FROM teacher_voices ORDER BY id")]

    def teacher_voice_audio(self, voice: TeacherVoice) -> Path:
        return self.enrolment_dir / voice.audio_file

    def remove_teacher_voice(self, voice_id: int) -> None:
        voice = self.teacher_voice(voice_id)
        with self._tx() as con:
            con.execute("DELETE FROM teacher_voices WHERE id = ?", (voice_id,))
        self.teacher_voice_audio(voice).unlink(missing_ok=True)

    def set_lesson_teacher(self, lesson_id: int, voice_id: int | None) -> None:
        """Link a lesson to an enrolled teacher voice (``None`` unlinks)."""
        with self._tx() as con:
            if voice_id is not None:
                self.teacher_voice(voice_id)
            con.execute("UPDATE lessons SET teacher_voice_id = ? WHERE id = ?", (voice_id, lesson_id))

    # ------------------------------------------------------------------ models and settings
    def register_model(
        self, name: str, path: str | Path | None, labels: Sequence[str], figures: dict[str, Any] | None = None
    ) -> ModelEntry:
        """Add (or update) a model in the registry; ``path=None`` is the bundled model."""
        if not labels:
            raise WorkspaceError(f"model '{name}' has no labels")
        with self._tx() as con:
            con.execute(
                "INSERT INTO models (name, path, labels, created, figures) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(name) DO UPDATE SET path = excluded.path, labels = excluded.labels, figures = excluded.figures",
                (name, None if path is None else str(path), dumps(list(labels)), now_iso(), dumps(figures or {})),
            )
        return self.model(name)

    def model(self, name: str) -> ModelEntry:
        row = self._one("SELECT id, name, path, labels, created, figures FROM models WHERE name = ?", (name,))
        if row is None:
            raise WorkspaceError(f"no model named '{name}' in this workspace")
        return ModelEntry(
            id=row[0],
            name=row[1],
            path=row[2],
            labels=tuple(json_cell(row[3], f"model '{name}': the labels")),
            created=row[4],
            figures=json_cell(row[5], f"model '{name}': the figures"),
        )

    def models(self) -> list[ModelEntry]:
        return [self.model(r[0]) for r in self._rows("SELECT name FROM models ORDER BY id")]

    def remove_model(self, name: str) -> None:
        with self._tx() as con:
            con.execute("DELETE FROM models WHERE name = ?", (name,))
            if self.get_setting("active_model") == name:
                con.execute("DELETE FROM settings WHERE key = 'active_model'")

    @property
    def active_model(self) -> ModelEntry | None:
        """The model this workspace analyses with (``None``: the bundled default)."""
        name = self.get_setting("active_model")
        return self.model(name) if name else None

    def set_active_model(self, name: str | None) -> None:
        if name is not None:
            self.model(name)
        self.set_setting("active_model", name)

    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self._one("SELECT value FROM settings WHERE key = ?", (key,))
        return default if row is None else json_cell(row[0], f"{self.db_path}: the setting '{key}'")

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-able workspace setting (``None`` deletes it)."""
        with self._tx() as con:
            if value is None:
                con.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                con.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, dumps(value)))
