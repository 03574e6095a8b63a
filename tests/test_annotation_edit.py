"""Annotation on the timelines and beyond the keys: dragging edges (snapping to quiet points of
real speech), Shift+drag to create, the speakers panel, re-analysis that keeps every human edit
with the model-vs-human comparison, and the inter-annotator agreement dialog."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from annotation_support import LABELS, main_window, model_output, template_ws, win  # noqa: E402,F401 (fixtures)
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QKeySequence, QMouseEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from esergui.audio import ArrayAudio  # noqa: E402
from esergui.lesson import AnalysisRun, Speaker  # noqa: E402
from esergui.review.snap import frame_energy_db, snap_edge  # noqa: E402

pytestmark = pytest.mark.qt
MOD = Qt.KeyboardModifier


def utts(win):
    return win.workspace.utterances(win.lid)


def test_snap_edge_finds_the_pause_in_real_speech(emodb: Path) -> None:
    import soundfile as sf

    speech, sr = sf.read(emodb / "wav" / "03a01Fa.wav", dtype="float32")
    assert sr == 16000
    rng = np.random.default_rng(0)
    pause = (rng.standard_normal(int(0.6 * sr)) * 1e-4).astype(np.float32)  # a quiet room
    x = np.concatenate([speech, pause, speech])
    src = ArrayAudio(x)
    t_pause = len(speech) / sr
    db = frame_energy_db(x, sr)
    assert (
        db[: len(speech) // 160].max() > db[len(speech) // 160 + 5 : (len(speech) + len(pause)) // 160 - 5].max() + 30
    )
    # an end dropped 80 ms before the pause comes back to where the speech stops
    snapped = snap_edge(src, sr, len(x) / sr, t_pause - 0.08, radius_s=0.15)
    assert t_pause - 0.08 < snapped <= t_pause + 0.02
    # a start dropped 60 ms into the next word moves back into the pause, to its last quiet frame
    nxt = t_pause + 0.6
    snapped = snap_edge(src, sr, len(x) / sr, nxt + 0.06, radius_s=0.15)
    assert nxt - 0.02 <= snapped < nxt + 0.06
    # nothing quiet within reach: unchanged; no audio: unchanged
    assert snap_edge(src, sr, len(x) / sr, 1.0, radius_s=0.0) == 1.0
    assert snap_edge(None, sr, 10.0, 2.5, 0.2) == 2.5


def _to_view(win, plot, t: float, y: float) -> QPoint:
    return win.detail.view.mapFromScene(plot.vb.mapViewToScene(QPointF(t, y)))


def _drag(win, plot, t0: float, t1: float, y: float, mods=MOD.NoModifier) -> None:
    """A real mouse drag on the detail view (press, moves paced above pyqtgraph's rate limit, release)."""
    vp = win.detail.view.viewport()
    p0, p1 = _to_view(win, plot, t0, y), _to_view(win, plot, t1, y)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, mods, p0)
    for k in range(1, 13):
        time.sleep(0.012)
        p = QPoint(int(p0.x() + (p1.x() - p0.x()) * k / 12), p0.y())
        QApplication.sendEvent(
            vp,
            QMouseEvent(
                QEvent.Type.MouseMove,
                QPointF(p),
                QPointF(vp.mapToGlobal(p)),
                Qt.MouseButton.NoButton,
                Qt.MouseButton.LeftButton,
                mods,
            ),
        )
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, mods, p1)


def test_drag_an_edge_on_the_detail_view_snaps_and_undoes(win) -> None:
    c, d = win.annotation, win.detail
    u = utts(win)[8]  # 21.78-28.50, a student's long turn
    win.selection.select_ids([u.id], win.table)
    d.set_range(20.0, 30.0)
    QApplication.processEvents()
    start_line, end_line = c.timeline.edges[0]
    assert start_line.isVisible() and start_line.value() == pytest.approx(u.start_s)
    # find where a drop would snap: scan drop points left of the start for one that moves
    drops = [(t, c.snap(t)) for t in np.arange(u.start_s - 0.6, u.start_s + 0.6, 0.02)]
    moving = [(t, s) for t, s in drops if abs(s - t) > 0.02]
    assert moving, "no quiet point near the start of the turn"
    drop, expected = moving[0]
    _drag(win, d.lanes_plot, u.start_s, drop, 0.5 + (1 if d.lane_mode == "role" else 0))
    got = win.workspace.utterance(u.id)
    assert got.start_s == pytest.approx(expected, abs=0.01) and got.end_s == pytest.approx(u.end_s)
    assert got.boundary_source == "human"
    src = win.lesson_data.source
    i = int(got.start_s * 16000)
    local = frame_energy_db(src.read(i - 8000, i + 8000), 16000)
    here = frame_energy_db(src.read(i - 80, i + 80), 16000)[0]
    assert here <= np.percentile(local, 10) + 6.0  # it sits on a quiet frame
    assert start_line.value() == pytest.approx(got.start_s)  # the handle shows the stored edge
    win.undo_stack.undo()
    back = win.workspace.utterance(u.id)
    assert (back.start_s, back.boundary_source) == (u.start_s, "model")


