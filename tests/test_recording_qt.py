"""The recording panel against the real null-sink device (pytest-qt, offscreen)."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import soundfile as sf

pytestmark = pytest.mark.qt

from PySide6.QtCore import QSettings  # noqa: E402
from recording_support import best_correlation, sound_server  # noqa: E402,F401

from esergui.app.recording.devices import SETTINGS_DEVICE  # noqa: E402
from esergui.app.recording.panel import RecordingPanel  # noqa: E402
from esergui.app.recording.recovery import RecoveryDialog, offer_recovery  # noqa: E402
from esergui.recording import disk_status, find_unfinished  # noqa: E402
from esergui.recording.files import WavWriter  # noqa: E402
from esergui.recording.recovery import marker_path, write_marker  # noqa: E402
from esergui.timefmt import format_clock  # noqa: E402

EMODB_FILE = "03a01Fa.wav"


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def test_panel_records_pauses_and_emits_the_finished_file(qtbot, sound_server, emodb, settings, tmp_path):
    out_dir = tmp_path / "recordings"
    panel = RecordingPanel(out_dir, settings)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.select_device("pulse")
    assert panel.record_button.isEnabled() and not panel.stop_button.isEnabled()
    assert "GB" in panel.disk_label.text() or "free" in panel.disk_label.text()

    with qtbot.waitSignal(panel.recordingStarted, timeout=5000) as started:
        panel.record_button.click()
    path = started.args[0]
    assert panel.state == "recording" and not panel.device_combo.isEnabled()
    assert settings.value(SETTINGS_DEVICE) == panel.selected_device().key
    qtbot.waitUntil(lambda: panel.recorder.frames_captured > 0, timeout=10000)

    player = sound_server.play(emodb / "wav" / EMODB_FILE)
    seen_speech, peaks = [], []

    def watch():
        seen_speech.append(panel.speech_label.text())
        peaks.append(panel.meter.peak_dbfs)
        return player.poll() is not None

    qtbot.waitUntil(watch, timeout=15000)
    qtbot.wait(300)
    assert any("\u25cf Speech" == s for s in seen_speech), "the speech indicator never lit"
    assert max(peaks) > -30, "the level meter did not move"
    lo, hi = panel.waveform._lo, panel.waveform._hi
    assert hi.max() > 0.05 and lo.min() < -0.05 and panel.waveform._speech.any()
    assert panel.elapsed_label.text() != "00:00:00"

    panel.pause_button.click()
    assert panel.state == "paused" and panel.pause_button.text() == "Resume"
    frozen = panel.recorder.elapsed_s
    qtbot.wait(400)
    assert panel.recorder.elapsed_s == pytest.approx(frozen, abs=1e-6)
    panel.pause_button.click()
    assert panel.state == "recording"

    with qtbot.waitSignal(panel.recordingFinished, timeout=10000) as finished:
        panel.stop_button.click()
    assert finished.args[0] == path and panel.state == "idle" and panel.record_button.isEnabled()
    recorded, rate = sf.read(path, dtype="float32")
    source, source_rate = sf.read(emodb / "wav" / EMODB_FILE, dtype="float32")
    score, _ = best_correlation(recorded, rate, source, source_rate)
    assert score > 0.9
    assert not marker_path(path).exists()

    again = RecordingPanel(out_dir, settings)  # the device choice is remembered
    qtbot.addWidget(again)
    assert again.selected_device().name == "pulse"


def test_panel_reports_a_device_that_cannot_open(qtbot, sound_server, settings, tmp_path):
    def refuse(**kw):
        import sounddevice as sd

        raise sd.PortAudioError("Device unavailable", -9985)

    panel = RecordingPanel(tmp_path, settings, stream_factory=refuse)
    qtbot.addWidget(panel)
    panel.select_device("pulse")
    with qtbot.waitSignal(panel.recordingFailed, timeout=3000) as failed:
        assert not panel.start_recording()
    assert "busy or access to it was denied" in failed.args[0]
    assert panel.state == "idle" and "denied" in panel.status_label.text()
    assert list(tmp_path.glob("lesson-*")) == []  # no empty file left behind


def test_disk_warning_is_shown(qtbot, sound_server, settings, tmp_path):
    panel = RecordingPanel(tmp_path, settings)
    qtbot.addWidget(panel)
    panel._show_disk(disk_status(tmp_path, 192_000, free_bytes=192_000 * 600))
    assert "about 10 minutes of recording left" in panel.disk_label.text()
    assert "E69F00" in panel.disk_label.styleSheet()


def test_recovery_dialog_repairs_kept_and_deletes_discarded(qtbot, tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    tone = (0.3 * 32767 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.int16)[:, None]
    paths = []
    for name in ("a.wav", "b.wav"):
        path = tmp_path / name
        writer = WavWriter(path, 16000, 1)
        writer.write(tone)
        writer._fh.flush()  # header never updated, as after a crash
        write_marker(path, samplerate=16000, channels=1, device="test")
        marker = marker_path(path)
        info = json.loads(marker.read_text())
        marker.write_text(json.dumps(dict(info, pid=dead.pid)))  # its recorder is gone
        paths.append(path)
    found = find_unfinished(tmp_path)
    assert [r.path for r in found] == paths
    dialog = RecoveryDialog(found)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 2 and dialog.table.item(0, 2).text() == format_clock(1.0)
    dialog.set_choice(0, "Keep")
    dialog.set_choice(1, "Discard")
    dialog.accept()
    assert dialog.kept == [paths[0]] and dialog.errors == []
    assert sf.info(paths[0]).frames == 16000 and not paths[1].exists()
    assert find_unfinished(tmp_path) == [] and offer_recovery(tmp_path) == []
