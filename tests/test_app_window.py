"""The real main window, driven as a user would (offscreen): open a workspace, add a lesson of
real speech, analyse it to the end, select an utterance in the table and see the timelines
follow, export CSVs and check them, cancel a running analysis, add a corrupt file and see the
error dialog, and the dialogs, settings and layout that must survive a restart."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

pytestmark = pytest.mark.qt

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from esergui.app.shell.demo import open_demo  # noqa: E402
from esergui.app.shell.main import configure_app  # noqa: E402
from esergui.app.shell.window import MainWindow  # noqa: E402
from esergui.formats.tables import UTTERANCE_COLUMNS  # noqa: E402
from esergui.lesson import LessonStatus  # noqa: E402
from esergui.paths import DEMO_LESSON  # noqa: E402
from esergui.pipeline import STAGES  # noqa: E402
from esergui.progress import CancelToken  # noqa: E402
from esergui.review import jobs  # noqa: E402
from esergui.workspace import Workspace  # noqa: E402
from tests.app_support import wait_until  # noqa: E402
from tests.recording_support import sound_server  # noqa: E402, F401 (fixture: a private PulseAudio server)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def lesson_files(tmp_path_factory, emodb):
    """The bundled demo lesson (3 min 21 s; a 40-second synthetic lesson of real EmoDB speech
    when the demo is not installed), and a 3-minute synthetic lesson for the cancel test."""
    from bench.synth import build_lesson

    folder = tmp_path_factory.mktemp("lessons")
    if DEMO_LESSON.is_file():
        first = DEMO_LESSON
    else:
        short = build_lesson(seed=5, duration_s=40.0, noise="room", snr_db=25.0)
        first = folder / "demo_lesson.flac"
        sf.write(first, short.audio, short.sr, subtype="PCM_16")
    long = build_lesson(seed=6, duration_s=180.0, noise="room", snr_db=25.0)
    sf.write(folder / "long lesson.wav", long.audio, long.sr, subtype="PCM_16")
    return first, folder / "long lesson.wav"


@pytest.fixture(scope="module")
def analysed_workspace(lesson_files, tmp_path_factory) -> Path:
    """A workspace folder holding the first lesson, analysed once by the app's own jobs (no
    window); each test opens a copy of it, so no test depends on another or on their order."""
    folder = tmp_path_factory.mktemp("template") / "workspace"
    ws = Workspace.open(folder)
    try:
        cancel = CancelToken()
        ids, problems = jobs.add_lessons_job(ws, [str(lesson_files[0])])(lambda *a: None, cancel, lambda _: None)
        assert ids and not problems, problems
        result = jobs.analysis_job(ws, ids[0], "cpu")(lambda *a: None, cancel, lambda _: None)
        assert result["skipped"] == {}, result["skipped"]  # every stage ran: a missing model fails here
    finally:
        ws.close()
    return folder


def open_window(tmp_path: Path, workspace: Path | None = None) -> MainWindow:
    """A main window with its own settings file, showing ``workspace`` (a fresh one if None)
    and its last lesson with the audio attached."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings)
    win.resize(1500, 950)
    win.show()
    folder = tmp_path / "workspace"
    if workspace is not None:
        shutil.copytree(workspace, folder)
    assert win.open_workspace(folder)
    lessons = win.workspace.lessons()
    if lessons:
        win.open_lesson(int(lessons[-1].id))
        wait_until(lambda: win.lesson_data.source is not None, timeout=30)
    return win


@pytest.fixture
def empty_studio(qapp, tmp_path):
    """The main window on a fresh, empty workspace."""
    configure_app(qapp)
    win = open_window(tmp_path)
    yield win
    win.close()


@pytest.fixture
def studio(qapp, tmp_path, analysed_workspace):
    """The main window on its own copy of the analysed workspace, the lesson shown."""
    configure_app(qapp)
    win = open_window(tmp_path, analysed_workspace)
    yield win
    win.close()


def close_error_dialog(win: MainWindow) -> str:
    box = win.errors.last_box
    assert box is not None and box.isVisible()
    text = box.text()
    box.done(QMessageBox.StandardButton.Ok)
    QApplication.processEvents()
    return text


