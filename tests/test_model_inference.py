"""Inference: EmotionRecognizer on real EmoDB audio, chunking, progress/cancel, predict CLI,
and the bundled model."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import pytest
import soxr
import torch

from esergui.progress import Cancelled, CancelToken
from model.bundle import ModelBundle
from model.config import FeatureConfig
from model.data import emodb_items, load_audio
from model.errors import ModelFileError
from model.inference import EmotionRecognizer, bundled_model_path
from model.io import save_model
from tests.model_helpers import tiny_config

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    b = ModelBundle.create(tiny_config(n_classes=3), FeatureConfig(n_mels=40), ["anger", "sadness", "neutral"])
    b.metadata = {"name": "tiny"}
    return save_model(b, tmp_path_factory.mktemp("m") / "tiny.safetensors")


def test_predict_shapes_rates_and_order(tiny_model: Path, emodb: Path) -> None:
    rec = EmotionRecognizer.load(tiny_model, device="cpu")
    assert rec.labels == ["anger", "sadness", "neutral"] and rec.device_name == "CPU" and rec.model_name == "tiny"
    wavs = [load_audio(it.path) for it in emodb_items(emodb)[:5]]
    p = rec.predict(wavs)
    assert p.shape == (5, 3) and p.dtype == np.float32
    assert np.allclose(p.sum(1), 1, atol=1e-5)
    # order and batch size do not matter (batched by length internally)
    p_rev = rec.predict(wavs[::-1], batch_size=2)
    assert np.allclose(p_rev[::-1], p, atol=1e-5)
    single = rec.predict([wavs[2]])
    assert np.allclose(single[0], p[2], atol=1e-5)
    # another sample rate is resampled first
    p44 = rec.predict([soxr.resample(wavs[0], 16000, 44100)], sample_rate=44100)
    assert np.abs(p44[0] - p[0]).max() < 0.05
    assert rec.predict([]).shape == (0, 3)
    assert rec.predict([np.zeros(10, np.float32)]).shape == (1, 3)  # shorter than a window


def test_long_utterance_in_chunks_and_progress(tiny_model: Path, emodb: Path) -> None:
    rec = EmotionRecognizer.load(tiny_model, device="cpu")
    wavs = [load_audio(it.path) for it in emodb_items(emodb)[:4]]
    long = np.concatenate(wavs)  # ~10 s: longer than the 3 s training crop
    seen: list[float] = []
    p = rec.predict([long, wavs[0]], progress=lambda f, m: seen.append(f))
    assert p.shape == (2, 3) and np.isfinite(p).all()
    assert seen and seen[-1] == pytest.approx(1.0)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        rec.predict(wavs, cancel=token)


def test_missing_and_bad_model(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError):
        EmotionRecognizer.load(tmp_path / "none.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelFileError):
        EmotionRecognizer.load(bad)


def test_predict_command_writes_csv(tiny_model: Path, emodb: Path, tmp_path: Path) -> None:
    from esergui.commands import predict

    files = [it.path for it in emodb_items(emodb)[:3]]
    parser = argparse.ArgumentParser()
    predict.add_arguments(parser)
    out = tmp_path / "p.csv"
    assert (
        predict.run(parser.parse_args([*files, "--csv", str(out), "--model", str(tiny_model), "--device", "cpu"])) == 0
    )
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["file"] for r in rows] == files
    assert list(rows[0]) == ["file", "emotion", "confidence", "p_anger", "p_sadness", "p_neutral", "arousal", "valence"]
    for r in rows:
        probs = {k[2:]: float(v) for k, v in r.items() if k.startswith("p_")}
        assert -1.0 <= float(r["arousal"]) <= 1.0 and -1.0 <= float(r["valence"]) <= 1.0
        assert r["emotion"] == max(probs, key=probs.get)
        assert float(r["confidence"]) == pytest.approx(max(probs.values()), abs=1e-4)


def test_bundled_model(emodb: Path) -> None:
    assert bundled_model_path().is_file(), "the bundled model file is missing from model/weights/"
    rec = EmotionRecognizer.load(device="cpu")
    assert rec.labels == ["anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral"]
    assert bundled_model_path().stat().st_size < 8_000_000
    assert "evaluation" in rec.info and "training" in rec.info
    # sanity on clips the model was trained on: clearly better than chance (1/7)
    items = [it for it in emodb_items(emodb) if it.speaker == "03"][:21]
    p = rec.predict([load_audio(it.path) for it in items])
    acc = np.mean([rec.labels[k] == it.label for k, it in zip(p.argmax(1), items)])
    assert acc > 0.5


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="a working GPU is present; this checks what happens when CUDA fails"
)
def test_unusable_gpu_falls_back_to_the_cpu_with_a_warning(tiny_model: Path, emodb: Path) -> None:
    """Asking for CUDA where it cannot run (here: no driver or no CUDA build) warns and gives
    a CPU recognizer with the same predictions, never a crash."""
    wavs = [load_audio(it.path) for it in emodb_items(emodb)[:3]]
    with pytest.warns(UserWarning, match="using the CPU instead"):
        rec = EmotionRecognizer.load(tiny_model, device="cuda")
    assert rec.device_name == "CPU"
    np.testing.assert_allclose(
        rec.predict(wavs), EmotionRecognizer.load(tiny_model, device="cpu").predict(wavs), atol=1e-6
    )
