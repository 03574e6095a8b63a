"""The annotation command layer (esergui.app.annotation.undo) over a real workspace: every command is
written at once, undone and redone exactly (whole-row snapshots), refused edits never reach
the stack, and an edit survives the app being killed with SIGKILL right after it."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from annotation_support import add_conversation  # noqa: E402
from PySide6.QtGui import QUndoStack  # noqa: E402

from esergui.app.annotation.undo import NOTE_MERGE_ID, EditLayer, MergeSpeakersEdit, SpeakerEdit, UtteranceEdit  # noqa: E402
from esergui.workspace import Workspace  # noqa: E402

pytestmark = pytest.mark.qt
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def setup(qapp, tmp_path: Path, conversation: Path):
    ws = Workspace.open(tmp_path / "ws", user="anna")
    lid = add_conversation(ws, conversation)
    stack = QUndoStack()
    layer = EditLayer(stack, lambda: ws)
    changes: list = []
    layer.changed.connect(lambda lesson, ids, light, records: changes.append((lesson, ids, light, records)))
    yield ws, lid, stack, layer, changes
    ws.close()


def rows(ws: Workspace, lid: int) -> list[tuple]:
    """Everything stored about the lesson's utterances (tombstones included)."""
    return [dataclasses.astuple(u) for u in ws.utterances(lid, include_deleted=True)]


def test_label_edit_is_written_before_push_and_undone_exactly(setup) -> None:
    ws, lid, stack, layer, changes = setup
    before = rows(ws, lid)
    ids = [u.id for u in ws.utterances(lid)][:3]
    assert layer.push(UtteranceEdit("Emotion → fear", lid, ids, lambda w: w.set_emotion(ids, "fear")))
    after = rows(ws, lid)
    assert [u.human_emotion for u in ws.utterances(lid)[:4]] == ["fear"] * 3 + [None]
    assert ws.utterance(ids[0]).edited_by == "anna"
    assert stack.count() == 1 and stack.text(0) == "Emotion → fear"
    assert changes[-1][:3] == (lid, ids, False)
    # a label edit hands the views the changed records as stored, so they patch those rows only
    assert changes[-1][3] == [ws.utterance(i) for i in ids]
    stack.undo()
    assert rows(ws, lid) == before  # who/when included
    assert changes[-1][3] == [ws.utterance(i) for i in ids] and changes[-1][3][0].human_emotion is None
    stack.redo()
    assert rows(ws, lid) == after
    assert changes[-1][3] == [ws.utterance(i) for i in ids]
    actions = [e.action for e in ws.edits(lid)]
    assert actions == ["set_emotion", "restore", "restore"]  # one logged transaction per do/undo/redo


def test_boundary_edits_keep_ids_across_undo_redo(setup) -> None:
    ws, lid, stack, layer, changes = setup
    start = rows(ws, lid)
    utts = ws.utterances(lid)
    first = utts[4]
    at = (first.start_s + first.end_s) / 2
    assert layer.push(UtteranceEdit("Split", lid, [first.id], lambda w: w.split_utterance(first.id, at)))
    split = rows(ws, lid)
    assert len(split) == len(start) + 1
    new_id = max(u.id for u in ws.utterances(lid))
    # merge the second half with the next utterance, then delete the first half
    nxt = ws.utterances(lid)[6]
    assert layer.push(UtteranceEdit("Merge", lid, [new_id, nxt.id], lambda w: [w.merge_utterances([new_id, nxt.id])]))
    merged = rows(ws, lid)
    assert layer.push(UtteranceEdit("Delete", lid, [first.id], lambda w: w.delete_utterances([first.id])))
    assert ws.utterance(first.id).deleted
    assert layer.push(UtteranceEdit("New", lid, [], lambda w: [w.create_utterance(lid, 1.0, 2.0, role="student")]))
    created = rows(ws, lid)
    assert any(u.start_s == 1.0 and u.human_role == "student" for u in ws.utterances(lid))
    # all the way back, then all the way forward: the same rows with the same ids each time
    for expected in (merged, split, start):
        stack.undo()
        if expected is merged:
            stack.undo()
        assert rows(ws, lid) == expected
    for _ in range(4):
        stack.redo()
    assert rows(ws, lid) == created
    # utterances added, removed or moved: the views must re-read the lesson (no records to patch)
    assert len(changes) == 12 and all(c[3] is None for c in changes)


def test_note_typing_merges_into_one_command(setup) -> None:
    ws, lid, stack, layer, changes = setup
    uid = ws.utterances(lid)[0].id
    for text in ("a", "as", "ask"):
        layer.push(UtteranceEdit("Note", lid, [uid], lambda w, t=text: w.set_note([uid], t), NOTE_MERGE_ID, light=True))
        assert ws.utterance(uid).note == text  # every key stroke is on disk at once
    assert stack.count() == 1 and changes[-1][2] is True
    stack.undo()
    assert ws.utterance(uid).note == ""
    stack.redo()
    assert ws.utterance(uid).note == "ask"


