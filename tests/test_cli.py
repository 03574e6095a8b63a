"""``esergui analyze`` end to end on real audio, in subprocesses: several files with a bad one
among them, a workspace that keeps human edits, progress output on a terminal and in a pipe,
``--version`` and ``python -m esergui``."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from esergui import __version__
from esergui.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def esergui(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "esergui", *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300, **kw
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, conversation: Path, espeak) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli")
    speech = espeak("Good morning class. Today we look at fractions. Who can tell me what a half is?", pitch=40)
    ogg = folder / "espeak lesson.ogg"  # another format, rate and channel layout
    subprocess.run(["sox", str(speech), "-r", "44100", "-c", "2", str(ogg), "pad", "0.5", "1.0"], check=True)
    bad = folder / "broken.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 20)  # a truncated header, no data
    return {"conversation": conversation / "sample.wav", "espeak": ogg, "bad": bad}


def test_version() -> None:
    a = esergui("--version")
    b = subprocess.run([sys.executable, "-m", "esergui.cli", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert a.returncode == 0 and a.stdout.strip() == f"esergui {__version__}" == b.stdout.strip()
    helptext = esergui("analyze", "--help")
    assert helptext.returncode == 0 and "--workspace" in helptext.stdout and "--device" in helptext.stdout


def test_one_bad_file_among_good_ones(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = esergui(
        "analyze",
        str(files["conversation"]),
        str(files["bad"]),
        str(files["espeak"]),
        "--out",
        str(out),
        "--device",
        "cpu",
    )
    assert proc.returncode == 1, proc.stderr
    err_lines = [ln for ln in proc.stderr.splitlines() if "broken.wav" in ln]
    assert len(err_lines) == 1 and "Traceback" not in proc.stderr
    assert "1 of 3 files failed" in proc.stderr
    written = sorted(p.name for p in out.iterdir())
    stem = files["espeak"].stem.replace(" ", "_")
    assert written == sorted(
        [f"sample_{k}.csv" for k in ("utterances", "summary", "bins")]
        + [f"{stem}_{k}.csv" for k in ("utterances", "summary", "bins")]
    )
    table = pd.read_csv(out / "sample_utterances.csv")
    assert len(table) >= 3 and table["lesson"].eq("sample").all()
    summary = pd.read_csv(out / "sample_summary.csv")
    assert summary["duration_s"][0] == pytest.approx(30.0, abs=0.05) and 0 < summary["speech_pct"][0] < 100
    assert "stages_skipped" in summary.columns and "model" in summary.columns
    # not a terminal: plain progress lines, one per finished stage
    assert "decode done" in proc.stderr and "segment done" in proc.stderr and "\r" not in proc.stderr
    assert proc.stdout.count("utterances,") == 2


def test_failures_only_and_usage(files: dict[str, Path], tmp_path: Path) -> None:
    bad = esergui("analyze", str(files["bad"]), str(tmp_path / "missing.wav"), "--out", str(tmp_path / "b"), "--quiet")
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 3  # two files + the count
    usage = esergui("analyze", "--out", str(tmp_path / "c"))
    assert usage.returncode == 2 and "AUDIO" in usage.stderr


def test_workspace_keeps_human_edits(files: dict[str, Path], tmp_path: Path) -> None:
    ws_dir, out = tmp_path / "ws", tmp_path / "out"
    analyze = ("analyze", str(files["conversation"]), "--out", str(out), "--workspace", str(ws_dir), "--quiet")
    first = esergui(*analyze, "--device", "cpu")
    assert first.returncode == 0, first.stderr
    assert first.stdout == "" and first.stderr == ""  # --quiet: nothing but errors
    with Workspace.open(ws_dir) as ws:
        [lesson] = ws.lessons()
        u = ws.utterances(lesson.id)[0]
        ws.set_emotion([u.id], "boredom")
        ws.set_note([u.id], "=SUM(A1:A9)")
        # a retrained model becomes the workspace's active model: the next analysis uses it
        ws.register_model("tiny", str(_tiny_model(tmp_path)), ["calm", "excited", "neutral"])
        ws.set_active_model("tiny")
    again = esergui(*analyze, "--device", "cpu")
    assert again.returncode == 0, again.stderr
    with Workspace.open(ws_dir) as ws:
        assert len(ws.lessons()) == 1 and len(ws.runs(lesson.id)) == 2
        run = ws.latest_run(lesson.id)
        assert run.model_name == "tiny" and run.labels == ("calm", "excited", "neutral")
    table = pd.read_csv(out / "sample_utterances.csv")
    row = table[table["utterance_id"] == u.id].iloc[0]
    assert (row["emotion"], row["emotion_source"], row["note"]) == ("boredom", "human", "'=SUM(A1:A9)")
    assert {"p_calm", "p_excited", "p_neutral"} <= set(table.columns)


def _tiny_model(folder: Path) -> Path:
    """A small untrained ESERNet file with its own three labels."""
    import torch

    from model.bundle import ModelBundle
    from model.config import FeatureConfig
    from model.io import save_model
    from tests.model_helpers import tiny_config

    torch.manual_seed(0)
    bundle = ModelBundle.create(tiny_config(n_classes=3), FeatureConfig(n_mels=40), ["calm", "excited", "neutral"])
    bundle.metadata = {"name": "tiny"}
    return save_model(bundle, folder / "tiny.safetensors")


def test_progress_bar_on_a_terminal(files: dict[str, Path], tmp_path: Path) -> None:
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "esergui",
            "analyze",
            str(files["conversation"]),
            "--out",
            str(tmp_path),
            "--device",
            "cpu",
        ],
        cwd=ROOT,
        env=ENV,
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, text
    assert "\r" in text and "[####" in text and "100%" in text
