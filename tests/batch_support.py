"""Shared helpers of the batch tests: tiny real lessons cut from the bundled demo lesson, the
Qt blocker environment, and reading a batch's log."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.no_qt_support import ROOT, no_qt_env  # noqa: F401 (re-exported for the batch tests)

DEMO = ROOT / "resources" / "demo" / "demo_lesson.ogg"


def cut_lessons(folder: Path, count: int, seconds: float = 12.0) -> list[Path]:
    """``count`` different short lessons (16 kHz WAV) cut from the demo lesson."""
    from esergui.audio import load_audio

    audio = np.asarray(load_audio(DEMO), dtype=np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(count):
        start = int(16000 * (5 + 37 * k))
        path = folder / f"lesson{k}.wav"
        sf.write(path, audio[start : start + int(16000 * seconds)], 16000, subtype="PCM_16")
        paths.append(path)
    return paths


def batch_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "esergui", "batch", *args]


def log_events(out: Path) -> list[dict]:
    path = out / ".batch" / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []
