"""Retraining, headless: data sources and the data report, label mapping, a real fine-tune on
an EmoDB subset with validation on held-out speakers, cancel, saving, and the CLI using the
new model."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from retrain_support import annotated_lesson, label_folder, starting_model, subset

from esergui import retrain as R
from esergui.models import ModelRegistry
from esergui.progress import Cancelled, CancelToken
from esergui.timefmt import format_duration
from esergui.workspace import Workspace
from model.data import load_audio
from model.io import load_model

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
LABELS3 = ("anger", "neutral", "sadness")
SPEAKERS = ("03", "08", "09", "10", "11", "12")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio-cache")


@pytest.fixture(scope="module")
def csv_list(emodb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CSV ``file,label,speaker`` of 36 EmoDB clips: 3 labels, 6 speakers, 2 clips each."""
    path = tmp_path_factory.mktemp("csv") / "list.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "label", "speaker"])
        for it in subset(emodb, LABELS3, SPEAKERS, 2):
            w.writerow([it.path, it.label, it.speaker])
    return path


@pytest.fixture(scope="module")
def finetuned(emodb: Path, csv_list: Path, cache: Path, tmp_path_factory: pytest.TempPathFactory):
    """A real fine-tune of the starting model (bundled, or the tiny stand-in) on the CSV data,
    two epochs, new label set of three labels; returns (plan, outcome, saved file)."""
    items = R.collect_items(R.DataSource("csv", str(csv_list)))
    rep = R.inspect_items(items, cache, source="csv")
    assert rep.ok, rep.text()
    lmap = R.LabelMap(R.suggest_mapping(list(rep.label_counts), []), keep_model_labels=False)
    labels = lmap.label_list(None)
    base = starting_model(emodb)
    plan = R.RetrainPlan(
        lmap.apply(rep.usable), labels, R.RetrainSettings(epochs=2), base, "start", cache, rep.summary(), lmap.mapping
    )
    epochs: list[tuple] = []
    fractions: list[float] = []
    outcome = R.run_retraining(plan, progress=lambda f, m: fractions.append(f), on_epoch=lambda *a: epochs.append(a))
    path = R.save_outcome(outcome, plan, tmp_path_factory.mktemp("out") / "school.safetensors", "school A")
    return plan, outcome, path, epochs, fractions


def test_finetune_reports_held_out_speaker_figures(finetuned) -> None:
    plan, out, path, epochs, fractions = finetuned
    assert plan.labels == list(LABELS3)
    train_spk = {it.speaker for it in out.train_items}
    val_spk = {it.speaker for it in out.val_items}
    assert val_spk and not train_spk & val_spk  # validation speakers never trained on
    assert len(out.train_items) + len(out.val_items) == 36
    assert len(epochs) == 2 and all(math.isfinite(e[4]) for e in epochs)
    assert fractions[-1] == 1.0 and all(0 <= f <= 1 for f in fractions)
    fig = out.figures
    assert fig.n == len(out.val_items) and 0 <= fig.ua <= 1 and 0 <= fig.wa <= 1
    assert set(fig.recall) <= set(LABELS3) and np.asarray(fig.confusion).sum() == fig.n
    assert out.base_figures is not None and out.base_figures.n == fig.n  # same validation clips
    assert out.ua_change == pytest.approx(fig.ua - out.base_figures.ua)
    assert "validation" in out.split and not out.cancelled
    print(
        f"\nvalidation ({', '.join(sorted(val_spk))}): UA {fig.ua:.3f} WA {fig.wa:.3f}; "
        f"starting model UA {out.base_figures.ua:.3f}"
    )


def test_saved_model_loads_and_registers(finetuned, tmp_path: Path) -> None:
    plan, out, path, _, _ = finetuned
    bundle = load_model(path)
    assert bundle.labels == list(LABELS3) and bundle.name == "school A"
    meta = bundle.metadata["retraining"]
    assert meta["validation"]["ua"] == pytest.approx(out.figures.ua)
    assert meta["data"]["clips"] == 36 and meta["settings"]["epochs"] == 2
    with Workspace.open(tmp_path / "ws") as ws:
        info = ModelRegistry(ws).import_file(path)
        assert info.name == "school A" and info.figures["ua"] == pytest.approx(out.figures.ua)
        assert "36 clips" in info.data and "base_ua" in info.figures


