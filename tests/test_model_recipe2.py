"""The second ESERNet recipe: prosody channels, mean + sd pooling, input statistics, temperature
calibration and the nested cross-validation protocol, on real EmoDB clips and tiny networks."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from model.bundle import ModelBundle
from model.calibration import (
    apply_temperature,
    fit_temperature,
    reliability,
    temperature_of,
)
from model.config import FeatureConfig
from model.data import load_waveforms
from model.evaluate import cross_validate
from model.inference import EmotionRecognizer
from model.prosody import PitchTracker
from model.recipes import RECIPES, get_recipe
from model.train import train_model
from tests.model_helpers import few_clips, tiny_config, tiny_train


def test_pitch_tracker_finds_the_period_of_tones_and_none_in_noise() -> None:
    tracker = PitchTracker()
    t = torch.arange(16000) / 16000
    for f0 in (90.0, 180.0, 350.0):  # with a strong second harmonic: no octave error
        x = torch.sin(2 * torch.pi * f0 * t) + 0.6 * torch.sin(2 * torch.pi * 2 * f0 * t)
        out = tracker(x[None])[0, 10:-10]
        assert out.shape[-1] == 3
        assert abs(float(torch.exp(out[:, 0] / out[:, 1]).median()) - f0) < 0.02 * f0
        assert float(out[:, 1].min()) > 0.9
    noise = tracker(torch.randn(1, 16000, generator=torch.Generator().manual_seed(0)) * 0.1)
    assert float(noise[0, :, 1].mean()) < 0.4
    silence = tracker(torch.zeros(1, 8000))
    assert float(silence[0, :, 1].abs().max()) == 0.0 and silence.shape[1] == 8000 // 160 + 1


def test_pitch_of_real_speech_is_in_the_voice_range(emodb: Path, tmp_path: Path) -> None:
    items = few_clips(emodb, per_label=1, labels=("neutral",), speakers=("03", "08"))  # a man, a woman
    wavs = load_waveforms(items, tmp_path)
    medians = []
    for w in wavs:
        out = PitchTracker()(torch.from_numpy(w)[None])[0]
        voiced = out[:, 1] > 0.6
        assert 0.3 < float(voiced.float().mean()) < 0.95
        medians.append(float(torch.exp(out[voiced, 0] / out[voiced, 1]).median()))
    assert 80 < medians[0] < 180 < medians[1] < 320, medians  # male lower than female


def test_prosody_channels_and_pooling_reach_the_network(emodb: Path, tmp_path: Path) -> None:
    fcfg = FeatureConfig(n_mels=40, normalisation="speaker", prosody=True)
    assert fcfg.n_channels == 43
    items = few_clips(emodb, per_label=2)
    res = train_model(
        tiny_config(pooling="mean_std", input_stats=True),
        items[:18],
        items[18:],
        train_config=tiny_train(epochs=1),
        feature_config=fcfg,
        device="cpu",
        cache_dir=tmp_path,
    )
    assert res.bundle.model_config.n_mels == 43 and res.bundle.features.mean.shape == (43,)
    path = tmp_path / "r2.safetensors"
    res.bundle.metadata["temperature"] = 0.7
    res.save(path)
    rec = EmotionRecognizer.load(path, device="cpu")
    assert rec.bundle.temperature == pytest.approx(0.7) and rec.bundle.feature_config.prosody
    probs = rec.predict(load_waveforms(items[18:], tmp_path), speakers=[it.speaker for it in items[18:]])
    assert probs.shape == (len(items) - 18, 3) and np.allclose(probs.sum(1), 1.0, atol=1e-4)
    with pytest.raises(ValueError, match="pooling"):
        tiny_config(pooling="max")


def test_temperature_fit_recovers_an_overconfident_model() -> None:
    rng = np.random.default_rng(0)
    n, c = 2000, 4
    logits = rng.normal(0, 1.5, (n, c))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = np.array([rng.choice(c, p=row) for row in p])  # labels drawn from softmax(logits): calibrated at T = 1 ...
    sharp = torch.log_softmax(torch.tensor(logits * 3.0), 1).numpy()  # ... made 3x overconfident
    t = fit_temperature(sharp, y)
    assert 2.5 < t < 3.5
    before = reliability(np.exp(sharp), y).ece
    after = reliability(np.exp(apply_temperature(torch.tensor(sharp), t).numpy()), y).ece
    assert after < 0.03 < before
    assert temperature_of({"temperature": "nan"}) == 1.0 and temperature_of({"temperature": 1e9}) == 1.0
    assert temperature_of({}) == 1.0 and fit_temperature(sharp[:1], y[:1]) == 1.0


def test_reliability_table_counts_and_ece() -> None:
    probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.55, 0.45]])
    rel = reliability(probs, [0, 1, 0, 0], bins=10)
    assert rel.counts.sum() == 4 and rel.counts[9] == 2 and rel.counts[5] == 2
    assert rel.ece == pytest.approx(0.5 * 0.45 + 0.5 * 0.45)
    assert "0.9-1.0" in rel.markdown()


def test_nested_protocol_trains_the_fold_model_on_every_training_speaker(emodb: Path, tmp_path: Path) -> None:
    """Epochs and temperature come from the inner split; the saved fold model saw all training speakers."""
    items = few_clips(emodb, per_label=2, speakers=("03", "08", "09", "10", "11", "13"))
    recipe = get_recipe("esernet2")
    fcfg = dataclasses.replace(recipe.features, n_mels=40)
    cross_validate(
        items,
        "speaker-pairs",
        "esernet",
        tmp_path / "cv",
        model_config=tiny_config(pooling="mean_std", input_stats=True),
        train_config=tiny_train(epochs=2, p_noise=0.0, p_gain=0.0),
        feature_config=fcfg,
        folds=[0],
        nested=True,
        device="cpu",
        cache_dir=tmp_path / "cache",
    )
    with open(tmp_path / "cv" / "folds.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["nested"] == "1" and 1 <= int(rows[0]["best_epoch"]) <= 2
    assert float(rows[0]["temperature"]) > 0 and rows[0]["inner_val_ua"] != ""
    from model.io import load_model

    fold_model = load_model(tmp_path / "cv" / "models" / "fold0.safetensors")
    training = fold_model.metadata["training"]
    assert training["n_val"] == 0 and len(training["train_speakers"]) == 4  # 6 speakers less the test pair
    assert training["epochs_run"] == int(rows[0]["best_epoch"])
    assert fold_model.temperature == pytest.approx(float(rows[0]["temperature"]), rel=1e-3)


def test_recipes_name_their_runs() -> None:
    r2 = RECIPES["esernet2"]
    assert r2.nested and r2.features.prosody and r2.network.pooling == "mean_std"
    assert r2.training.p_noise == 0.0 and RECIPES["esernet2-noise"].training.p_noise > 0
    assert r2.run_name("esernet") == "esernet2" and r2.run_name("st") == "esernet2-st"
    assert r2.run_name("esernet", prosody=False) == "esernet2-noprosody"
    assert not r2.with_prosody(False).features.prosody
    with pytest.raises(ValueError, match="Unknown recipe"):
        get_recipe("esernet3")
    bundle = ModelBundle.create(
        dataclasses.replace(r2.network, n_mels=r2.features.n_channels), r2.features, [f"c{i}" for i in range(7)]
    )
    assert bundle.features.pitch is not None


def test_models_dialog_headline_is_the_models_own_recipe_seed_zero_unseen_speakers() -> None:
    from esergui.models import _find_figures

    ev = {
        "esernet2-baseline/speaker-pairs": {"clean": {"ua": 0.78}},
        "esernet2/random10-s0": {"clean": {"ua": 0.80}},
        "esernet2/speaker-pairs-s1": {"clean": {"ua": 0.70}},
        "esernet2/speaker-pairs-s0": {"clean": {"ua": 0.743, "wa": 0.744, "n": 535}},
        "esernet-spknorm/speaker-pairs": {"clean": {"ua": 0.649}},
    }
    got = _find_figures(ev, "esernet", "speaker", "esernet2")
    assert got["ua"] == pytest.approx(0.743) and got["entry"] == "esernet2/speaker-pairs-s0"
    assert "unseen speakers" in got["on"]
    assert _find_figures(ev, "esernet", "speaker")["ua"] == pytest.approx(0.649)  # an older file: by variant