def test_add_and_analyse_a_lesson(empty_studio, lesson_files):
    win = empty_studio
    short, _ = lesson_files
    outcomes, progress, shown = [], [], []
    win.analysisFinished.connect(lambda lid, outcome: outcomes.append((lid, outcome)))
    win.queue.jobProgress.connect(lambda key, stage, f, m: progress.append((stage, f)))
    win.lessonLoaded.connect(lambda data: shown.append((len(data), bool(data.extra.get("partial")))))
    win.add_files([str(short)])
    wait_until(lambda: outcomes, timeout=150)
    lesson_id, outcome = outcomes[0]
    assert outcome == "done", win.errors.history
    ws = win.workspace
    assert ws.lesson(lesson_id).status is LessonStatus.ANALYSED
    # every stage that ran reported progress up to 1 on its own bar
    stages = {s for s, _ in progress}
    assert stages == set(STAGES)  # a stage that did not run (e.g. no model) fails here
    for stage in stages:
        assert win.analysis.bars[stage].value() == 1000
    # the lesson is shown: library, table, timelines, summary, audio
    assert win.current_id == lesson_id
    utts = ws.utterances(lesson_id)
    assert len(utts) >= 5
    assert win.table.model.rowCount() == len(utts) == len(win.lesson_data)
    assert win.library.model.lessons[0].status is LessonStatus.ANALYSED
    assert "analysed" in win.library.model.status_text(win.library.model.lessons[0])
    assert win.summary.values["utterances"].text() == str(len(utts))
    assert win.lesson_data.source is not None
    wait_until(lambda: win.detail.envelope is not None, timeout=20)
    assert win.central.currentWidget() is win.splitter
    assert ws.latest_run(lesson_id).labels  # the emotion model ran
    assert set(win.lesson_data.labels) >= set(ws.latest_run(lesson_id).labels)
    assert (win.lesson_data.label >= 0).all()
    # results appeared while the model ran: partial views, growing, before the final one
    partial = [n for n, is_partial in shown if is_partial]
    assert partial and partial == sorted(partial) and partial[-1] <= len(utts)
    assert shown[-1] == (len(utts), False)
    wait_until(lambda: not win.status.device_label.text().endswith("detecting…"), timeout=60)


def test_table_selection_moves_the_timelines(studio, qtbot):
    win = studio
    data = win.lesson_data
    win.detail.set_range(0, 5)  # a view that does not show the last utterance
    row = len(data) - 1
    assert data.start[row] > 5
    proxy_row = win.table.proxy.mapFromSource(win.table.model.index(row, 0)).row()
    win.table.view.selectRow(proxy_row)
    assert win.selection.rows() == [row]
    t0, t1 = win.detail.visible_range()
    assert t0 <= data.start[row] and data.end[row] <= t1 and t1 - t0 == pytest.approx(5.0, abs=0.01)
    assert list(win.detail.blocks._selected) == [row] and list(win.overview.blocks._selected) == [row]
    ov0, ov1 = win.overview.region.getRegion()
    assert ov0 == pytest.approx(t0, abs=0.01) and ov1 == pytest.approx(t1, abs=0.01)
    # and the other way: a click on a block selects the table row
    lane = win.overview.lanes[1]
    x = float((data.start[1] + data.end[1]) / 2)
    assert win.overview.blocks.row_at(x, lane + 0.5) == 1
    win.overview.blocks.clicked.emit(1)
    assert win.table.selected_rows() == [1]
    # lanes per speaker keep the selection
    win.action("lanes_by_speaker").trigger()
    assert win.overview.lane_mode == "speaker" and list(win.detail.blocks._selected) == [1]
    win.action("lanes_by_speaker").trigger()
    assert win.overview.lane_mode == "role"