def test_predict_cli_uses_the_new_model(finetuned, emodb: Path, tmp_path: Path) -> None:
    _, _, path, _, _ = finetuned
    out = tmp_path / "pred.csv"
    clip = emodb / "wav" / "16b10Wb.wav"  # a speaker the model never heard
    proc = subprocess.run(
        [sys.executable, "-m", "esergui", "predict", str(clip), "--model", str(path), "--csv", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and rows[0]["emotion"] in LABELS3
    assert sorted(k for k in rows[0] if k.startswith("p_")) == [f"p_{lab}" for lab in LABELS3]


def test_cancel_keeps_the_best_epoch(emodb: Path, csv_list: Path, cache: Path) -> None:
    items = R.collect_items(R.DataSource("csv", str(csv_list)))
    labels = sorted(LABELS3)
    token = CancelToken()
    plan = R.RetrainPlan(
        items, labels, R.RetrainSettings(epochs=5, mode="classifier"), starting_model(emodb), cache_dir=cache
    )
    out = R.run_retraining(plan, cancel=token, on_epoch=lambda *a: token.cancel())
    assert out.cancelled and len(out.result.history) == 1 and out.figures.n == len(out.val_items)
    early = CancelToken()
    early.cancel()
    with pytest.raises(Cancelled):
        R.run_retraining(plan, cancel=early)


def test_data_report_finds_problems(emodb: Path, tmp_path: Path, cache: Path) -> None:
    root = label_folder(subset(emodb, ("anger", "sadness"), ("03",), 3), tmp_path / "data")
    (root / "anger" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    wav = load_audio(emodb / "wav" / "03a01Wa.wav")
    sf.write(str(root / "sadness" / "blip.wav"), wav[:3200], 16000)  # 0.2 s
    (root / "joy").mkdir()
    sf.write(str(root / "joy" / "one.flac"), wav, 16000)
    items = R.collect_items(R.DataSource("folder", str(root)))
    assert len(items) == 9
    rep = R.inspect_items(items, cache, source="folder")
    kinds = {(p.severity, p.kind) for p in rep.problems}
    assert ("warning", "unreadable") in kinds and ("warning", "too_short") in kinds
    assert ("error", "few_examples") in kinds  # 'joy' has one clip
    assert ("warning", "no_speakers") in kinds and not rep.ok
    unreadable = next(p for p in rep.problems if p.kind == "unreadable")
    assert [Path(f).name for f in unreadable.files] == ["broken.wav"]
    assert rep.label_counts == {"anger": 3, "joy": 1, "sadness": 3}
    assert rep.total_s == pytest.approx(sum(rep.durations[it.path] for it in rep.usable))
    # dropping the rare label fixes the only error
    lmap = R.LabelMap({"anger": "anger", "sadness": "sadness", "joy": None}, keep_model_labels=False)
    assert [p.severity for p in R.label_problems(lmap.apply(rep.usable))] == ["warning"]

    one_speaker = R.inspect_items(subset(emodb, ("anger", "sadness"), ("03",), 2), cache)
    assert any(p.kind == "one_speaker" for p in one_speaker.problems)
    with pytest.raises(R.RetrainError, match="does not exist"):
        R.collect_items(R.DataSource("folder", str(tmp_path / "nowhere")))


def test_emodb_folder_source(emodb: Path) -> None:
    items = R.collect_items(R.DataSource("emodb", str(emodb)))
    assert len(items) > 500 and {it.speaker for it in items} >= set(SPEAKERS)


def test_label_mapping_merge_and_drop() -> None:
    model = ["anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral"]
    sug = R.suggest_mapping(["Angry", "happy", "SAD", "calm", "frustrated"], model)
    assert sug == {
        "Angry": "anger",
        "happy": "happiness",
        "SAD": "sadness",
        "calm": "neutral",
        "frustrated": "frustrated",
    }
    lm = R.LabelMap(dict(sug))
    with pytest.raises(R.RetrainError, match="frustrated"):
        lm.label_list(model)
    lm.mapping["frustrated"] = "anger"  # merge
    assert lm.label_list(model) == model
    lm.mapping["happy"] = None  # drop
    assert lm.targets() == ["anger", "neutral", "sadness"]
    lm.keep_model_labels = False
    assert lm.label_list(model) == ["anger", "neutral", "sadness"]
    from model.data import Item

    items = [Item("a", "frustrated"), Item("b", "happy"), Item("c", "calm")]
    assert [(it.path, it.label) for it in lm.apply(items)] == [("a", "anger"), ("c", "neutral")]
    assert R.mapping_counts(items, lm.mapping) == {"anger": 1, "neutral": 1}


def test_workspace_annotations_become_clips(emodb: Path, tmp_path: Path, cache: Path) -> None:
    with Workspace.open(tmp_path / "ws") as ws:
        lid, clips, wavs, _ = annotated_lesson(ws, emodb, tmp_path)
        ws.create_utterance(lid, 0.1, 0.5)  # no emotion label: not training data
        assert R.human_label_counts(ws) == {lid: len(clips)}
        items = R.collect_items(R.DataSource("workspace"), ws)
        assert [it.label for it in items] == [it.label for it in clips]
        assert {it.speaker for it in items} == {"lesson_03_08: speaker 03", "lesson_03_08: speaker 08"}
        for it, w in zip(items, wavs):
            got = load_audio(it.path)
            n = min(len(got), len(w))
            assert abs(len(got) - len(w)) <= 2
            assert np.corrcoef(got[:n], w[:n])[0, 1] > 0.99
        rep = R.inspect_items(items, cache, source="workspace")
        assert rep.label_counts == {"anger": 4, "sadness": 4}
        # a second lesson whose audio disappeared: skipped, and said so
        lid2 = annotated_lesson(ws, emodb, tmp_path, ("09",), 1)[0]
        ws.audio_file(ws.lesson(lid2)).unlink()
        found: list = []
        items2 = R.collect_items(R.DataSource("workspace"), ws, problems=found)
        assert len(items2) == len(items) and [p.kind for p in found] == ["missing_audio"]
        assert "missing" in R.inspect_items(items2, cache, problems=found).problems[0].message
    with Workspace.open(tmp_path / "empty") as ws2:
        with pytest.raises(R.RetrainError, match="human emotion label"):
            R.collect_items(R.DataSource("workspace"), ws2)


def test_speed_is_measured_and_estimate_scales(emodb: Path, csv_list: Path, cache: Path) -> None:
    items = R.collect_items(R.DataSource("csv", str(csv_list)))
    speed = R.measure_speed(
        items, sorted(LABELS3), R.RetrainSettings(mode="classifier"), starting_model(emodb), cache, sample=16
    )
    assert 0 < speed.train_s_per_clip < 5 and 0 < speed.val_s_per_clip < 5 and speed.device.startswith("CPU")
    per_epoch = 400 * speed.train_s_per_clip + 100 * speed.val_s_per_clip
    one = R.estimate_seconds(400, 100, 1, speed)
    assert one > per_epoch
    assert R.estimate_seconds(400, 100, 10, speed) - one == pytest.approx(9 * per_epoch)
    assert format_duration(42) == "42 s" and format_duration(600) == "10 min"
