"""Live recording against a real PortAudio device: the monitor of a PulseAudio null sink.

Known audio (EmoDB speech, sine tones) is played into the sink with ``paplay`` while the
recorder runs; the file must contain it. The pure parts (ring, pause log, disk thresholds,
header repair, meters) are tested directly.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from recording_support import (  # noqa: F401  (sound_server is a fixture)
    CLI,
    band_energy,
    best_correlation,
    peak_frequency,
    sound_server,
    tone,
)

from esergui.errors import DeviceError
from esergui.recording import (
    FrameRing,
    LiveMonitor,
    PauseLog,
    Recorder,
    default_input_device,
    disk_status,
    find_input_device,
    find_unfinished,
    list_input_devices,
    repair_recording,
)
from esergui.recording.files import WavWriter, repair_wav
from esergui.recording.recovery import marker_path

EMODB_FILE = "03a01Fa.wav"  # 1.9 s, male speaker, happiness


# ------------------------------------------------------------------------------ pure parts


def test_ring_keeps_order_across_wraps_and_reports_dropped_frames():
    ring = FrameRing(capacity=10, channels=2)
    data = np.arange(48, dtype=np.int16).reshape(24, 2)
    ring.write(data[:7])
    out, pos, dropped = ring.read(0)
    assert (out == data[:7]).all() and pos == 7 and dropped == 0
    ring.write(data[7:15])  # wraps
    out, pos, dropped = ring.read(pos)
    assert (out == data[7:15]).all() and pos == 15 and dropped == 0
    ring.write(data[15:24])  # the reader at 15 is now 9 behind: fine
    assert (ring.latest(4) == data[20:24]).all()
    out, pos, dropped = ring.read(10)  # 14 behind a ring of 10: the 4 oldest are gone
    assert dropped == 4 and (out == data[14:24]).all() and pos == 24
    ring.write(np.arange(60, dtype=np.int16).reshape(30, 2))  # a block larger than the ring
    assert ring.written == 54 and (ring.latest(10) == np.arange(60).reshape(30, 2)[20:]).all()


def test_pause_log_leaves_out_paused_spans():
    log = PauseLog()
    log.pause(100)
    log.resume(250)
    log.pause(400)
    assert log.paused
    assert log.kept(0, 500) == [(0, 100), (250, 400)]
    assert log.kept(120, 300) == [(250, 300)]
    assert log.kept_count(1000) == 250
    log.resume(900)
    assert log.kept(800, 1000) == [(900, 1000)]


def test_disk_status_warns_then_refuses(tmp_path):
    rate = 48000 * 2 * 2  # 48 kHz stereo int16: 192 kB/s
    plenty = disk_status(tmp_path, rate, free_bytes=100 * 10**9)
    assert plenty.warning is None and not plenty.critical and plenty.seconds_left > 100_000
    low = disk_status(tmp_path, rate, free_bytes=192_000 * 600)  # 10 minutes
    assert not low.critical and "about 10 minutes of recording left" in low.warning
    full = disk_status(tmp_path, rate, free_bytes=192_000 * 10)
    assert full.critical and "full" in full.warning
    assert disk_status(tmp_path, rate).free_bytes > 0  # the real disk


def test_repair_wav_fixes_sizes_and_cuts_a_torn_frame(tmp_path, emodb):
    speech, rate = sf.read(emodb / "wav" / EMODB_FILE, dtype="int16")
    path = tmp_path / "torn.wav"
    writer = WavWriter(path, rate, 1)
    writer.write(speech[:, None])  # never flushed: both size fields still say 0
    writer._fh.write(b"\x01")  # half a frame, as a kill mid-write leaves
    writer._fh.flush()
    with open(path, "rb") as fh:
        assert struct.unpack("<I", fh.read(44)[40:44])[0] == 0
    assert repair_wav(path) == len(speech)
    back, back_rate = sf.read(path, dtype="int16")
    assert back_rate == rate and np.array_equal(back, speech)
    assert path.stat().st_size == 44 + 2 * len(speech)
    writer._fh.close()


def test_live_monitor_levels_clipping_and_speech(emodb):
    rate = 16000
    ring = FrameRing(rate * 20, 1)
    monitor = LiveMonitor(ring, rate, history_s=4.0, columns=100)
    t = np.arange(rate) / rate
    ring.write((0.5 * 32768 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)[:, None])
    level = monitor.update()
    assert level.peak_dbfs == pytest.approx(-6.02, abs=0.1)
    assert level.rms_dbfs == pytest.approx(-9.03, abs=0.1)
    assert not level.clipped and level.frames == rate
    ring.write(np.zeros((rate, 1), np.int16))
    assert not monitor.update().speech  # silence
    speech, _ = sf.read(emodb / "wav" / EMODB_FILE, dtype="int16")
    ring.write(speech[: int(1.2 * rate), None])
    assert monitor.update().speech
    before = monitor.clip_count
    ring.write(np.full((800, 1), 32767, np.int16))
    assert monitor.update().clipped and monitor.clip_count == before + 1
    lo, hi = monitor.waveform()
    assert lo.shape == hi.shape == (100,) and hi.max() == pytest.approx(1.0, abs=1e-3)
    assert monitor.speech_history().shape == (round(4.0 / 0.01),) and monitor.speech_history().any()


def test_live_monitor_takes_the_analysis_vad_settings():
    from esergui.segment import VadSettings

    monitor = LiveMonitor(FrameRing(16000, 1), 16000, history_s=3.0, vad_settings=VadSettings(frame_ms=30))
    assert monitor.vad_frame_ms == 30 and monitor.speech_history().shape == (100,)


def test_no_device_and_bad_names_give_clear_errors(sound_server):
    with pytest.raises(DeviceError, match="No audio input device was found"):
        default_input_device([])
    with pytest.raises(DeviceError, match="no input device number 999"):
        find_input_device(999)
    with pytest.raises(DeviceError, match="No input device is called 'no such mic'"):
        find_input_device("no such mic")


# ------------------------------------------------------------------------ the real device


def test_lists_the_null_sink_monitor_with_default_marked(sound_server):
    devices = list_input_devices()
    pulse = find_input_device("pulse")
    assert pulse in devices and pulse.max_input_channels > 0 and pulse.default_samplerate > 0
    assert sum(d.is_default for d in devices) == 1
    assert pulse.record_channels == 2 and "pulse (ALSA)" in pulse.label()


def test_unsupported_rate_and_channels_fail_before_any_file(sound_server, tmp_path):
    out = tmp_path / "x.wav"
    with pytest.raises(DeviceError, match="cannot record at 1 Hz"):
        Recorder(out, sound_server.device, samplerate=1).start()
    with pytest.raises(DeviceError, match="cannot record 64 channel"):
        Recorder(out, sound_server.device, channels=64).start()
    assert not out.exists() and not marker_path(out).exists()


def test_records_the_speech_played_into_the_device(sound_server, emodb, tmp_path):
    source, source_rate = sf.read(emodb / "wav" / EMODB_FILE, dtype="float32")
    out = tmp_path / "lesson.flac"
    recorder = Recorder(out, sound_server.device)
    recorder.start()
    try:
        assert recorder.wait_for_audio(10), "the device delivered no audio"
        t0 = time.monotonic()
        assert marker_path(out).exists() and find_unfinished(tmp_path) == []  # live, not unfinished
        sound_server.play_and_wait(emodb / "wav" / EMODB_FILE)
        time.sleep(0.3)
        wall = time.monotonic() - t0
        elapsed = recorder.elapsed_s
    finally:
        result = recorder.stop()
    assert result.error is None and result.dropped_frames == 0
    assert not marker_path(out).exists()
    recorded, rate = sf.read(out, dtype="float32")
    assert rate == recorder.samplerate and recorded.shape[1] == 2
    assert len(recorded) == result.frames
    # duration: what the device delivered matches the wall clock (+- block and latency jitter)
    assert abs(elapsed - wall) < 0.5, (elapsed, wall)
    assert result.seconds == pytest.approx(elapsed, abs=0.5)
    score, lag = best_correlation(recorded, rate, source, source_rate)
    assert score > 0.9, f"the recording does not contain the played speech (correlation {score:.2f})"
    assert 0 <= lag < result.seconds - len(source) / source_rate + 0.01, (lag, result.seconds)


def test_pause_leaves_out_what_is_played_meanwhile(sound_server, tmp_path):
    a, b, c = (tone(tmp_path / f"{hz}.wav", hz, 0.8) for hz in (440, 1500, 880))
    out = tmp_path / "paused.wav"
    with Recorder(out, sound_server.device) as recorder:
        assert recorder.wait_for_audio(10)
        sound_server.play_and_wait(a)
        recorder.pause()
        assert recorder.state == "paused"
        paused_at = recorder.elapsed_s
        sound_server.play_and_wait(b)
        time.sleep(0.3)
        assert recorder.elapsed_s == pytest.approx(paused_at, abs=1e-6)  # the clock stands still
        recorder.resume()
        sound_server.play_and_wait(c)
        time.sleep(0.2)
    recorded, rate = sf.read(out, dtype="float32")
    kept_a, dropped_b, kept_c = (band_energy(recorded, rate, hz) for hz in (440, 1500, 880))
    assert kept_a > 0 and kept_c > 0
    assert dropped_b < 0.01 * min(kept_a, kept_c), "audio played while paused was recorded"
    assert len(recorded) / rate < recorder.frames_captured / rate - 0.8  # the pause is not in the file


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=60)


def test_cli_records_exactly_the_requested_seconds(sound_server, tmp_path):
    out = tmp_path / "cli.wav"
    player = sound_server.play(tone(tmp_path / "t.wav", 1000, 6.0))
    try:
        proc = _cli(str(out), "--device", "pulse", "--seconds", "1.5", env=sound_server.env)
    finally:
        player.kill()
        player.wait()
    assert proc.returncode == 0, proc.stderr
    info = sf.info(out)
    assert info.frames == round(1.5 * info.samplerate)
    recorded, rate = sf.read(out)
    assert abs(peak_frequency(recorded, rate) - 1000) < 5
    assert not marker_path(out).exists()
    again = _cli(str(out), "--device", "pulse", "--seconds", "1", env=sound_server.env)
    assert again.returncode == 2 and "already exists" in again.stderr
    listing = _cli("--list-devices", env=sound_server.env)
    assert listing.returncode == 0 and "pulse" in listing.stdout and "* = system default" in listing.stdout


def test_cli_bad_device_and_rate(sound_server, tmp_path):
    bad = _cli(str(tmp_path / "a.wav"), "--device", "999", env=sound_server.env)
    assert bad.returncode == 2 and "no input device number 999" in bad.stderr
    rate = _cli(str(tmp_path / "b.wav"), "--device", "pulse", "--rate", "1", env=sound_server.env)
    assert rate.returncode == 2 and "cannot record at 1 Hz" in rate.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_ctrl_c_stops_cleanly_and_keeps_the_file(sound_server, tmp_path):
    out = tmp_path / "interrupted.wav"
    proc = subprocess.Popen(
        [*CLI, str(out), "--device", "pulse"],
        env=sound_server.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not (out.exists() and out.stat().st_size > 1000):
        assert proc.poll() is None and time.monotonic() < deadline, "the recorder wrote nothing"
        time.sleep(0.02)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert "Saved" in stdout and not marker_path(out).exists()
    info = sf.info(out)  # a complete file: no repair needed
    assert 0.4 < info.frames / info.samplerate < 10


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_killed_recorder_leaves_a_file_that_repair_makes_playable(sound_server, tmp_path, suffix):
    out = tmp_path / f"killed{suffix}"
    player = sound_server.play(tone(tmp_path / "t.wav", 700, 8.0))
    proc = subprocess.Popen(
        [*CLI, str(out), "--device", "pulse"], env=sound_server.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while not (out.exists() and out.stat().st_size > 4096):  # audio is being written
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the recorder wrote nothing"
            time.sleep(0.02)
        time.sleep(2.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        player.kill()
        player.wait()
    marker = marker_path(out)
    assert marker.exists() and json.loads(marker.read_text())["pid"] == proc.pid
    unfinished = find_unfinished(tmp_path)
    assert [u.path for u in unfinished] == [out]
    repaired = repair_recording(unfinished[0])
    assert not marker.exists() and find_unfinished(tmp_path) == []
    recorded, rate = sf.read(out)
    assert len(recorded) == repaired.frames and rate == repaired.samplerate
    # about 2 s were recorded before the kill; a kill loses at most the last writer poll
    assert 1.7 < repaired.seconds < 3.0, repaired.seconds
    assert abs(peak_frequency(recorded, rate) - 700) < 5


def test_device_disappearing_ends_the_recording_and_keeps_the_audio(sound_server, tmp_path):
    from recording_support import start_server, stop_server, use_server

    sound_dir = Path(tempfile.mkdtemp(prefix="eser-snd-", dir="/tmp"))  # short: socket paths are limited
    server, _, why = start_server(sound_dir)
    if server is None:
        pytest.skip(f"a second sound server did not start: {why}")
    out = tmp_path / "vanished.wav"
    try:
        device = use_server(server)
        assert device is not None
        recorder = Recorder(out, device)
        recorder.start()
        assert recorder.wait_for_audio(10)
        subprocess.run(
            ["paplay", str(tone(tmp_path / "t.wav", 500, 1.0))], env=dict(os.environ, PULSE_SERVER=server), timeout=20
        )
        stop_server(sound_dir)  # the "microphone" is pulled out
        assert recorder.wait(10), "the recorder did not notice the device vanishing"
        assert recorder.state == "failed"
        result = recorder.stop()
    finally:
        stop_server(sound_dir)
        shutil.rmtree(sound_dir, ignore_errors=True)
        use_server(sound_server.server)
    assert isinstance(result.error, DeviceError) and "stopped delivering audio" in str(result.error)
    assert "kept" in str(result.error)
    recorded, rate = sf.read(out)
    assert len(recorded) == result.frames and result.seconds > 0.9
    assert abs(peak_frequency(recorded, rate) - 500) < 5
    assert not marker_path(out).exists()  # closed cleanly: nothing to recover
