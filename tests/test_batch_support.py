"""Shared helpers of the batch tests: tiny real lessons cut from the bundled demo lesson, the
Qt blocker environment, and reading a batch's log."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.test_layers import BLOCKER

ROOT = Path(__file__).resolve().parents[1]
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


def no_qt_env(folder: Path) -> dict[str, str]:
    """An environment whose Python processes (and their children) cannot import Qt."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(BLOCKER)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(folder), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("QT_QPA_PLATFORM", None)
    return env


def batch_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "esergui", "batch", *args]


def log_events(out: Path) -> list[dict]:
    path = out / ".batch" / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []
