"""Reviewing a lesson (issue 20): a window that fits a 1366x768 laptop, the Summary in front with
a legend, readable lesson names opened by one click, and "uncertain" shown as such (hatched in
the timelines, named in the table, counted in the summary), an arousal curve in the overview.

A workspace lesson of real EmoDB speech with stored model results (probabilities, some below
the confidence threshold) stands in for an analysis, so no model runs here."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytestmark = pytest.mark.qt

from PySide6.QtCore import QPointF, QRect, QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from esergui.app.common.uncertain import uncertain_rows  # noqa: E402
from esergui.app.library.lessons import LessonLibrary  # noqa: E402
from esergui.app.recording.mic_check import friendly_name  # noqa: E402
from esergui.app.recording.panel import RecordingPanel  # noqa: E402
from esergui.app.retrain.page_results import TOO_FEW, figure, measured  # noqa: E402
from esergui.app.shell.fit import FRAME, available_geometry, default_geometry, fit_window, fitted  # noqa: E402
from esergui.app.shell.main import configure_app  # noqa: E402
from esergui.app.shell.window import MainWindow  # noqa: E402
from esergui.app.timeline.overview import block_arrays, utterance_tooltip  # noqa: E402
from esergui.app.timeline.table_model import COL  # noqa: E402
from esergui.app.timeline.timeaxis import TimeAxisItem, arousal_curve, lane_layout, round_tick_steps  # noqa: E402
from esergui.audio.stretch import stretch  # noqa: E402
from esergui.lesson import CONFIDENCE_THRESHOLD, UNCERTAIN, AnalysisRun, Lesson, Speaker, Utterance  # noqa: E402
from esergui.recording import InputDevice  # noqa: E402
from esergui.retrain_evidence import assess  # noqa: E402
from esergui.workspace import Workspace  # noqa: E402
from tests.app_support import CaptureStream, wait_until  # noqa: E402
from tests.recording_support import sound_server  # noqa: E402, F401, F811 (fixture: a private PulseAudio server)

LABELS = ("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral")
CLIPS = ["03a01Fa.wav", "03a01Nc.wav", "08a01Ab.wav", "09a01Ea.wav", "10a01Ac.wav", "11a01Wc.wav"]
# (label index, top probability, role): rows 1 and 5 are below the threshold
TRUTH = [
    (4, 0.9, "teacher"),
    (6, 0.3, "student"),
    (0, 0.7, "teacher"),
    (3, 0.55, "student"),
    (0, 0.95, "teacher"),
    (5, 0.4, "student"),
]
LAPTOP = QRect(0, 0, 1366, 728)  # 1366x768 less a 40-pixel task bar
DESKTOP = QRect(0, 0, 1920, 1040)


def probabilities(k: int, top: float) -> dict[str, float]:
    rest = (1.0 - top) / (len(LABELS) - 1)
    return {lab: (top if i == k else rest) for i, lab in enumerate(LABELS)}


@pytest.fixture(scope="module")
def review_workspace(emodb, tmp_path_factory) -> Path:
    """A workspace with one lesson of six real EmoDB clips (1 s of silence between them) whose
    model results are stored as an analysis would store them."""
    folder = tmp_path_factory.mktemp("review")
    parts, spans, t = [np.zeros(16000, np.float32)], [], 1.0
    for name in CLIPS:
        x, sr = sf.read(emodb / "wav" / name, dtype="float32")
        parts += [x, np.zeros(16000, np.float32)]
        spans.append((t, t + len(x) / sr))
        t += len(x) / sr + 1.0
    ws = Workspace.open(folder / "workspace")
    audio = folder / "workspace" / "a rather long lesson name that the list must elide — maths, 4th period.wav"
    sf.write(audio, np.concatenate(parts), 16000, subtype="PCM_16")  # inside: each copy has its own
    try:
        lesson = ws.add_lesson(audio, duration_s=t)
        utts = [
            Utterance(
                a,
                b,
                speaker="T" if role == "teacher" else "S1",
                role=role,
                emotion=LABELS[k],
                confidence=c,
                probabilities=probabilities(k, c),
            )
            for (a, b), (k, c, role) in zip(spans, TRUTH)
        ]
        ws.store_analysis(
            int(lesson.id),
            AnalysisRun(model_name="test", labels=LABELS),
            utts,
            [Speaker("T", role="teacher"), Speaker("S1", role="student")],
            duration_s=t,
        )
    finally:
        ws.close()
    return folder / "workspace"


@pytest.fixture
def studio(qapp, tmp_path, review_workspace):
    """The main window on a copy of the review workspace, its lesson open with audio."""
    configure_app(qapp)
    shutil.copytree(review_workspace, tmp_path / "workspace")
    win = open_studio(tmp_path)
    yield win
    win.close()


def open_studio(tmp_path: Path) -> MainWindow:
    """A main window with the settings and workspace under ``tmp_path``, its lesson open with
    audio; sound goes to a capture stream (what a sound card would play)."""
    win = MainWindow(
        QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat), stream_factory=CaptureStream
    )
    win.show()
    assert win.open_workspace(tmp_path / "workspace")
    win.open_lesson(int(win.workspace.lessons()[0].id))
    wait_until(lambda: win.lesson_data.source is not None)
    return win


# ------------------------------------------------------------------------------- 1. fit
@pytest.mark.parametrize("available", [LAPTOP, DESKTOP], ids=["1366x768", "1920x1080"])
def test_default_and_restored_geometry_fit_the_screen(available):
    first = default_geometry(available)
    frame = first.adjusted(
        -FRAME.width() // 2, -(FRAME.height() - FRAME.width() // 2), FRAME.width() // 2, FRAME.width() // 2
    )
    assert available.contains(frame), (first, available)
    if available == DESKTOP:
        assert (first.width(), first.height()) == (1500, 940)  # the preferred size where it fits
    grown = fitted(QRect(200, 150, 1650, 1010), available)  # the size the Record panel left behind
    assert available.contains(grown) and grown.width() <= available.width() and grown.height() <= available.height()
    off = fitted(QRect(-900, 2000, 800, 600), available)  # saved on a second monitor that is gone
    assert available.contains(off) and (off.width(), off.height()) == (800, 600)


def test_window_restored_from_a_bigger_screen_fits_the_laptop(qapp, tmp_path):
    configure_app(qapp)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings)
    win.setGeometry(100, 80, 1700, 1100)
    win.save_settings()
    win.close()
    again = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    try:
        again.show()
        geometry = fit_window(again, LAPTOP)
        assert LAPTOP.contains(geometry) and again.height() <= LAPTOP.height() - FRAME.height() + 1
        assert again.minimumSizeHint().width() <= 1366 and again.minimumSizeHint().height() <= 768 - FRAME.height()
    finally:
        again.close()


def test_first_start_fits_the_screen_it_opens_on(qapp, tmp_path):
    """The first-run window, docks and all, is no taller than the screen's available area
    (the annotation docks used to grow it to 867 pixels on a 768-pixel screen)."""
    configure_app(qapp)
    win = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    try:
        win.show()
        QApplication.processEvents()
        area = available_geometry(win)
        assert win.height() <= area.height() - FRAME.height()
        assert win.width() <= max(area.width() - FRAME.width(), win.minimumSizeHint().width())
    finally:
        win.close()


def test_lesson_names_elide_in_the_middle_and_one_click_opens(qtbot):
    library = LessonLibrary()
    qtbot.addWidget(library)
    names = ["demo_lesson_maths_4th_period_week_1", "demo_lesson_maths_4th_period_week_2"]
    library.set_lessons(
        [Lesson(name=n, audio_path=f"/audio/{n}.wav", duration_s=60, id=i + 1) for i, n in enumerate(names)]
    )
    library.resize(330, 200)
    library.show()
    assert library.view.textElideMode() == Qt.TextElideMode.ElideMiddle
    tip = library.proxy.index(1, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert names[1] in tip and "Click to open" in tip
    rect = library.view.visualRect(library.proxy.index(1, 0))
    with qtbot.waitSignal(library.lessonOpened, timeout=2000) as opened:
        qtbot.mouseClick(library.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [int(library.model.lessons[library.proxy.mapToSource(library.proxy.index(1, 0)).row()].id)]


def test_summary_in_front_with_a_legend_after_analysis(studio):
    win = studio

    def in_front() -> bool:  # a dock behind another tab is moved off the window, not hidden
        QApplication.processEvents()
        return not win.summary.visibleRegion().isEmpty()

    assert in_front(), "the Summary is the front tab at first start"
    win.docks["annotation"].raise_()
    wait_until(lambda: not in_front())
    win.queue.jobSucceeded.emit(win.current_id, {"skipped": {}})  # what the queue says when an analysis ends
    wait_until(in_front)
    legend = win.summary.legend.text()
    for name in (*LABELS, UNCERTAIN):
        assert name in legend


# ------------------------------------------------------------------------ 2. uncertain
def test_uncertain_utterances_show_and_count_as_uncertain(studio, qtbot):
    win = studio
    data = win.lesson_data
    unsure = uncertain_rows(data)
    assert unsure.tolist() == [c < CONFIDENCE_THRESHOLD for _, c, _ in TRUTH]
    assert win.annotation.low_confidence == CONFIDENCE_THRESHOLD
    # the timelines: the uncertain rows share one colour, drawn hatched
    arrays = block_arrays(data, np.zeros(len(data), int))
    assert set(arrays["colour_idx"][unsure]) == {arrays["hatched"]}
    assert arrays["hatched"] not in set(arrays["colour_idx"][~unsure])
    row = int(np.flatnonzero(unsure)[0])
    tip = utterance_tooltip(data, row)
    assert UNCERTAIN in tip and "neutral 30 %" in tip and f"{CONFIDENCE_THRESHOLD:.0%}".replace("%", " %") in tip
    # the table names it, keeps the model's guess in brackets and lists the probabilities on hover
    model = win.table.model
    assert model.index(row, COL["Emotion"]).data() == f"{UNCERTAIN} (neutral?)"
    assert "neutral 30 %" in model.index(row, COL["Emotion"]).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, COL["Emotion"]).data() == "happiness"
    # the summary counts its speech time as uncertain, not as its class
    shares = win.summary.row
    durations = data.end - data.start
    expected = 100 * durations[unsure].sum() / durations.sum()
    assert shares[f"emotion_{UNCERTAIN}_pct"] == pytest.approx(expected, abs=0.01)
    assert win.summary.values[f"emotion_{UNCERTAIN}_pct"].text() == f"{expected:.0f} %"
    # the detail view draws the uncertain block with a hatch: two shades inside it
    win.detail.set_range(float(data.start[row]) - 0.5, float(data.end[row]) + 0.5)
    QApplication.processEvents()
    image = win.detail.view.grab().toImage()
    lane = int(lane_layout(data, win.detail.lane_mode)[0][row])
    vb = win.detail.lanes_plot.vb
    centre = win.detail.view.mapFromScene(vb.mapViewToScene(QPointF((data.start[row] + data.end[row]) / 2, lane + 0.5)))
    shades = {image.pixelColor(centre.x() + dx, centre.y() + dy).name() for dx in range(-8, 9) for dy in range(-5, 6)}
    assert len(shades) >= 2, shades


def test_overview_arousal_curve(studio):
    win = studio
    t, arousal = arousal_curve(win.lesson_data)
    assert np.isfinite(arousal).any() and np.nanmax(np.abs(arousal)) <= 1.0
    assert win.overview.curve_plot.getAxis("right").labelText == "arousal"


# ------------------------------------------------------------------------ 3. navigation
def test_ticks_fall_on_round_times():
    assert round_tick_steps(201, 800) == (30.0, 15.0)  # a 3:21 lesson: 0:30, 1:00, 1:30 ...
    assert round_tick_steps(3600, 1200)[0] == 300.0  # an hour: 5:00, 10:00 ...
    assert round_tick_steps(2.0, 1000)[0] == 0.2
    axis = TimeAxisItem()
    assert [v % 30 for v in axis.tickValues(0, 201, 800)[0][1]] == [0] * 7


def click_at(win: MainWindow, t: float, lane: float) -> None:
    vb = win.detail.lanes_plot.vb
    pos = win.detail.view.mapFromScene(vb.mapViewToScene(QPointF(t, lane)))
    QTest.mouseClick(win.detail.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    QApplication.processEvents()


def test_click_inside_a_block_then_x_splits_where_clicked(studio):
    win = studio
    data = win.lesson_data
    row = 2
    win.detail.set_range(float(data.start[row]) - 0.3, float(data.end[row]) + 0.3)
    QApplication.processEvents()
    lane = int(lane_layout(data, win.detail.lane_mode)[0][row])
    t = float(data.start[row] + 0.6 * (data.end[row] - data.start[row]))
    click_at(win, t, lane + 0.5)
    assert win.selection.rows() == [row]
    assert win.detail.cursor_time == pytest.approx(t, abs=0.05)  # not the block's start
    pen = win.detail.cursors[0].pen
    assert pen.style() == Qt.PenStyle.SolidLine and pen.widthF() >= 2
    before = len(data)
    assert win.annotation.split_at()
    after = win.lesson_data
    assert len(after) == before + 1
    assert np.min(np.abs(after.end - t)) < 0.05


def test_zoom_to_selection_play_it_at_speed_and_loop(studio):
    win = studio
    data = win.lesson_data
    win.selection.select_rows([3], win)
    win.action("zoom_selection").trigger()
    t0, t1 = win.detail.visible_range()
    assert t0 < data.start[3] < data.end[3] < t1 and (t1 - t0) < 1.2 * (data.end[3] - data.start[3]) + 0.2
    # 2x: half the samples reach the sound card, and the playhead shows the lesson time
    win.playback.set_speed(2.0)
    win.action("play_selection").trigger()
    wait_until(lambda: "▶" in win.status.time_label.text(), timeout=10)
    assert "(2×)" in win.status.time_label.text()
    wait_until(lambda: not win.player.playing, timeout=10)
    played = np.concatenate(CaptureStream.last.played)
    length = data.end[3] - data.start[3]
    assert abs(len(played) / 16000 - length / 2) < 0.1
    assert "Cursor" in win.status.time_label.text()
    # loop: the range starts again by itself until stopped
    win.playback.set_speed(1.0)
    starts = []
    win.player.started.connect(lambda: starts.append(1))
    win.action("loop").trigger()
    wait_until(lambda: len(starts) >= 2, timeout=15)
    win.action("loop").trigger()
    win.player.stop()
    assert not win.player.playing


def test_speed_keeps_the_pitch():
    t = np.arange(2 * 16000) / 16000
    tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    for speed in (0.5, 1.5, 2.0):
        y = stretch(tone, speed)
        assert abs(len(y) - len(tone) / speed) < 0.02 * len(tone)
        spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
        assert abs(np.fft.rfftfreq(len(y), 1 / 16000)[np.argmax(spectrum)] - 220) < 2


def test_view_range_kept_per_lesson_across_restarts(studio, tmp_path):
    win = studio
    win.detail.set_range(3.0, 8.0)
    win.close()
    again = open_studio(tmp_path)
    try:
        t0, t1 = again.detail.visible_range()
        assert (t0, t1) == (pytest.approx(3.0, abs=0.01), pytest.approx(8.0, abs=0.01))
    finally:
        again.close()


# ----------------------------------------------------------- 4, 6. moved audio, bad files
def test_locate_audio_checks_the_content(studio, tmp_path):
    win = studio
    ws = win.workspace
    lesson = ws.lesson(win.current_id)
    moved = tmp_path / "moved" / "lesson.wav"
    moved.parent.mkdir()
    shutil.move(ws.audio_file(lesson), moved)
    other = tmp_path / "other.wav"
    sf.write(other, np.zeros(16000, np.float32), 16000)
    assert win.action("locate_audio").isEnabled()
    assert not win.workspaces.locate_audio(int(lesson.id), str(other))
    assert win.errors.history[-1][0] == "Not this lesson's audio" and "content differs" in win.errors.history[-1][1]
    assert win.workspaces.locate_audio(int(lesson.id), str(moved))
    assert ws.audio_file(ws.lesson(int(lesson.id))) == moved


def test_several_bad_files_one_dialog_and_a_truncated_file_keeps_what_decodes(studio, tmp_path, emodb):
    win = studio
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "notes.wav").write_text("these are my lesson notes, not audio")
    (bad / "empty.flac").write_bytes(b"")
    x, sr = sf.read(emodb / "wav" / CLIPS[0], dtype="float32")
    whole = bad / "whole.wav"
    sf.write(whole, np.tile(x, 3), sr, subtype="PCM_16")
    cut = bad / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: 44 + 2 * int(1.5 * sr) + 1])  # the header still promises all of it
    original = cut.read_bytes()
    before = len(win.errors.history)
    win.add_files([str(bad / "notes.wav"), str(bad / "empty.flac"), str(cut)], analyse=False)
    wait_until(lambda: len(win.errors.history) > before)
    wait_until(lambda: "kept the readable part" in win.statusBar().currentMessage())
    assert len(win.errors.history) == before + 1, win.errors.history[before:]  # one dialog for all three
    title, text = win.errors.history[before]
    assert title == "Some files were not added" and text.startswith("3 of 3 files")
    for name in ("notes.wav", "empty.flac", "cut.wav"):
        assert name in text
    assert "readable part is added as a copy" in text
    kept = next(lesson for lesson in win.workspace.lessons() if "readable part" in lesson.name)
    assert kept.duration_s == pytest.approx(1.5, abs=0.01)
    assert cut.read_bytes() == original  # the user's file is untouched
    assert "cut.wav: 1.5 s" in win.statusBar().currentMessage() and kept.id == win.current_id


# -------------------------------------------------------------------- 5. recording panel
def test_level_meter_runs_as_soon_as_the_panel_is_open(qtbot, sound_server, emodb, tmp_path):
    panel = RecordingPanel(tmp_path / "recordings", QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(panel)
    assert panel.select_device("pulse")
    assert panel.device_combo.currentText().startswith("Sound server (PulseAudio)")
    panel.show()
    qtbot.waitUntil(lambda: panel._check is not None, timeout=5000)
    player = sound_server.play(emodb / "wav" / CLIPS[0])
    peaks = []
    qtbot.waitUntil(lambda: peaks.append(panel.meter.peak_dbfs) or player.poll() is not None, timeout=15000)
    assert max(peaks) > -30, "the meter did not move before Record"
    assert (
        panel.state == "idle" and not (tmp_path / "recordings").exists() or not any((tmp_path / "recordings").iterdir())
    )
    panel.hide()
    assert panel._check is None


def test_friendly_device_names():
    def dev(name: str, default: bool = False) -> InputDevice:
        return InputDevice(0, name, "ALSA", 48000.0, 2, default)

    assert friendly_name(dev("HDA Intel PCH: ALC3246 Analog (hw:0,0)")) == "ALC3246 Analog"
    assert friendly_name(dev("USB PnP Sound Device: Audio (hw:2,0)", True)) == "Audio (default)"
    assert friendly_name(dev("default")) == "System default"
    assert friendly_name(dev("pulse")) == "Sound server (PulseAudio)"


# -------------------------------------------------------------- 8. retraining results
def test_retraining_figures_only_when_measurable():
    thin = assess({"labels": ["anger", "neutral"], "confusion": [[3, 0], [0, 3]]}, "validation:clips")
    assert figure(thin, "ua") == TOO_FEW and measured(thin).startswith("too few to measure: 6 validation clips")
    assert "100" not in measured(thin)
    enough = assess({"labels": ["anger", "neutral"], "confusion": [[25, 5], [6, 24]]}, "validation:clips")
    assert figure(enough, "ua").startswith("82 % (") and "95 % interval" in measured(enough)
    low, high = enough.ua_interval.low, enough.ua_interval.high
    assert low < enough.ua < high
    assert figure(None, "ua") == "–"


def test_recognise_an_utterance_made_by_hand(studio):
    win = studio
    c = win.annotation
    data = win.lesson_data
    a, b = float(data.start[4]), float(data.end[4])  # real speech (EmoDB anger)
    assert c.create(a + 0.05, b - 0.05)
    uid = c.selected_ids()[-1]
    assert win.workspace.utterance(uid).final_emotion is None
    messages: list[str] = []
    c.message.connect(messages.append)
    assert "recognise" in c.menus.actions and c.recognise()
    wait_until(lambda: any(m.startswith(("Recognised", "Cannot")) for m in messages), timeout=120)
    assert any(m.startswith("Recognised") for m in messages), messages
    u = win.workspace.utterance(uid)
    assert u.emotion in win.lesson_data.labels or u.emotion in u.probabilities
    assert sum(u.probabilities.values()) == pytest.approx(1.0, abs=1e-3) and u.confidence == max(
        u.probabilities.values()
    )
    assert u.boundary_source == "human" and u.human_emotion is None  # the human layer untouched
    row = win.lesson_data.row_of_id(uid)
    assert win.lesson_data.label_name(row) == u.emotion  # shown without re-analysing
    win.undo_stack.undo()
    assert win.workspace.utterance(uid).emotion is None
