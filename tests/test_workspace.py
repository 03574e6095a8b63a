"""Workspace store: opening, schema migrations, damaged databases, audio by content hash,
transactions and crash safety, teacher voices, the model registry."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from esergui.errors import WorkspaceError
from esergui.lesson import AnalysisRun, LessonStatus, Utterance
from esergui.workspace import DB_NAME, SCHEMA_VERSION, Workspace, full_hash, quick_hash, schema

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def wav(emodb: Path, tmp_path: Path) -> Path:
    """A real EmoDB recording copied to a private place (tests move it around)."""
    dst = tmp_path / "audio" / "lesson_a.wav"
    dst.parent.mkdir()
    shutil.copyfile(emodb / "wav" / "03a01Fa.wav", dst)
    return dst


def test_create_and_reopen(tmp_path: Path, wav: Path) -> None:
    folder = tmp_path / "ws"
    with Workspace.open(folder) as ws:
        assert ws.schema_version == SCHEMA_VERSION
        for sub in ("recordings", "cache", "enrolment"):
            assert (folder / sub).is_dir()
        lesson = ws.add_lesson(wav, duration_s=1.9)
        assert lesson.id is not None and lesson.status is LessonStatus.NOT_ANALYSED
        assert lesson.audio_sha256 == full_hash(wav) and lesson.audio_size == wav.stat().st_size
        mode = ws._one("PRAGMA journal_mode")[0]
        assert mode == "wal"
        assert ws._one("PRAGMA foreign_keys")[0] == 1
    with Workspace.open(folder, create=False) as ws:
        [again] = ws.lessons()
        assert again == lesson
    with pytest.raises(WorkspaceError, match="no workspace"):
        Workspace.open(tmp_path / "nothing", create=False)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(WorkspaceError, match="is a file"):
        Workspace.open(tmp_path / "afile")


def test_same_content_is_one_lesson(tmp_path: Path, wav: Path) -> None:
    with Workspace.open(tmp_path / "ws") as ws:
        first = ws.add_lesson(wav)
        copy = tmp_path / "copy.wav"
        shutil.copyfile(wav, copy)
        assert ws.add_lesson(copy).id == first.id
        assert len(ws.lessons()) == 1
        rec = ws.recordings_dir / "rec1.wav"
        shutil.copyfile(wav, rec)
        rec.write_bytes(rec.read_bytes() + b"\0\0")  # different content -> new lesson
        inside = ws.add_lesson(rec, name="recorded")
        assert inside.audio_path == "recordings/rec1.wav"  # relative: the folder can move
        assert ws.audio_file(inside) == rec


def test_relocate_by_hash(tmp_path: Path, conversation: Path) -> None:
    wav = tmp_path / "long.wav"  # 90 s of real speech, 2.9 MB: head and tail hashes differ from the middle
    sample = str(conversation / "sample.wav")
    subprocess.run(["sox", sample, sample, sample, str(wav)], check=True)
    with Workspace.open(tmp_path / "ws") as ws:
        lesson = ws.add_lesson(wav)
        moved = tmp_path / "elsewhere" / "renamed.wav"
        moved.parent.mkdir()
        shutil.move(wav, moved)
        # the wrong file is refused: same size is not enough
        other = tmp_path / "other.wav"
        data = bytearray(moved.read_bytes())
        data[len(data) // 2] ^= 0xFF  # same size, same head and tail, one byte differs
        other.write_bytes(bytes(data))
        assert quick_hash(other) == lesson.audio_quick_hash
        with pytest.raises(WorkspaceError, match="content differs"):
            ws.relocate(lesson.id, other)
        with pytest.raises(WorkspaceError, match="not found"):
            ws.relocate(lesson.id, tmp_path / "missing.wav")
        assert ws.lesson(lesson.id).audio_path == str(wav)
        # explicit relocation
        relocated = ws.relocate(lesson.id, moved)
        assert Path(relocated.audio_path) == moved
        assert [e.action for e in ws.edits(lesson.id)] == ["relocate"]
        # search by content after another move
        again = tmp_path / "deep" / "er" / "x.wav"
        again.parent.mkdir(parents=True)
        shutil.move(moved, again)
        assert ws.find_audio(lesson.id, search=[tmp_path]) == again
        again.unlink()
        with pytest.raises(WorkspaceError, match="missing or changed"):
            ws.find_audio(lesson.id, search=[tmp_path])


def _assert_untouched(path: Path, before: bytes) -> None:
    assert path.read_bytes() == before


def test_garbage_database_is_refused_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    db = folder / DB_NAME
    db.write_bytes(b"this is not a database at all\n" * 100)
    before = db.read_bytes()
    with pytest.raises(WorkspaceError, match="not a valid workspace database|cannot open") as err:
        Workspace.open(folder)
    assert "untouched" in str(err.value)
    _assert_untouched(db, before)


def test_truncated_database_is_refused_untouched(tmp_path: Path, wav: Path) -> None:
    folder = tmp_path / "ws"
    with Workspace.open(folder) as ws:
        lesson = ws.add_lesson(wav)
        run = AnalysisRun(labels=("neutral", "anger"))
        ws.store_analysis(lesson.id, run, [Utterance(i * 0.5, i * 0.5 + 0.4, emotion="anger") for i in range(3000)])
        ws._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db = folder / DB_NAME
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    before = db.read_bytes()
    with pytest.raises(WorkspaceError, match="damaged|not a valid"):
        Workspace.open(folder)
    _assert_untouched(db, before)


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    Workspace.open(folder).close()
    db = folder / DB_NAME
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 5),))
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = db.read_bytes()
    with pytest.raises(WorkspaceError, match="newer ESER Studio"):
        Workspace.open(folder)
    _assert_untouched(db, before)


@pytest.mark.parametrize("tamper", ["drop_table", "foreign", "bad_version", "broken_reference"])
def test_tampered_database_is_refused(tmp_path: Path, wav: Path, tamper: str) -> None:
    folder = tmp_path / "ws"
    with Workspace.open(folder) as ws:
        lesson = ws.add_lesson(wav)
        ws.store_analysis(lesson.id, AnalysisRun(), [Utterance(0.1, 0.9)])
    db = folder / DB_NAME
    con = sqlite3.connect(db)
    if tamper == "drop_table":
        con.execute("DROP TABLE edits")
    elif tamper == "foreign":
        con.execute("UPDATE meta SET value = 'some-other-app' WHERE key = 'app'")
    elif tamper == "bad_version":
        con.execute("UPDATE meta SET value = 'two' WHERE key = 'schema_version'")
    else:
        con.execute("UPDATE utterances SET lesson_id = 999")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = db.read_bytes()
    with pytest.raises(WorkspaceError):
        Workspace.open(folder)
    _assert_untouched(db, before)


def test_migration_from_version_1_keeps_data(tmp_path: Path, wav: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    db = folder / DB_NAME
    con = sqlite3.connect(db)
    con.executescript(schema.MIGRATIONS[0])
    con.execute("INSERT INTO meta VALUES ('app', ?), ('schema_version', '1')", (schema.APP_ID,))
    con.execute(
        "INSERT INTO lessons (name, audio_path, audio_size, audio_quick_hash, audio_sha256, created, status)"
        " VALUES ('old lesson', ?, ?, ?, ?, '2024-01-01T00:00:00+00:00', 'analysed')",
        (str(wav), wav.stat().st_size, quick_hash(wav), full_hash(wav)),
    )
    con.execute(
        "INSERT INTO utterances (lesson_id, start_s, end_s, emotion, human_emotion) VALUES (1, 0.2, 1.1, 'anger', 'fear')"
    )
    con.commit()
    con.close()
    with Workspace.open(folder) as ws:
        assert ws.schema_version == SCHEMA_VERSION == 2
        [lesson] = ws.lessons()
        assert lesson.name == "old lesson" and lesson.teacher_voice_id is None
        [u] = ws.utterances(lesson.id)
        assert (u.final_emotion, u.emotion_source) == ("fear", "human")
        assert ws.models() == [] and ws.teacher_voices() == []
    backup = folder / f"{DB_NAME}.v1.bak"
    assert backup.is_file()
    assert sqlite3.connect(backup).execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("1",)


def test_failed_edit_changes_nothing(tmp_path: Path, wav: Path) -> None:
    with Workspace.open(tmp_path / "ws") as ws:
        lesson = ws.add_lesson(wav)
        ws.store_analysis(
            lesson.id, AnalysisRun(), [Utterance(0.0, 0.5, speaker="S1"), Utterance(0.6, 1.0, speaker="S1")]
        )
        a, b = ws.utterances(lesson.id)
        with pytest.raises(WorkspaceError, match="no speaker 'S9'"):
            ws.update_human({a.id: {"human_emotion": "fear"}, b.id: {"human_speaker": "S9"}})
        assert [u.human_emotion for u in ws.utterances(lesson.id)] == [None, None]
        assert ws.edits(lesson.id) == []
        assert ws.lesson(lesson.id).status is LessonStatus.ANALYSED
        with pytest.raises(WorkspaceError, match="not human-editable"):
            ws.update_human({a.id: {"emotion": "fear"}})


def test_edit_survives_sigkill(tmp_path: Path, wav: Path) -> None:
    folder = tmp_path / "ws"
    with Workspace.open(folder) as ws:
        lesson = ws.add_lesson(wav)
        ws.store_analysis(lesson.id, AnalysisRun(), [Utterance(0.0, 0.5, emotion="anger")])
        [u] = ws.utterances(lesson.id)
    script = textwrap.dedent(
        f"""
        import sys, time
        from esergui.workspace import Workspace
        ws = Workspace.open({str(folder)!r}, user="killed")
        ws.set_emotion([{u.id}], "happiness")
        ws.set_note([{u.id}], "said after the bell")
        print("edited", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "edited"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with Workspace.open(folder) as ws:
        [after] = ws.utterances(lesson.id)
        assert (after.final_emotion, after.note, after.edited_by) == ("happiness", "said after the bell", "killed")
        assert [e.action for e in ws.edits(lesson.id)] == ["set_emotion", "note"]


def test_teacher_voice_models_and_settings(tmp_path: Path, wav: Path) -> None:
    with Workspace.open(tmp_path / "ws") as ws:
        emb = np.linspace(-1, 1, 256, dtype=np.float32)
        voice = ws.enrol_teacher("Ms Weber", wav, emb, encoder="resemblyzer-ge2e")
        assert ws.teacher_voice_audio(voice).read_bytes() == wav.read_bytes()
        assert np.allclose(np.array(voice.embedding, np.float32), emb)
        lesson = ws.add_lesson(wav)
        ws.set_lesson_teacher(lesson.id, voice.id)
        assert ws.lesson(lesson.id).teacher_voice_id == voice.id
        with pytest.raises(WorkspaceError, match="not finite"):
            ws.enrol_teacher("x", wav, np.array([np.nan], np.float32), encoder="e")
        ws.remove_teacher_voice(voice.id)
        assert ws.lesson(lesson.id).teacher_voice_id is None and ws.teacher_voices() == []
        assert not ws.teacher_voice_audio(voice).exists()

        assert ws.active_model is None
        entry = ws.register_model(
            "iemocap4", "/models/iemocap4.safetensors", ["angry", "happy", "neutral", "sad"], {"uar": 0.61}
        )
        assert entry.labels == ("angry", "happy", "neutral", "sad") and entry.figures == {"uar": 0.61}
        ws.set_active_model("iemocap4")
        assert ws.active_model == entry
        with pytest.raises(WorkspaceError, match="no model named"):
            ws.set_active_model("nope")
        ws.remove_model("iemocap4")
        assert ws.active_model is None
        ws.set_setting("codes", ["question", "praise"])
        assert ws.get_setting("codes") == ["question", "praise"]
        assert ws.get_setting("missing", 3) == 3