def test_shift_drag_on_an_empty_lane_creates_an_utterance(win) -> None:
    d = win.detail
    d.set_range(0.0, 10.0)
    QApplication.processEvents()
    names = list(win.lesson_data.roles())
    _drag(win, d.lanes_plot, 1.0, 3.0, names.index("student") + 0.5, MOD.ShiftModifier)
    new = utts(win)[0]
    assert new.start_s == pytest.approx(1.0, abs=0.03) and new.end_s == pytest.approx(3.0, abs=0.03)
    assert (new.human_role, new.boundary_source, new.edited_by) == ("student", "human", "anna")
    assert win.selection.ids == [new.id]
    # a plain drag scrolls, it creates nothing
    n = len(utts(win))
    _drag(win, d.lanes_plot, 4.0, 5.0, 0.5)
    assert len(utts(win)) == n
    win.undo_stack.undo()
    assert utts(win)[0].start_s == pytest.approx(6.69)


def test_speakers_panel_rename_merge_and_teacher(win) -> None:
    c = win.annotation
    panel = c.speakers_panel
    win.docks["speakers"].raise_()
    QApplication.processEvents()
    panel.refresh(force=True)
    # most talk first: the student (12.5 s) talks more than the teacher (11.9 s) in this sample
    assert [panel.table.item(r, 1).text() for r in range(panel.table.rowCount())] == ["S2", "S1"]
    panel.select_labels(["S1"])
    assert panel.rename("Ms Weber")
    assert {s.label: s.name for s in c.speakers()}["S1"] == "Ms Weber"
    assert set(win.lesson_data.speaker) == {"Ms Weber", "S2"}  # the views show the name
    panel.select_labels(["S2"])
    assert panel.set_role("teacher")
    assert {s.role for s in c.speakers()} == {"teacher"} and all(
        u.role_source == "human" for u in utts(win) if u.speaker == "S2"
    )
    win.undo_stack.undo()
    panel.select_labels(["S1", "S2"])
    assert panel.buttons["merge"].isEnabled()
    assert panel.merge()
    assert [s.label for s in c.speakers()] == ["S2"] and {u.final_speaker for u in utts(win)} == {
        "S2"
    }  # more talk keeps
    win.undo_stack.undo()
    assert [s.label for s in c.speakers()] == ["S1", "S2"]
    # give one utterance to S2 from the panel
    win.selection.select_rows([0], win.table)
    panel.select_labels(["S2"])
    assert panel.assign()
    assert utts(win)[0].human_speaker == "S2"


def test_reanalysis_keeps_every_human_edit_and_compares(win, conversation: Path, tmp_path: Path) -> None:
    c = win.annotation
    before = utts(win)
    win.selection.select_rows([0], win.table)
    QTest.keyClick(win.table.view, Qt.Key.Key_5)  # happiness
    QTest.keyClick(win.table.view, Qt.Key.Key_S)  # the teacher's line said by a student
    win.selection.select_rows([2], win.table)
    c.set_note("long explanation")
    QTest.keyClick(win.table.view, Qt.Key.Key_L)  # lecture
    win.detail.set_cursor(9.0)
    QTest.keyClick(win.table.view, Qt.Key.Key_X)  # split 8.32-10.02 at 9.0
    win.selection.select_rows([6], win.table)
    c.set_emotion(LABELS[(6 + 1) % 7])  # the label the new model will also give: no disagreement there
    edited = {u.id: u for u in utts(win) if u.has_human_edit}
    assert win.undo_stack.count() == 6

    # a retrained model: other emotions everywhere, as the pipeline stores it
    ws = win.workspace
    report = ws.store_analysis(
        win.lid,
        AnalysisRun(labels=LABELS, model_name="retrained"),
        model_output(conversation / "sample.rttm", 1),
        [Speaker("S1", "teacher"), Speaker("S2", "student")],
    )
    assert report.kept_human == len(edited)
    win.reload_current_lesson()  # what the window does when an analysis ends
    after = {u.id: u for u in utts(win)}
    for uid, old in edited.items():
        new = after[uid]
        assert (new.human_emotion, new.human_role, new.note, new.codes, new.start_s, new.end_s) == (
            old.human_emotion,
            old.human_role,
            old.note,
            old.codes,
            old.start_s,
            old.end_s,
        )
    assert after[before[0].id].emotion == LABELS[1]  # the model layer is the new model's
    assert win.undo_stack.count() == 0  # old commands named replaced utterances
    assert c.reanalysed_lessons == [win.lid]
    panel = c.compare_panel
    panel.refresh(force=True)
    dis = {(d.utterance_id, d.field): (d.human, d.model) for d in panel.items}
    assert dis[(before[0].id, "emotion")] == ("happiness", LABELS[1])
    assert dis[(before[0].id, "role")] == ("student", "teacher")
    assert not any(uid == before[6].id for uid, _ in dis)
    assert panel.table.rowCount() == len(ws.disagreements(win.lid))
    # take the model's emotion for the first row; undo brings the human label back
    row = next(i for i, d in enumerate(panel.items) if d.field == "emotion" and d.utterance_id == before[0].id)
    panel.table.selectRow(row)
    assert panel.use_model()
    assert ws.utterance(before[0].id).human_emotion is None and ws.utterance(before[0].id).human_role == "student"
    win.undo_stack.undo()
    assert ws.utterance(before[0].id).human_emotion == "happiness"
    # no edits while an analysis is showing partial results
    win.lesson_data.extra["partial"] = True
    n = win.undo_stack.count()
    QTest.keyClick(win.table.view, Qt.Key.Key_1)
    assert win.undo_stack.count() == n and "being analysed" in win.statusBar().currentMessage()


