"""Issue 18, the workspace: interrupted analyses, two processes at once, damaged rows, full and
read-only disks, over-long paths and control characters. Every case ends in one clear
``WorkspaceError`` sentence (or works), never a traceback, and loses nothing stored."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from esergui.errors import WorkspaceError
from esergui.lesson import AnalysisRun, LessonStatus, Speaker
from esergui.workspace import DB_NAME, Workspace
from tests.workspace_support import LABELS, corrupt, small_disk, utterances

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def analysed(tmp_path: Path, emodb: Path) -> tuple[Path, int]:
    """A workspace folder with one analysed lesson (6 utterances, 2 speakers); closed."""
    folder = tmp_path / "ws"
    with Workspace.open(folder) as ws:
        lesson = ws.add_lesson(emodb / "wav" / "03a01Fa.wav", name="Monday maths", duration_s=20.0)
        ws.store_analysis(
            lesson.id, AnalysisRun(labels=LABELS), utterances(), [Speaker("S1", "teacher"), Speaker("S2", "student")]
        )
    return folder, int(lesson.id)


def _python(code: str, **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


# ------------------------------------------------------------------------ interrupted analyses


def test_stale_analysing_recovered_after_kill9_not_while_running(analysed: tuple[Path, int]) -> None:
    folder, lid = analysed
    code = f"""
        import sys
        from esergui.workspace import Workspace
        ws = Workspace.open({str(folder)!r})
        ws.begin_analysis({lid})
        print("analysing", flush=True)
        sys.stdin.readline()
    """
    proc = _python(code)
    try:
        assert proc.stdout.readline().strip() == "analysing"
        with Workspace.open(folder) as ws:  # another process is analysing it: left alone
            assert ws.lesson(lid).status is LessonStatus.ANALYSING
            assert ws.recover_interrupted() == []
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
        proc.communicate()
    with Workspace.open(folder) as ws:  # the analysing process died: recovered on open
        lesson = ws.lesson(lid)
        assert lesson.status is LessonStatus.ANALYSED
        assert len(ws.utterances(lid)) == 6
        ws.set_emotion([ws.utterances(lid)[0].id], "anger")  # edits work again
        assert ws.lesson(lid).status is LessonStatus.EDITED


def test_stale_analysing_of_edited_lesson_becomes_edited(analysed: tuple[Path, int]) -> None:
    folder, lid = analysed
    with Workspace.open(folder) as ws:
        ws.set_note([ws.utterances(lid)[0].id], "check this")
        ws._con.execute("UPDATE lessons SET status = 'analysing' WHERE id = ?", (lid,))  # as a killed run leaves it
    with Workspace.open(folder) as ws:
        assert ws.lesson(lid).status is LessonStatus.EDITED


def test_two_runs_of_one_lesson_in_one_process_keep_the_mark_until_both_end(analysed: tuple[Path, int]) -> None:
    folder, lid = analysed
    with Workspace.open(folder) as first, Workspace.open(folder) as second:
        assert first.begin_analysis(lid) is LessonStatus.ANALYSED
        assert second.begin_analysis(lid) is LessonStatus.ANALYSED  # not "analysing": what the data says
        first.store_analysis(lid, AnalysisRun(labels=LABELS), utterances(4))
        assert first.lesson(lid).status is LessonStatus.ANALYSED
        second.set_status(lid, LessonStatus.ANALYSED)


def test_sigterm_during_cli_analysis_restores_the_lesson(tmp_path: Path, conversation: Path) -> None:
    """``esergui analyze`` killed with SIGTERM stops like Ctrl+C: exit 130, lesson not 'analysing'."""
    folder = tmp_path / "ws"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "esergui",
            "analyze",
            str(conversation / "sample.wav"),
            "--out",
            str(tmp_path / "out"),
            "--workspace",
            str(folder),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        import time

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            if (folder / DB_NAME).exists():
                with contextlib.suppress(sqlite3.Error):
                    con = sqlite3.connect(folder / DB_NAME, timeout=1)
                    row = con.execute("SELECT status FROM lessons").fetchone()
                    con.close()
                    if row and row[0] == "analysing":
                        break
        assert proc.poll() is None, "the analysis ended before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    with Workspace.open(folder) as ws:
        [lesson] = ws.lessons()
        assert lesson.status is LessonStatus.NOT_ANALYSED


# ------------------------------------------------------------------------ two processes


def test_two_processes_create_the_same_new_workspace(tmp_path: Path) -> None:
    folder = tmp_path / "shared_ws"
    code = f"""
        import sys
        from esergui.workspace import Workspace
        sys.stdin.readline()
        with Workspace.open({str(folder)!r}) as ws:
            ws.set_setting("opened_by_" + sys.argv[1] if len(sys.argv) > 1 else "x", 1)
        print("ok")
    """
    procs = [_python(code) for _ in range(4)]
    for p in procs:  # release them together
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [r[1][-500:] for r in results]
    with Workspace.open(folder, create=False) as ws:
        assert ws.lessons() == []


# ------------------------------------------------------------------------ damaged contents


@pytest.mark.parametrize(
    "damage, says",
    [
        (
            "UPDATE utterances SET probabilities = '{\"anger\": 0.2,' WHERE id = 3",
            r"utterance 3: the emotion probabilities: the stored JSON is broken",
        ),
        (
            "UPDATE utterances SET codes = '[\"lecture\"' WHERE id = 2",
            r"utterance 2: the codes: the stored JSON is broken",
        ),
        ("UPDATE utterances SET note = CAST(X'4f6bff21' AS TEXT) WHERE id = 4", r"could not decode"),
    ],
)
def test_damaged_utterance_rows_name_the_lesson(analysed: tuple[Path, int], damage: str, says: str) -> None:
    folder, lid = analysed
    corrupt(folder, damage)
    with Workspace.open(folder) as ws:
        with pytest.raises(WorkspaceError, match=r"lesson 'Monday maths' \(id 1\)") as info:
            ws.utterances(lid)
        assert re.search(says, str(info.value), re.I), str(info.value)
        assert "\n" not in str(info.value)
        assert ws.lesson(lid).name == "Monday maths"  # the rest still reads
        assert len(ws.speakers(lid)) == 2


def test_damaged_lesson_status_and_run_are_named(analysed: tuple[Path, int]) -> None:
    folder, lid = analysed
    corrupt(folder, "PRAGMA ignore_check_constraints = ON", "UPDATE runs SET labels = '[\"anger\"' WHERE lesson_id = 1")
    with Workspace.open(folder) as ws:
        with pytest.raises(
            WorkspaceError, match=r"lesson 'Monday maths'.*run 1: the labels: the stored JSON is broken"
        ):
            ws.labels(lid)


def test_corrupt_teacher_voice_is_named(analysed: tuple[Path, int], emodb: Path) -> None:
    import numpy as np

    folder, _lid = analysed
    with Workspace.open(folder) as ws:
        voice = ws.enrol_teacher("Ms Weber", emodb / "wav" / "03a01Fa.wav", np.ones(256, np.float32), "test")
    corrupt(folder, f"UPDATE teacher_voices SET embedding = X'0000803f0000' WHERE id = {voice.id}")
    with Workspace.open(folder) as ws:
        with pytest.raises(WorkspaceError, match=r"teacher voice 'Ms Weber' .* is damaged"):
            ws.teacher_voices()


def test_cache_being_a_file_is_named(analysed: tuple[Path, int]) -> None:
    folder, _lid = analysed
    (folder / "cache").rmdir()
    (folder / "cache").write_text("not a folder")
    with pytest.raises(WorkspaceError, match=r"cache: is a file where the workspace keeps its 'cache' folder"):
        Workspace.open(folder)
    assert (folder / "cache").read_text() == "not a folder"  # nothing deleted


def test_flipped_byte_in_the_schema_is_refused_untouched(analysed: tuple[Path, int]) -> None:
    folder, _lid = analysed
    con = sqlite3.connect(folder / DB_NAME)
    con.execute("PRAGMA writable_schema = ON")
    con.execute(
        "UPDATE sqlite_master SET sql = replace(sql, 'start_s REAL', 'start_s REAL,,') WHERE name = 'utterances'"
    )
    con.commit()
    con.close()
    before = (folder / DB_NAME).read_bytes()
    with pytest.raises(WorkspaceError, match=r"(damaged|malformed)"):
        with Workspace.open(folder) as ws:
            ws.utterances(1)
    assert (folder / DB_NAME).read_bytes() == before


def test_cli_reports_a_damaged_lesson_in_one_line(analysed: tuple[Path, int], emodb: Path, tmp_path: Path) -> None:
    folder, _lid = analysed
    corrupt(folder, "UPDATE utterances SET probabilities = '{' WHERE id = 1")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "esergui",
            "analyze",
            str(emodb / "wav" / "03a01Fa.wav"),
            "--out",
            str(tmp_path / "out"),
            "--workspace",
            str(folder),
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert "lesson 'Monday maths' (id 1)" in proc.stderr and "is damaged" in proc.stderr, proc.stderr


# ------------------------------------------------------------------------ full and read-only disks


def test_full_database_is_named_and_loses_nothing(analysed: tuple[Path, int]) -> None:
    """SQLITE_FULL (what a full disk gives) -> 'the disk is full', and the stored rows stay."""
    folder, lid = analysed
    with Workspace.open(folder) as ws:
        pages = ws._one("PRAGMA page_count")[0]
        ws._con.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(WorkspaceError, match="the disk is full") as info:
            ws.store_analysis(lid, AnalysisRun(labels=LABELS), utterances(3000))
        assert "rollback" not in str(info.value)
        assert len(ws.utterances(lid)) == 6
        assert ws.lesson(lid).status is LessonStatus.ANALYSED


def test_really_full_disk_is_named(tmp_path: Path, emodb: Path) -> None:
    with small_disk(tmp_path / "disk", "2m") as disk:
        with Workspace.open(disk / "ws") as ws:
            lesson = ws.add_lesson(emodb / "wav" / "03a01Fa.wav")
            filler = disk / "filler"
            with contextlib.suppress(OSError), open(filler, "wb") as fh:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            with pytest.raises(WorkspaceError, match="the disk is full"):
                ws.store_analysis(lesson.id, AnalysisRun(labels=LABELS), utterances(3000))
            filler.unlink()
            assert ws.utterances(lesson.id) == []


def _make_read_only(folder: Path):
    if os.geteuid() == 0:
        ok = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode == 0
        ok = ok and subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True).returncode == 0
        if not ok:
            pytest.skip("cannot make a read-only bind mount")
        return lambda: subprocess.run(["umount", "-l", str(folder)], capture_output=True)
    for p in [folder, *folder.rglob("*")]:
        p.chmod(p.stat().st_mode & ~0o222)
    return lambda: [p.chmod(p.stat().st_mode | 0o200) for p in [folder, *folder.rglob("*")]]


def test_read_only_workspace_is_named(analysed: tuple[Path, int]) -> None:
    folder, _lid = analysed
    undo = _make_read_only(folder)
    try:
        with pytest.raises(WorkspaceError, match="read-only") as info:
            Workspace.open(folder)
        assert "readonly database" not in str(info.value) and "valid workspace" not in str(info.value)
    finally:
        undo()


def test_decode_cache_on_a_full_disk_leaves_no_part(tmp_path: Path, conversation: Path) -> None:
    from esergui.audio import decode_to_cache
    from esergui.errors import AudioError

    with small_disk(tmp_path / "disk", "256k") as disk:  # the sample decodes to 0.9 MB
        with pytest.raises(AudioError, match="the disk is full"):
            decode_to_cache(conversation / "sample.wav", disk / "cache" / "x_16k.wav")
        assert list((disk / "cache").iterdir()) == []


# ------------------------------------------------------------------------ names and paths


def test_workspace_path_past_the_system_limit(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="too long"):
        Workspace.open(tmp_path / ("x" * 300))
    deep = tmp_path.joinpath(*(["d" * 200] * 25))  # 5000 bytes: past PATH_MAX
    with pytest.raises(WorkspaceError, match="too long"):
        Workspace.open(deep)


def test_long_audio_file_name_is_a_lesson(tmp_path: Path, emodb: Path) -> None:
    import shutil

    name = "l" * 245 + ".wav"  # 249 bytes
    audio = tmp_path / name
    shutil.copyfile(emodb / "wav" / "03a01Fa.wav", audio)
    with Workspace.open(tmp_path / "ws") as ws:
        lesson = ws.add_lesson(audio)
        assert ws.lesson(lesson.id).name == "l" * 245


_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def test_control_characters_never_reach_names_or_notes(analysed: tuple[Path, int]) -> None:
    folder, lid = analysed
    with Workspace.open(folder) as ws:
        ws.rename_speaker(lid, "S1", "Ms\x00 Weber\x07\x1b[31m")
        new = ws.add_speaker(lid, "Tom\x0b\x0c")
        ws.rename_lesson(lid, "Mon\x08day\r\nmaths")
        first = ws.utterances(lid)[0].id
        ws.set_note([first], "line one\r\nline two\x00\x01 end")
        speakers = {s.label: s.display_name for s in ws.speakers(lid)}
        assert speakers["S1"] == "Ms Weber [31m" and speakers[new.label] == "Tom"
        assert ws.lesson(lid).name == "Mon day maths"
        assert ws.utterance(first).note == "line one\nline two end"
        for text in [*speakers.values(), ws.lesson(lid).name, ws.utterance(first).note]:
            assert not _XML_INVALID.search(text)
            doc = ET.tostring(ET.Element("TIER", {"PARTICIPANT": text}))
            assert ET.fromstring(doc).get("PARTICIPANT") == text.replace("\n", " ") or "\n" in text


def test_same_lesson_analysed_twice_at_once_by_the_cli(tmp_path: Path, emodb: Path) -> None:
    """The issue's case: two ``esergui analyze`` runs of one lesson into one workspace both
    succeed (they used to share ``cache/..._16k.wav.part``)."""
    import shutil

    audio = tmp_path / "lesson.wav"
    shutil.copyfile(emodb / "wav" / "03a01Fa.wav", audio)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "esergui",
                "analyze",
                str(audio),
                "--out",
                str(tmp_path / f"out{k}"),
                "--workspace",
                str(tmp_path / "ws"),
                "--quiet",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1] for r in results]
    with Workspace.open(tmp_path / "ws") as ws:
        [lesson] = ws.lessons()
        assert lesson.status is LessonStatus.ANALYSED and len(ws.runs(lesson.id)) == 2
        assert sorted(p.suffix for p in ws.cache_dir.iterdir()) == [".json", ".wav"]


def test_teacher_voice_copy_on_a_full_disk_leaves_nothing(tmp_path: Path, conversation: Path) -> None:
    import numpy as np

    with small_disk(tmp_path / "disk", "512k") as disk:  # the 30 s recording is 0.9 MB
        with Workspace.open(disk / "ws") as ws:
            with pytest.raises(WorkspaceError, match="the disk is full"):
                ws.enrol_teacher("Ms Weber", conversation / "sample.wav", np.ones(256, np.float32), "test")
            assert ws.teacher_voices() == [] and list(ws.enrolment_dir.iterdir()) == []


def test_damaged_lesson_row_names_the_workspace(analysed: tuple[Path, int]) -> None:
    folder, lid = analysed
    corrupt(folder, "PRAGMA ignore_check_constraints = ON", "UPDATE lessons SET status = 'analysed?' WHERE id = 1")
    with Workspace.open(folder) as ws:
        with pytest.raises(
            WorkspaceError, match=rf"the workspace {re.escape(str(folder))} is damaged: lesson 1: unknown status"
        ):
            ws.lessons()
        with pytest.raises(
            WorkspaceError, match=r"lesson 'Monday maths' \(id 1\) .* is damaged: lesson 1: unknown status"
        ):
            ws.lesson(lid)