def test_export_csv_matches_the_workspace(studio, tmp_path):
    win = studio
    lesson_id = win.current_id
    files = win.export_csv(str(tmp_path), [lesson_id])
    names = sorted(p.name for p in files)
    assert names == ["demo_lesson_bins.csv", "demo_lesson_summary.csv", "demo_lesson_utterances.csv"]
    table = pd.read_csv(tmp_path / "demo_lesson_utterances.csv")
    assert tuple(table.columns[: len(UTTERANCE_COLUMNS)]) == UTTERANCE_COLUMNS
    utts = win.workspace.utterances(lesson_id)
    assert len(table) == len(utts)
    assert np.allclose(table["start_s"], [u.start_s for u in utts], atol=1e-3)
    assert list(table["role"].fillna("")) == [u.final_role or "" for u in utts]
    summary = pd.read_csv(tmp_path / "demo_lesson_summary.csv")
    assert len(summary) == 1 and summary.loc[0, "utterances"] == len(utts)
    one = win.export_summary(str(tmp_path / "all.csv"), [lesson_id])
    assert pd.read_csv(one).loc[0, "lesson"] == "demo_lesson"
    png = win.export_png(str(tmp_path / "figure.png"))
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert image.width() >= 2 * win.splitter.width() and image.height() > 2 * win.splitter.height()


def test_cancel_a_running_analysis(studio, lesson_files):
    win = studio
    _, long = lesson_files
    outcomes, started = [], []
    win.analysisFinished.connect(lambda lid, outcome: outcomes.append((lid, outcome)))
    win.queue.jobProgress.connect(
        lambda key, stage, f, m: started.append(stage) if stage == "segment" and f > 0 else None
    )
    win.add_files([str(long)], analyse=True, open_first=False)
    wait_until(lambda: started, timeout=60)
    t0 = time.monotonic()
    win.action("cancel").trigger()
    wait_until(lambda: outcomes, timeout=10)
    assert time.monotonic() - t0 < 1.0
    lesson_id, outcome = outcomes[-1]
    assert outcome == "cancelled"
    assert win.workspace.lesson(lesson_id).status is LessonStatus.NOT_ANALYSED
    assert win.workspace.utterances(lesson_id) == []
    assert "Cancelled" in win.analysis.title.text()
    wait_until(lambda: not win.queue.is_busy(), timeout=10)


def test_corrupt_file_shows_the_error_dialog(empty_studio, tmp_path):
    win = empty_studio
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + bytes(range(256)) * 4)
    n_before = len(win.workspace.lessons())
    errors = []
    win.errors.errorShown.connect(lambda title, reason: errors.append((title, reason)))
    win.add_files([str(bad)])
    wait_until(lambda: errors, timeout=20)
    title, reason = errors[0]
    lines = reason.splitlines()  # a heading, then one line per file that was not added, with its reason
    assert title == "Cannot add lesson" and len(lines) == 2 and "broken.wav" in lines[1] and "corrupt" in lines[1]
    assert close_error_dialog(win) == reason
    assert len(win.workspace.lessons()) == n_before


def test_drop_rename_remove_and_a_failing_analysis(studio, lesson_files, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    win = studio
    demo, _ = lesson_files
    copy = tmp_path / "moved away.wav"
    sf.write(copy, sf.read(demo, dtype="float32")[0][: 16000 * 5], 16000)
    before = {int(lesson.id) for lesson in win.workspace.lessons()}
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(copy))])
    settings = win.settings
    settings.setValue("analysis/auto", "false")
    try:
        drop = QDropEvent(
            QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
        )
        win.dropEvent(drop)
        wait_until(lambda: len(win.workspace.lessons()) == len(before) + 1, timeout=20)
    finally:
        settings.setValue("analysis/auto", "true")
    [new_id] = {int(lesson.id) for lesson in win.workspace.lessons()} - before
    wait_until(lambda: win.current_id == new_id, timeout=10)
    # rename through the library's editor (what F2 opens)
    row = [int(lesson.id) for lesson in win.library.model.lessons].index(new_id)
    assert win.library.model.setData(win.library.model.index(row, 0), "Renamed lesson")
    assert win.workspace.lesson(new_id).name == "Renamed lesson"
    assert win.lesson_data.name == "Renamed lesson"
    # the audio disappears: the analysis fails with a one-line reason in a dialog
    shutil.move(copy, tmp_path / "elsewhere.bin")
    outcomes, errors = [], []
    win.analysisFinished.connect(lambda lid, outcome: outcomes.append((lid, outcome)))
    win.errors.errorShown.connect(lambda title, reason: errors.append((title, reason)))
    win.analyse([new_id])
    wait_until(lambda: outcomes, timeout=60)
    assert outcomes[-1] == (new_id, "failed")
    title, reason = errors[-1]
    assert title == "Analysis failed" and "Renamed lesson" in reason and "\n" not in reason
    assert close_error_dialog(win) == reason
    win.remove_lessons([new_id], confirm=False)
    assert new_id not in {int(lesson.id) for lesson in win.workspace.lessons()}
    assert win.current_id is None and win.central.currentWidget() is win.placeholder