def test_speaker_commands(setup) -> None:
    ws, lid, stack, layer, _ = setup
    assert layer.push(SpeakerEdit("Rename", lid, "S1", lambda w: w.rename_speaker(lid, "S1", "Ms Weber")))
    assert layer.push(SpeakerEdit("Role", lid, "S2", lambda w: w.set_speaker_role(lid, "S2", "teacher")))
    names = {s.label: (s.name, s.role, s.role_source) for s in ws.speakers(lid)}
    assert names == {"S1": ("Ms Weber", "teacher", "model"), "S2": ("S2", "teacher", "human")}
    s2_utts = [u.id for u in ws.utterances(lid) if u.speaker == "S2"]
    assert layer.push(MergeSpeakersEdit("Merge", lid, "S1", "S2"))
    assert [s.label for s in ws.speakers(lid)] == ["S1"]
    assert all(ws.utterance(i).final_speaker == "S1" for i in s2_utts)
    stack.undo()
    assert {s.label for s in ws.speakers(lid)} == {"S1", "S2"}
    assert all(ws.utterance(i).final_speaker == "S2" for i in s2_utts)
    stack.undo()
    stack.undo()
    assert {s.label: (s.name, s.role, s.role_source) for s in ws.speakers(lid)} == {
        "S1": ("S1", "teacher", "model"),
        "S2": ("S2", "student", "model"),
    }
    for _ in range(3):
        stack.redo()
    assert [s.name for s in ws.speakers(lid)] == ["Ms Weber"]


def test_refused_edit_never_reaches_the_stack(setup) -> None:
    ws, lid, stack, layer, _ = setup
    failures: list[str] = []
    layer.failed.connect(failures.append)
    before = rows(ws, lid)
    u = ws.utterances(lid)[0]
    ok = layer.push(UtteranceEdit("Split", lid, [u.id], lambda w: w.split_utterance(u.id, u.end_s + 5)))
    assert not ok and stack.count() == 0 and rows(ws, lid) == before
    assert failures and "not inside the utterance" in failures[0] and failures[0][0].isupper()


CHILD = """
import os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
sys.path.insert(0, {tests!r})
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
app = QApplication([])
from esergui.app.shell.window import MainWindow
win = MainWindow(QSettings({ini!r}, QSettings.Format.IniFormat), stream_factory=lambda **kw: None)
win.show()
win.open_workspace({folder!r})
win.open_lesson({lid})
app.processEvents()
win.activateWindow()
win.table.view.setFocus()
app.processEvents()
win.selection.select_rows([2, 3], win.table)
QTest.keyClick(win.table.view, Qt.Key.Key_4)          # emotion 4 (fear) on two utterances
win.selection.select_rows([5], win.table)
win.detail.set_cursor(float(win.lesson_data.start[5] + 0.5), emit=False)
QTest.keyClick(win.table.view, Qt.Key.Key_X)          # split at the cursor
win.annotation.panel.note.setPlainText("check")       # a note, as typed
app.processEvents()
print("EDITED", win.undo_stack.count(), flush=True)
time.sleep(60)
"""


def test_edits_survive_sigkill_right_after(setup, tmp_path: Path) -> None:
    ws, lid, stack, layer, _ = setup
    n0 = len(ws.utterances(lid))
    before = ws.utterances(lid)
    ws.close()
    code = CHILD.format(tests=str(ROOT / "tests"), ini=str(tmp_path / "app.ini"), folder=str(tmp_path / "ws"), lid=lid)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 120
        line = ""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("EDITED") or not line:
                break
        proc.send_signal(signal.SIGKILL)  # no clean-up, no close: as if the power went
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert line.startswith("EDITED"), proc.stderr.read()[-2000:]
    assert line.split()[1] == "3"  # three commands were on the stack when it died
    assert proc.returncode == -signal.SIGKILL
    with Workspace.open(tmp_path / "ws") as again:
        utts = again.utterances(lid)
        assert [u.human_emotion for u in utts[2:4]] == ["fear", "fear"]
        assert len(utts) == n0 + 1
        cut = before[5].start_s + 0.5
        halves = [u for u in utts if before[5].start_s <= u.start_s < before[5].end_s]
        assert [(round(u.start_s, 3), round(u.end_s, 3)) for u in halves] == [
            (round(before[5].start_s, 3), round(cut, 3)),
            (round(cut, 3), round(before[5].end_s, 3)),
        ]
        assert (halves[0].note, halves[1].note) == ("", "check")  # the second part is selected after a split
        assert halves[0].boundary_source == halves[1].boundary_source == "human"
        assert again.lesson(lid).status.value == "edited"
