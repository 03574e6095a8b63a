"""Background work and playback: the QThread runner forwards progress and partial results,
stops within a second when cancelled, reports failures as one line; the queue runs jobs in
order; playback plays real speech through an output stream and survives having no device."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import soundfile as sf

pytestmark = pytest.mark.qt

from esergui.app.common.workers import JobQueue, TaskRunner, one_line  # noqa: E402
from esergui.app.playback.player import Player  # noqa: E402
from esergui.audio import ArrayAudio  # noqa: E402
from esergui.audio.envelope import compute_envelope  # noqa: E402
from esergui.audio.locked import LockedSource  # noqa: E402
from esergui.errors import AudioError  # noqa: E402
from tests.app_support import CaptureStream  # noqa: E402
from tests.recording_support import sound_server  # noqa: E402, F401 (fixture: a private PulseAudio server)


@pytest.fixture(scope="module")
def long_source(emodb):
    """About 5 minutes of real speech (EmoDB clips repeated), as a source."""
    clips = [sf.read(p, dtype="float32")[0] for p in sorted((emodb / "wav").glob("03a0*.wav"))[:8]]
    audio = np.tile(np.concatenate(clips), 12)
    return LockedSource(ArrayAudio(audio))


def envelope_job(source, chunk_s=0.5, delay=0.0):
    def job(progress, cancel, partial):
        def prog(f, m=""):
            progress("waveform", f, m)
            if delay:
                time.sleep(delay)

        env = compute_envelope(source, chunk_s=chunk_s, progress=prog, cancel=cancel)
        partial(len(env.maxs))
        return env

    return job


def test_runner_forwards_progress_partial_and_result(qtbot, long_source):
    runner = TaskRunner(envelope_job(long_source))
    stages, partials = [], []
    runner.progress.connect(lambda s, f, m: stages.append((s, f)))
    runner.partial.connect(partials.append)
    with qtbot.waitSignal(runner.succeeded, timeout=20000) as sig:
        runner.start()
    env = sig.args[0]
    assert env.maxs.max() > 0.1
    assert partials == [len(env.maxs)]
    assert stages and stages[-1] == ("waveform", 1.0) and all(s == "waveform" for s, _ in stages)
    assert [f for _, f in stages] == sorted(f for _, f in stages)
    qtbot.waitUntil(lambda: not runner.running, timeout=5000)


def test_cancel_stops_within_a_second(qtbot, long_source):
    runner = TaskRunner(envelope_job(long_source, chunk_s=0.25, delay=0.05))  # ~60 s of work
    started = threading.Event()
    runner.progress.connect(lambda *a: started.set())
    runner.start()
    qtbot.waitUntil(started.is_set, timeout=5000)
    t0 = time.monotonic()
    with qtbot.waitSignal(runner.cancelled, timeout=3000):
        runner.cancel()
    assert time.monotonic() - t0 < 1.0
    assert runner.wait(2000)


def test_failure_is_one_line_and_queue_runs_in_order(qtbot, long_source, tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")

    def failing(progress, cancel, partial):
        try:
            sf.read(bad)
        except Exception as exc:  # noqa: BLE001 - turned into the user error the core would raise
            raise AudioError(f"{bad.name}: cannot read this file ({exc.__class__.__name__})\nmore detail") from exc

    queue = JobQueue()
    events = []
    queue.jobStarted.connect(lambda k, t: events.append(("start", k)))
    queue.jobSucceeded.connect(lambda k, r: events.append(("ok", k)))
    queue.jobFailed.connect(lambda k, reason, details: events.append(("fail", k, reason)))
    assert queue.add("a", "A", envelope_job(long_source))
    assert queue.add("b", "B", failing)
    assert not queue.add("b", "B again", failing)  # no duplicates
    assert queue.add("c", "C", envelope_job(long_source))
    with qtbot.waitSignal(queue.idle, timeout=30000):
        pass
    assert [e[:2] for e in events] == [
        ("start", "a"),
        ("ok", "a"),
        ("start", "b"),
        ("fail", "b"),
        ("start", "c"),
        ("ok", "c"),
    ]
    reason = events[3][2]
    assert reason.startswith("broken.wav: cannot read this file") and "\n" not in reason
    assert one_line(ValueError("x")) == "unexpected error (ValueError: x)"


# ---------------------------------------------------------------------------- playback
def test_playback_plays_the_range_and_moves_the_playhead(qtbot, long_source):
    player = Player(stream_factory=CaptureStream)
    positions = []
    player.positionChanged.connect(positions.append)
    with qtbot.waitSignal(player.stopped, timeout=5000):
        assert player.play(long_source, 2.0, 2.6)
    played = np.concatenate(CaptureStream.last.played)
    expected = long_source.read(32000, 41600)
    assert len(played) >= len(expected)
    assert np.allclose(played[: len(expected)], expected)
    assert positions and 2.0 <= positions[0] <= positions[-1] <= 2.61
    assert not player.playing


def test_a_stopped_stream_does_not_stop_or_restart_the_next(qtbot, long_source):
    """A stream closed by stop() or by a new play() also reports "finished" (PortAudio does,
    and so does the capture stream); that late signal must not end a playback that took its
    place (a speed change restarts at the playhead) nor start a loop the user stopped."""
    player = Player(stream_factory=CaptureStream)
    assert player.play(long_source, 0.0, 10.0)
    player.set_speed(1.5)  # restarts the playback where it is
    qtbot.wait(500)  # let the old stream's queued signal arrive
    assert player.playing and player.speed == 1.5
    player.loop = True
    player.stop()
    qtbot.wait(500)
    assert not player.playing  # Stop with Loop on stays stopped
    starts: list[int] = []
    player.started.connect(lambda: starts.append(1))
    assert player.play(long_source, 1.0, 1.3)
    qtbot.waitUntil(lambda: len(starts) >= 2, timeout=5000)  # a loop still restarts at its end
    player.loop = False
    player.stop()
    qtbot.wait(500)
    assert not player.playing


def test_no_audio_device_is_a_notice_not_a_crash(qtbot, long_source):
    def no_device(**kw):
        raise RuntimeError("no audio output device could be opened (Error querying device -1)")

    player = Player(stream_factory=no_device)
    with qtbot.waitSignal(player.unavailable) as sig:
        assert not player.play(long_source, 0, 1)
    assert "no audio output device" in sig.args[0].lower()
    assert not player.playing
    player.stop()  # harmless
    with qtbot.waitSignal(player.unavailable):
        assert not player.play(None, 0, 1)


def test_playback_through_a_real_sound_server(qtbot, sound_server):
    """Play a 1 kHz tone into the private server's null sink and record its monitor back."""
    import sounddevice as sd

    t = np.arange(2 * 16000) / 16000
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    source = LockedSource(ArrayAudio(tone))
    recording = sd.rec(int(2.5 * 16000), samplerate=16000, channels=1, device="pulse")
    player = Player(device="pulse")
    positions = []
    player.positionChanged.connect(positions.append)
    with qtbot.waitSignal(player.stopped, timeout=8000):
        assert player.play(source, 0.5, 1.5)
    sd.wait()
    rec = recording[:, 0]
    spectrum = np.abs(np.fft.rfft(rec))
    freqs = np.fft.rfftfreq(len(rec), 1 / 16000)
    assert abs(freqs[np.argmax(spectrum[5:]) + 5] - 1000) < 5
    assert np.sqrt(np.mean(rec**2)) > 0.05
    assert positions and 0.5 <= positions[0] < positions[-1] <= 1.51
