"""Shared fixtures: the research data in ``../shared/data`` (or ``$ESER_SHARED_DATA``) and
real speech made with espeak-ng. Tests that need data which is truly absent skip with the
reason; nothing here mocks a component that can run for real."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from esergui.paths import SHARED_DATA_ENV, conversation_dir, emodb_dir  # noqa: E402


@pytest.fixture(scope="session")
def emodb() -> Path:
    """EmoDB folder (``wav/`` + ``labels.csv``)."""
    path = emodb_dir()
    if not (path / "labels.csv").is_file():
        pytest.skip(f"EmoDB not found at {path} (set {SHARED_DATA_ENV} to the shared data folder)")
    return path


@pytest.fixture(scope="session")
def conversation() -> Path:
    """The two-speaker conversation sample (``sample.wav`` + ``sample.rttm``)."""
    path = conversation_dir()
    if not (path / "sample.wav").is_file():
        pytest.skip(f"conversation sample not found at {path} (set {SHARED_DATA_ENV})")
    return path


@pytest.fixture(scope="session")
def espeak(tmp_path_factory: pytest.TempPathFactory):
    """``espeak(text, voice="en", pitch=50, speed=160) -> Path`` of a 16 kHz mono wav."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng is not installed (bash packaging/setup.sh --dev installs it)")
    folder = tmp_path_factory.mktemp("espeak")
    counter = iter(range(10**6))

    def speak(text: str, voice: str = "en", pitch: int = 50, speed: int = 160) -> Path:
        raw = folder / f"raw{next(counter)}.wav"
        out = raw.with_name(raw.stem + "_16k.wav")
        subprocess.run([exe, "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True)
        return out

    return speak
