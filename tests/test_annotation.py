"""Annotation in the real main window (offscreen): keys and menus relabel, code, note and
review utterances; each check reads the workspace back, after the edit and after undo/redo."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from annotation_support import LABELS, main_window, template_ws, win  # noqa: E402,F401 (fixtures)
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from esergui.app.annotation.codes import FIAC_CODES, Code, validate  # noqa: E402
from esergui.app.annotation.controller import RESERVED_KEYS  # noqa: E402
from esergui.app.annotation.navigation import parse_time  # noqa: E402

pytestmark = pytest.mark.qt
MOD = Qt.KeyboardModifier


def key(win, k, mod=MOD.NoModifier, target=None) -> None:
    QTest.keyClick(target or win.table.view, k, mod)


def utts(win):
    return win.workspace.utterances(win.lid)


def test_number_keys_relabel_all_selected_with_undo_redo(win) -> None:
    c = win.annotation
    assert c.labels == LABELS
    win.selection.select_rows([0, 1], win.table)
    key(win, Qt.Key.Key_4)
    got = utts(win)
    assert [u.human_emotion for u in got[:3]] == ["fear", "fear", None]
    assert [u.emotion_source for u in got[:2]] == ["human", "human"] and got[0].emotion == LABELS[0]  # model layer kept
    assert got[0].edited_by == "anna" and got[0].edited_at
    assert win.lesson_data.label_name(0) == "fear" and c.record(0).emotion_source == "human"
    assert win.selection.ids == [got[0].id, got[1].id]  # the selection stays for the next key
    key(win, Qt.Key.Key_Z, MOD.ControlModifier)
    assert [u.human_emotion for u in utts(win)[:2]] == [None, None]
    assert win.lesson_data.label_name(0) == LABELS[0]
    key(win, Qt.Key.Key_Z, MOD.ControlModifier | MOD.ShiftModifier)
    assert [u.human_emotion for u in utts(win)[:2]] == ["fear", "fear"]
    key(win, Qt.Key.Key_0)  # back to the model's
    assert [u.emotion_source for u in utts(win)[:2]] == ["model", "model"]
    key(win, Qt.Key.Key_9)  # the model has 7 labels: nothing happens (and the table does not jump to row 9)
    assert [u.human_emotion for u in utts(win)[:2]] == [None, None] and win.selection.rows() == [0, 1]
    assert "key 9 has none" in win.statusBar().currentMessage()
    assert win.undo_stack.count() == 2
    # the same keys work with the focus in the detail timeline
    win.detail.view.setFocus()
    assert win.detail.view.hasFocus(), QApplication.focusWidget()
    QTest.keyClick(win.detail.view, Qt.Key.Key_2)
    assert [u.human_emotion for u in utts(win)[:2]] == ["boredom", "boredom"]
    # the legend: one button per label, with its key
    assert [b.text() for b in c.panel.emo_buttons] == [f"{k}  {n}" for k, n in enumerate(LABELS, 1)]


def test_role_speaker_codes_review_keys_and_csv(win, tmp_path: Path) -> None:
    c = win.annotation
    ids = [u.id for u in utts(win)]
    win.selection.select_rows([1], win.table)  # a student's utterance (S2)
    key(win, Qt.Key.Key_T)
    u = win.workspace.utterance(ids[1])
    assert (u.final_role, u.role_source, u.role) == ("teacher", "human", "student")
    key(win, Qt.Key.Key_S)
    assert win.workspace.utterance(ids[1]).human_role == "student"
    key(win, Qt.Key.Key_T, MOD.ShiftModifier)  # assign to the teacher's voice
    u = win.workspace.utterance(ids[1])
    assert (u.human_speaker, u.speaker) == ("S1", "S2")
    key(win, Qt.Key.Key_Q)  # FIAC question
    key(win, Qt.Key.Key_P)  # praise
    assert win.workspace.utterance(ids[1]).codes == ("question", "praise")
    key(win, Qt.Key.Key_Q)  # toggles off
    assert win.workspace.utterance(ids[1]).codes == ("praise",)
    key(win, Qt.Key.Key_R)
    assert win.workspace.utterance(ids[1]).reviewed
    assert c.panel.progress.value() == 1 and c.panel.progress.maximum() == 10
    assert c.panel.code_checks["praise"].isChecked() and not c.panel.code_checks["question"].isChecked()
    # the table's Annotated cell and tags
    from esergui.app.annotation.delegates import annotation_summary

    assert annotation_summary(c.record(1)) == "✓ · praise"
    win.selection.select_rows([2], win.table)
    key(win, Qt.Key.Key_6)
    path = win.export_csv(str(tmp_path / "out"), [win.lid])[0]
    frame = pd.read_csv(path, keep_default_na=False)
    row1, row2, row3 = (frame[frame.utterance_id == i].iloc[0] for i in ids[1:4])
    assert (row1.emotion_source, row1.role_source, row1.role, row1.codes, row1.reviewed) == (
        "model",
        "human",
        "student",
        "praise",
        1,
    )
    assert (row1.speaker, row1.model_speaker, row1.edited_by) == ("S1", "S2", "anna")
    assert (row2.emotion, row2.emotion_source, row2.model_emotion) == ("sadness", "human", LABELS[2])
    assert (row3.emotion_source, row3.role_source, row3.note, row3.codes) == ("model", "model", "", "")
    win.selection.select_rows([1], win.table)
    key(win, Qt.Key.Key_Backspace)  # back to the model's labels (codes and review stay)
    u = win.workspace.utterance(ids[1])
    assert (u.human_role, u.human_speaker, u.human_emotion, u.codes, u.reviewed) == (
        None,
        None,
        None,
        ("praise",),
        True,
    )


def test_context_menu_and_annotate_menu(win) -> None:
    c = win.annotation
    win.selection.select_rows([3, 4], win.table)
    menu = c.menus.context_menu(win.table.view.mapToGlobal(win.table.view.rect().center()))
    emotion = next(a.menu() for a in menu.actions() if a.menu() and a.text() == "&Emotion")
    texts = [a.text() for a in emotion.actions() if not a.isSeparator()]
    assert texts[:7] == [f"&{k}  {n}" for k, n in enumerate(LABELS, 1)]
    next(a for a in emotion.actions() if a.text().endswith("happiness")).trigger()
    assert [u.human_emotion for u in utts(win)[3:5]] == ["happiness"] * 2
    speaker = next(a.menu() for a in menu.actions() if a.menu() and a.text() == "Spea&ker")
    next(a for a in speaker.actions() if a.text().startswith("S2")).trigger()
    assert [u.final_speaker for u in utts(win)[3:5]] == ["S2", "S2"]
    menu.close()
    annotate = win.menus["annotate"]
    annotate.aboutToShow.emit()
    names = [a.text() for a in annotate.actions()]
    assert "Next &Unreviewed" in names and "S&plit at Cursor" in names
    shortcuts = {a.objectName(): a.shortcut().toString() for a in c.menus.actions.values()}
    assert (
        shortcuts["annotate_emotion_1"] == "1"
        and shortcuts["annotate_split"] == "X"
        and shortcuts["annotate_jump"] == "Ctrl+G"
    )
    # the window's shortcut list includes ours
    dialog = win.show_shortcuts()
    listed = [dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())]
    assert "Next Unreviewed" in listed and "Reviewed On/Off" in listed
    dialog.close()


def test_note_is_saved_at_every_key_stroke(win, qtbot) -> None:
    c = win.annotation
    win.selection.select_rows([2], win.table)
    uid = win.selection.ids[0]
    key(win, Qt.Key.Key_E)
    qtbot.waitUntil(lambda: c.panel.note.hasFocus(), timeout=20000)
    QTest.keyClicks(c.panel.note, "asks why")
    assert win.workspace.utterance(uid).note == "asks why"
    assert win.undo_stack.count() == 1 and win.undo_stack.text(0) == "Note"
    QTest.keyClick(c.panel.note, Qt.Key.Key_Escape)
    assert win.table.view.hasFocus()
    key(win, Qt.Key.Key_1)  # keys work again in the table; the note field kept its text
    assert win.workspace.utterance(uid).human_emotion == "anger" and c.panel.note.toPlainText() == "asks why"
    from esergui.app.annotation.delegates import annotation_tooltip

    assert "Note: asks why" in annotation_tooltip(c.record(2))
    win.undo_stack.undo()
    win.undo_stack.undo()
    assert win.workspace.utterance(uid).note == "" and c.panel.note.toPlainText() == ""


def test_navigation_follows_the_table_and_finds_work(win) -> None:
    c = win.annotation
    conf = [u.confidence for u in utts(win)]
    win.selection.select_rows([0], win.table)
    key(win, Qt.Key.Key_Down)
    key(win, Qt.Key.Key_Down)
    assert win.selection.rows() == [2]
    key(win, Qt.Key.Key_Up)
    assert win.selection.rows() == [1]
    # low confidence: below 50 % in time order, wrapping around
    low = [i for i, p in enumerate(conf) if p < 0.5]
    win.selection.select_rows([0], win.table)
    seen = []
    for _ in range(len(low)):
        key(win, Qt.Key.Key_N)
        seen.append(win.selection.rows()[0])
    assert seen == low
    key(win, Qt.Key.Key_N, MOD.ShiftModifier)
    assert win.selection.rows() == [low[-2]]
    # unreviewed: mark 1 and 2 reviewed, U from 0 skips them
    win.selection.select_rows([1, 2], win.table)
    key(win, Qt.Key.Key_R)
    win.selection.select_rows([0], win.table)
    key(win, Qt.Key.Key_U)
    assert win.selection.rows() == [3]
    # the table's filter and sort order are respected: only students, by start
    win.table.role_box.setCurrentIndex(win.table.role_box.findData("student"))
    win.selection.select_rows([1], win.table)
    key(win, Qt.Key.Key_Down)
    assert str(win.lesson_data.role[win.selection.rows()[0]]) == "student" and win.selection.rows()[0] > 1
    # jump to a time
    assert parse_time("0:20.5") == 20.5 and parse_time("1:02:03") == 3723 and parse_time("75 s") == 75
    with pytest.raises(ValueError):
        parse_time("soon")
    assert c.jump_to_time(20.0)
    row = win.selection.rows()[0]
    assert win.lesson_data.end[row] > 20.0 and (row == 0 or win.lesson_data.end[row - 1] <= 20.0)
    assert abs(win.detail.cursor_time - 20.0) < 1e-6


def test_boundary_keys_split_merge_delete_create(win) -> None:
    c = win.annotation
    refused: list[str] = []
    c.refused.connect(refused.append)
    before = [(u.id, u.start_s, u.end_s) for u in utts(win)]
    win.selection.select_rows([0], win.table)
    a, b = before[0][1], before[0][2]
    win.detail.set_cursor((a + b) / 2)
    key(win, Qt.Key.Key_X)
    got = utts(win)
    assert (
        len(got) == 11 and got[0].end_s == pytest.approx((a + b) / 2) and got[1].start_s == pytest.approx((a + b) / 2)
    )
    assert win.selection.ids == [got[1].id]  # the second part
    key(win, Qt.Key.Key_Up)
    key(win, Qt.Key.Key_M)  # merge with the next: back to one utterance, the first id
    got = utts(win)
    assert len(got) == 10 and (got[0].id, got[0].start_s, got[0].end_s) == before[0]
    assert got[0].boundary_source == "human"
    # 5 + 6 would swallow utterance 7 (inside 6): the store refuses, nothing changes, a message says why
    win.selection.select_rows([5], win.table)
    n = win.undo_stack.count()
    key(win, Qt.Key.Key_M)
    assert (
        refused
        and "starts inside the selection" in refused[-1]
        and win.undo_stack.count() == n
        and len(utts(win)) == 10
    )
    win.selection.select_rows([0], win.table)
    key(win, Qt.Key.Key_Delete)
    assert len(utts(win)) == 9 and win.workspace.utterance(before[0][0]).deleted
    assert win.selection.ids == [before[1][0]]  # the next one is selected
    c.mark_range(1.0, 2.5)  # silence before the first speech at 6.7 s
    key(win, Qt.Key.Key_Insert)
    got = utts(win)
    assert (got[0].start_s, got[0].end_s, got[0].boundary_source) == (1.0, 2.5, "human")
    assert c.marked_range is None
    for _ in range(4):
        win.undo_stack.undo()
    assert [(u.id, u.start_s, u.end_s) for u in utts(win)] == before
    assert all(u.boundary_source == "model" for u in utts(win))


def test_code_list_is_configurable(win) -> None:
    c = win.annotation
    assert [x.name for x in c.codes] == [x.name for x in FIAC_CODES]
    assert validate([Code("wait time", "T")], RESERVED_KEYS).startswith("Key T")
    assert validate([Code("a", "K"), Code("b", "K")], RESERVED_KEYS) == "Key K is given to two codes."
    dialog = c.edit_codes()
    dialog.table.setRowCount(0)
    dialog._append(Code("wait time", "K", "teacher waits for an answer"))
    dialog.accept()
    assert [x.name for x in c.codes] == ["wait time"]
    assert win.workspace.get_setting("annotation_codes")[0]["key"] == "K"
    assert list(c.panel.code_checks) == ["wait time"]
    win.selection.select_rows([0], win.table)
    key(win, Qt.Key.Key_K)
    key(win, Qt.Key.Key_Q)  # no longer a code key
    assert utts(win)[0].codes == ("wait time",)


def shown_columns(data) -> dict:
    cols = {k: getattr(data, k).tolist() for k in ("ids", "start", "end", "label", "speaker", "role", "annotated")}
    cols["confidence"] = [None if c != c else round(float(c), 6) for c in data.confidence]
    cols["records"] = list(data.extra["records"])
    return cols


def test_label_edits_patch_the_shown_rows_exactly_as_a_reload_shows_them(win) -> None:
    """Emotion, role and speaker keys (and their undo) update only the edited rows in place;
    what the window then shows equals a full re-read of the lesson from the store."""
    from esergui.review.adapters import load_lesson_data, relabelled

    ws, lid = win.workspace, win.lid
    win.selection.select_rows([1, 3], win.table)
    before = win.lesson_data
    for k in (Qt.Key.Key_5, Qt.Key.Key_T, Qt.Key.Key_Backspace, Qt.Key.Key_2):
        key(win, k)
        assert win.lesson_data is not before  # a new object: views holding the old one keep theirs
        assert win.lesson_data.extra["records"][0] is before.extra["records"][0]  # not re-read from the store
        assert shown_columns(win.lesson_data) == shown_columns(load_lesson_data(ws, lid, win.lesson_data.source))
    row1 = win.lesson_data.ids.tolist().index(win.selection.ids[0])
    assert win.lesson_data.label_name(row1) == "boredom" and bool(win.lesson_data.annotated[row1])
    win.undo_stack.undo()
    assert shown_columns(win.lesson_data) == shown_columns(load_lesson_data(ws, lid, win.lesson_data.source))
    assert win.selection.rows() == [1, 3]
    # what cannot be patched is refused (the window then re-reads the lesson)
    data = win.lesson_data
    rec = data.extra["records"][1]
    assert relabelled(data, [dataclasses.replace(rec, end_s=rec.end_s + 0.5)]) is None  # moved
    assert relabelled(data, [dataclasses.replace(rec, human_emotion="awe")]) is None  # label not shown
    assert relabelled(data, [dataclasses.replace(rec, id=10**9)]) is None  # not shown
    patched, rows = relabelled(data, [dataclasses.replace(rec, human_emotion="fear")])
    assert rows.tolist() == [1] and patched.label_name(1) == "fear" and data.label_name(1) != "fear"
