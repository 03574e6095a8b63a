"""A real sound device for the recording tests: a private PulseAudio server with a null sink.

``sound_server`` (session fixture) starts ``tests/sound_server.sh`` unless a server is already
reachable, points this process (``PULSE_SERVER``) and PortAudio at it and yields a
:class:`SoundServer`: the ``pulse`` input device that records the sink's monitor, and
:meth:`SoundServer.play` to play a file into the sink. Tests skip, saying why, when no server
can be started (no pulseaudio, no PortAudio). Helpers to analyse what was recorded live here too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).with_name("sound_server.sh")
#: Run ``esergui record`` exactly as a user would.
CLI = [sys.executable, "-m", "esergui", "record"]


@dataclass
class SoundServer:
    server: str  # PULSE_SERVER value
    device: object  # esergui.recording.InputDevice of the "pulse" ALSA device
    env: dict = field(default_factory=dict)  # environment for subprocesses

    def play(self, path: Path | str) -> subprocess.Popen:
        """Start playing ``path`` into the null sink (``paplay``); wait() on the result."""
        return subprocess.Popen(["paplay", str(path)], env=self.env)

    def play_and_wait(self, path: Path | str, timeout: float = 20) -> None:
        self.play(path).wait(timeout)


def _run_script(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=30)


def start_server(sound_dir: Path | None = None) -> tuple[str | None, bool, str]:
    """Start (or find) a server; returns ``(PULSE_SERVER or None, started_here, why_not)``."""
    env = dict(os.environ)
    env.pop("PULSE_SERVER", None)
    if sound_dir is not None:
        env["ESER_SOUND_DIR"] = str(sound_dir)
    if shutil.which("pulseaudio") is None or shutil.which("paplay") is None:
        return None, False, "pulseaudio/paplay are not installed (bash packaging/setup.sh --dev)"
    running = _run_script("status", env=env).returncode == 0
    proc = _run_script("start", env=env)
    if proc.returncode != 0:
        return None, False, f"tests/sound_server.sh start failed: {proc.stderr.strip()[-300:]}"
    server = proc.stdout.strip().rsplit("=", 1)[-1]
    return server, not running, ""


def stop_server(sound_dir: Path | None = None) -> None:
    env = dict(os.environ)
    env.pop("PULSE_SERVER", None)
    if sound_dir is not None:
        env["ESER_SOUND_DIR"] = str(sound_dir)
    _run_script("stop", env=env)


def use_server(server: str) -> object | None:
    """Point this process and PortAudio at ``server``; the ``pulse`` input device or None."""
    from esergui.recording import list_input_devices, refresh_devices

    os.environ["PULSE_SERVER"] = server
    refresh_devices()
    return next((d for d in list_input_devices() if d.name == "pulse"), None)


@pytest.fixture(scope="session")
def sound_server():
    try:
        import sounddevice  # noqa: F401
    except OSError as exc:
        pytest.skip(f"PortAudio is not available: {exc}")
    previous = os.environ.get("PULSE_SERVER")
    server, started, why = start_server()
    if server is None:
        pytest.skip(f"no sound server for the recording tests: {why}")
    device = use_server(server)
    if device is None:
        pytest.skip("PortAudio lists no 'pulse' input device (is libasound2-plugins installed?)")
    env = dict(os.environ, PULSE_SERVER=server)
    yield SoundServer(server, device, env)
    if previous is None:
        os.environ.pop("PULSE_SERVER", None)
    else:
        os.environ["PULSE_SERVER"] = previous
    if started:
        stop_server()


# ---------------------------------------------------------------------------- audio analysis


def tone(path: Path, hz: float, seconds: float, rate: int = 44100, amplitude: float = 0.5) -> Path:
    """A mono 16-bit sine tone file."""
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32), rate, subtype="PCM_16")
    return path


def mono(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=1) if x.ndim == 2 else x


def band_energy(x: np.ndarray, rate: int, hz: float, width: float = 30.0) -> float:
    """Energy of ``x`` within ``hz +- width``."""
    spec = np.abs(np.fft.rfft(mono(x))) ** 2
    freqs = np.fft.rfftfreq(len(mono(x)), 1 / rate)
    return float(spec[(freqs > hz - width) & (freqs < hz + width)].sum())


def peak_frequency(x: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(mono(x)))
    spec[:5] = 0
    return float(np.fft.rfftfreq(len(mono(x)), 1 / rate)[np.argmax(spec)])


def best_correlation(recorded: np.ndarray, rate: int, source: np.ndarray, source_rate: int) -> tuple[float, float]:
    """Normalised cross-correlation peak of ``source`` inside ``recorded`` and its lag (s)."""
    import soxr
    from scipy.signal import fftconvolve

    rec = soxr.resample(mono(recorded).astype(np.float32), rate, source_rate)
    src = mono(source).astype(np.float64)
    corr = fftconvolve(rec, src[::-1], mode="valid")
    energy = np.convolve(rec.astype(np.float64) ** 2, np.ones(len(src)), mode="valid")
    norm = np.sqrt(energy * np.sum(src**2)) + 1e-12
    score = corr / norm
    i = int(np.argmax(score))
    return float(score[i]), i / source_rate