def test_agreement_dialog_against_another_annotators_csv(win, tmp_path: Path) -> None:
    from esergui.app.annotation.agreement_dialog import run_agreement
    from esergui.formats.csvout import write_csv
    from esergui.formats.tables import utterances_frame

    c = win.annotation
    ids = [u.id for u in utts(win)]
    c.set_emotion("anger", ids[:4])
    theirs = [u for u in utts(win)]
    # the other annotator agrees on 0-2, says neutral on 3 and 4
    frame = utterances_frame(theirs, LABELS, "conversation")
    frame.loc[3, "emotion"] = "neutral"
    frame.loc[4, "emotion"] = "neutral"
    path = write_csv(frame, tmp_path / "ben_utterances.csv")
    dialog = run_agreement(c, str(path))
    assert dialog is not None
    emo = dialog.report.fields["emotion"]
    assert emo.n == 10 and emo.observed == pytest.approx(0.8)
    assert (
        dialog.kappa_table.item(0, 0).text() == "emotion" and dialog.kappa_table.item(0, 4).text() == f"{emo.kappa:.3f}"
    )
    assert dialog.dis_table.rowCount() == 2
    assert dialog.dis_table.item(0, 3).text() == "anger" and dialog.dis_table.item(0, 4).text() == "neutral"
    dialog._go(1, 0)
    assert win.selection.ids == [ids[4]]
    out = dialog.save_csv(str(tmp_path / "dis.csv"))
    assert out.read_text().count("\n") == 3
    dialog.close()
    # a file that is not an annotation: a clear error, no dialog
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n")
    assert run_agreement(c, str(bad)) is None
    assert "not an utterances CSV" in win.errors.history[-1][1]
    if win.errors.last_box is not None:
        win.errors.last_box.close()


def test_esc_in_the_note_field_is_not_taken_by_cancel_analysis(win, qtbot) -> None:
    """While an analysis runs, the window-wide Esc (cancel) must leave Esc to a text field."""
    c, cancel = win.annotation, win.actions_["cancel"]
    esc = QKeySequence("Esc")
    assert esc in cancel.shortcuts()  # the table has the focus: Esc cancels
    fired: list[bool] = []

    def on_cancel(*_) -> None:
        fired.append(True)

    cancel.triggered.connect(on_cancel)
    try:
        win.selection.select_rows([2], win.table)
        cancel.setEnabled(True)  # as while an analysis runs
        QTest.keyClick(win.table.view, Qt.Key.Key_E)  # E: edit the note
        qtbot.waitUntil(lambda: c.panel.note.hasFocus(), timeout=20000)
        assert cancel.shortcuts() == []
        QTest.keyClick(c.panel.note, Qt.Key.Key_Escape)
        QApplication.processEvents()
        assert not fired
        assert win.table.view.hasFocus()  # the note's own Esc: back to the table
        assert esc in cancel.shortcuts()
    finally:
        cancel.triggered.disconnect(on_cancel)
        cancel.setEnabled(win.queue.is_busy())


def test_a_label_edit_updates_rows_in_place_and_the_summary_soon_after(win, qtbot) -> None:
    """A label edit keeps the same utterances: no model reset (scroll and selection stay), the
    row shows the new label at once, the summary follows once the coalescing timer fires."""
    resets: list[bool] = []

    def on_reset() -> None:
        resets.append(True)

    before = dict(win.summary.row)
    win.table.model.modelReset.connect(on_reset)
    try:
        win.selection.select_rows([2], win.table)
        uid = win.selection.ids[0]
        k = 0 if win.lesson_data.label[2] != 0 else 1
        QTest.keyClick(win.table.view, Qt.Key(Qt.Key.Key_1.value + k))
        assert win.workspace.utterance(uid).human_emotion == win.lesson_data.labels[k]
        assert win.lesson_data.label[win.selection.row_of(uid)] == k
        assert win.table.model.data_ is win.lesson_data and not resets
        assert win.selection.ids == [uid]
        qtbot.waitUntil(lambda: dict(win.summary.row) != before, timeout=5000)
        win.undo_stack.undo()
        assert win.lesson_data.label[win.selection.row_of(uid)] != k and not resets
    finally:
        win.table.model.modelReset.disconnect(on_reset)
