"""Issue 18, recording: a recorder killed before any audio arrived, ``record --repair`` on such
FLAC/WAV files and on unreadable ones (a folder is repaired past them, naming each), and two
recordings into one file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from recording_support import CLI, sound_server, tone  # noqa: F401  (sound_server is a fixture)

from esergui.errors import USER_ERRORS, AudioError, DeviceError
from esergui.recording import EmptyRecording, Recorder, find_unfinished, repair_recording
from esergui.recording.files import WavWriter
from esergui.recording.recovery import marker_path, write_marker

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def _killed_before_audio(folder: Path, *names: str) -> None:
    """What a recorder leaves when it is killed right after creating its files."""
    code = textwrap.dedent(f"""
        import os, signal
        from esergui.recording.files import open_writer
        from esergui.recording.recovery import write_marker
        for name in {list(names)!r}:
            path = os.path.join({str(folder)!r}, name)
            write_marker(path, samplerate=48000, channels=1, device="test")
            open_writer(path, 48000, 1).flush()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def _kept_wav(folder: Path, name: str, seconds: float = 1.0) -> Path:
    """An unfinished WAV with audio whose header was never updated (a crash mid-recording)."""
    path = folder / name
    tone_frames = (0.3 * 32767 * np.sin(2 * np.pi * 440 * np.arange(int(16000 * seconds)) / 16000)).astype(np.int16)
    write_marker(path, samplerate=16000, channels=1, device="test")
    writer = WavWriter(path, 16000, 1)
    writer.write(tone_frames[:, None])
    writer._fh.flush()
    _mark_dead(path)
    return path


def _mark_dead(path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    marker = marker_path(path)
    marker.write_text(json.dumps(dict(json.loads(marker.read_text()), pid=dead.pid)))


@pytest.mark.parametrize("suffix", [".flac", ".wav"])
def test_recording_killed_before_any_audio_is_removed_with_a_message(tmp_path: Path, suffix: str) -> None:
    _killed_before_audio(tmp_path, f"empty{suffix}")
    [found] = find_unfinished(tmp_path)
    with pytest.raises(EmptyRecording, match="held no audio .* the empty file was removed"):
        repair_recording(found)
    assert list(tmp_path.iterdir()) == []  # neither the empty file nor its marker stays
    assert find_unfinished(tmp_path) == []


@pytest.mark.parametrize("content", [b"", b"garbage, not FLAC", b"fLaC\x00\x00\x00\x22" + b"\xff" * 40])
def test_unreadable_flac_is_left_as_it_is_with_a_clear_message(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.flac"
    path.write_bytes(content)
    write_marker(path, samplerate=48000, channels=1, device="test")
    _mark_dead(path)
    with pytest.raises(USER_ERRORS) as info:
        repair_recording(path)
    message = str(info.value)
    assert "\n" not in message and "bad.flac" in message
    if content:  # something is there: kept, to try again or discard by hand
        assert path.read_bytes() == content and marker_path(path).exists()
        assert "could not be repaired" in message
    else:
        assert isinstance(info.value, EmptyRecording) and not path.exists()


def test_cli_repairs_a_folder_past_bad_files_and_names_them(tmp_path: Path) -> None:
    good = _kept_wav(tmp_path, "a_good.wav")
    _killed_before_audio(tmp_path, "b_empty.flac", "c_empty.wav")
    bad = tmp_path / "d_bad.flac"
    bad.write_bytes(b"not audio at all" * 10)
    write_marker(bad, samplerate=48000, channels=1, device="test")
    _mark_dead(bad)
    for marker in tmp_path.glob("*.partial"):
        os.utime(marker, (time.time() - 3600, time.time() - 3600))  # their recorders are long gone
    proc = subprocess.run(
        [*CLI, "--repair", str(tmp_path)], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"Repaired {good}" in proc.stdout
    assert "Removed" in proc.stdout and "b_empty.flac" in proc.stdout and "c_empty.wav" in proc.stdout
    assert f"skipped {bad}" in proc.stderr and "1 of 4 recordings could not be repaired" in proc.stderr
    assert sf.info(good).frames == 16000 and bad.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_good.wav", "d_bad.flac", "d_bad.flac.partial"]


def test_a_live_recording_claims_its_file(tmp_path: Path) -> None:
    """A second recorder on the same file (another process) is refused while the first lives."""
    out = tmp_path / "lesson.flac"
    code = textwrap.dedent(f"""
        import sys
        from esergui.recording.recovery import write_marker
        write_marker({str(out)!r}, samplerate=48000, channels=1, device="test")
        open({str(out)!r}, "wb").close()
        print("claimed", flush=True)
        sys.stdin.readline()
    """)
    first = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout.readline().strip() == "claimed"
        with pytest.raises(DeviceError, match=rf"Another recording \(process {first.pid}\) is being written to"):
            write_marker(out, samplerate=48000, channels=1, device="test")
    finally:
        first.kill()
        first.wait()
    _mark_dead(out)  # its recorder died: an unfinished recording now
    with pytest.raises(AudioError, match="unfinished recording .* --repair"):
        write_marker(out, samplerate=48000, channels=1, device="test", replace_unfinished=False)
    write_marker(out, samplerate=48000, channels=1, device="test")  # --overwrite replaces it


def test_two_record_runs_to_one_file(sound_server, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "same.wav"
    player = sound_server.play(tone(tmp_path / "t.wav", 600, 6.0))
    try:
        runs = [
            subprocess.Popen(
                [*CLI, str(out), "--device", "pulse", "--seconds", "2", "--quiet"],
                env=sound_server.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [p.communicate(timeout=60) for p in runs]
    finally:
        player.kill()
        player.wait()
    codes = sorted(p.returncode for p in runs)
    errors = "".join(r[1] for r in results)
    assert codes == [0, 2], errors
    assert "Traceback" not in errors
    assert "already exists" in errors or "Another recording" in errors
    assert 1.9 < sf.info(out).duration < 2.1 and not marker_path(out).exists()
    with pytest.raises(DeviceError, match="Another recording"):  # in one process too
        with Recorder(out, sound_server.device):
            Recorder(out, sound_server.device).start()


def test_recording_file_name_too_long_for_the_system(tmp_path: Path) -> None:
    out = tmp_path / ("r" * 246 + ".flac")  # 252 bytes: the file fits, its marker does not
    with pytest.raises(DeviceError, match="too long"):
        write_marker(out, samplerate=48000, channels=1, device="test")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "marker_text",
    [
        "[1, 2]",
        '{"samplerate": "x", "channels": null, "pid": 1e400}',
        '{"pid": 99999999999999999999999, "host": "%s"}',
        "\x00\xff not json",
    ],
)
def test_damaged_marker_still_lists_and_repairs(tmp_path: Path, marker_text: str) -> None:
    import socket

    good = _kept_wav(tmp_path, "lesson.wav")
    marker_path(good).write_text(marker_text.replace("%s", socket.gethostname()), encoding="utf-8")  # fresh
    [found] = find_unfinished(tmp_path)
    assert found.path == good and found.samplerate == 0
    assert repair_recording(found).frames == 16000
    assert not marker_path(good).exists()