def test_record_a_lesson_into_the_workspace(studio, sound_server, lesson_files):
    """File > Record a Lesson: record the private sound server's sink while the demo plays into
    it; Stop makes the recording a lesson of the workspace."""
    win = studio
    demo, _ = lesson_files
    before = len(win.workspace.lessons())
    win.action("record").trigger()
    panel = win.recorder
    assert panel is not None and win.docks["recording"].isVisible()
    assert panel.output_dir == win.workspace.recordings_dir
    assert panel.select_device("pulse")
    win.settings.setValue("analysis/auto", "false")
    try:
        player = sound_server.play(demo)
        assert panel.start_recording()
        wait_until(
            lambda: panel.recorder is not None and panel.recorder.frames_captured > 72000, timeout=15
        )  # >= 1.5 s at 48 kHz
        panel.stop_recording()
        player.kill()
        player.wait(5)
        wait_until(lambda: len(win.workspace.lessons()) == before + 1, timeout=20)
        lesson = win.workspace.lessons()[-1]
        wait_until(lambda: win.current_id == lesson.id, timeout=20)  # and it is shown
    finally:
        win.settings.setValue("analysis/auto", "true")
    assert win.workspace.audio_file(lesson).parent == win.workspace.recordings_dir
    assert lesson.duration_s and lesson.duration_s > 1.0
    win.remove_lessons([int(lesson.id)], confirm=False)


def test_dialogs_tooltips_and_restart_restores_layout(studio, qtbot):
    win = studio
    shortcuts = win.show_shortcuts()
    keys = {shortcuts.table.item(i, 0).text() for i in range(shortcuts.table.rowCount())}
    assert "Space" in keys and "Ctrl+E" in keys
    shortcuts.close()
    about = win.show_about()
    assert "ESER Studio" in about.text.text() and win.status.device_text in about.text.text()
    about.close()
    for action in win.toolbar.actions():
        assert action.isSeparator() or action.toolTip(), action.text()
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox

    mine = [win.library, win.analysis, win.table, win.summary, win.overview, win.detail, win.placeholder]
    controls = [
        w
        for panel in mine
        for kind in (QAbstractButton, QComboBox, QAbstractSpinBox)
        for w in panel.findChildren(kind)
        if not w.objectName().startswith("qt_")
    ]  # Qt's own parts (a hidden table corner button)
    assert len(controls) >= 10
    for widget in controls + [
        win.library.view,
        win.table.view,
        win.detail.spec_plot,
        win.detail.wave_plot,
        win.overview.view,
    ]:
        assert widget.toolTip(), f"{type(widget).__name__} {getattr(widget, 'text', lambda: '')()} has no tooltip"
    win.set_compute_device("cpu")
    win.playback.set_output_device("pulse")
    win.docks["summary"].hide()
    win.save_settings()
    again = MainWindow(win.settings)
    qtbot.addWidget(again)
    again.show()
    try:
        assert again.compute_device == "cpu" and again.player.device == "pulse"
        assert not again.docks["summary"].isVisible()
        assert str(win.workspace.folder) in again.workspaces.recent_workspaces()
    finally:
        again.shutdown()


def test_demo_lesson_is_added_to_a_demo_workspace(qapp, tmp_path, qtbot):
    assert DEMO_LESSON.is_file(), f"the demo lesson is not installed ({DEMO_LESSON})"
    win = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    try:
        assert open_demo(win, folder=tmp_path / "demo-workspace")
        wait_until(lambda: win.current_id is not None, timeout=30)
        assert win.workspace.lesson(win.current_id).audio_path.endswith(DEMO_LESSON.name)
        assert (
            win.current_id in win.queue.keys() or win.workspace.lesson(win.current_id).status is LessonStatus.ANALYSED
        )
        win.queue.cancel_all()
        wait_until(lambda: not win.queue.is_busy(), timeout=15)
    finally:
        win.shutdown()
