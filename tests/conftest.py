"""Shared fixtures: the research data in ``../shared/data`` (or ``$ESER_SHARED_DATA``) and
real speech made with espeak-ng. Tests that need data which is truly absent skip with the
reason; nothing here mocks a component that can run for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

#: ``ESER_BLOCK_QT=1 pytest -p no:pytest-qt -m "not qt"`` is the no-Qt run: importing PySide6,
#: shiboken6 or pyqtgraph raises ImportError, and modules marked ``qt`` are not collected.
BLOCK_QT = os.environ.get("ESER_BLOCK_QT") == "1"
QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph")


class _NoQt:
    """A meta-path finder that refuses the Qt packages (the no-Qt run)."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.split(".")[0] in QT_MODULES:
            raise ModuleNotFoundError(f"{name} is blocked: ESER_BLOCK_QT=1 runs without Qt", name=name)
        return None


if BLOCK_QT:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in QT_MODULES)
    if loaded:
        raise pytest.UsageError(
            f"ESER_BLOCK_QT=1, but Qt is already imported ({loaded[0]}): run pytest -p no:pytest-qt"
        )
    sys.meta_path.insert(0, _NoQt())


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In the no-Qt run, GUI test modules (``pytestmark = pytest.mark.qt``) are not imported."""
    if BLOCK_QT and collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        if "pytestmark = pytest.mark.qt" in collection_path.read_text(encoding="utf-8"):
            return True
    return None


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
