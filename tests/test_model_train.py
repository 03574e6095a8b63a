"""Training API: callbacks, cancel keeps the best model, fine-tuning, evaluation figures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from esergui.progress import Cancelled, CancelToken
from model.errors import DatasetError, ModelError
from model.fine_tune import fine_tune
from model.metrics import compute_figures
from model.train import train_model
from tests.model_helpers import few_clips, tiny_config, tiny_train

torch.set_num_threads(1)
LABELS = ["anger", "sadness", "neutral"]


@pytest.fixture(scope="module")
def clips(emodb: Path):
    items = few_clips(emodb, per_label=1)
    return [it for it in items if it.speaker in ("03", "08", "09")], [it for it in items if it.speaker == "10"]


def test_train_reports_progress_epochs_and_metadata(clips, tmp_path: Path) -> None:
    train, val = clips
    fractions, epochs = [], []
    res = train_model(
        tiny_config(),
        train,
        val,
        labels=LABELS,
        train_config=tiny_train(epochs=2),
        device="cpu",
        progress=lambda f, m: fractions.append(f),
        on_epoch=lambda *a: epochs.append(a),
    )
    assert [e[0] for e in epochs] == [1, 2]
    assert all(0 <= v <= 1 for e in epochs for v in e[3:])
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert res.best_epoch in (1, 2) and not res.cancelled
    meta = res.bundle.metadata["training"]
    assert meta["n_train"] == len(train) and meta["val_speakers"] == ["10"] and meta["epochs_run"] == 2
    assert res.bundle.labels == LABELS
    path = res.save(tmp_path / "m.safetensors")
    from model.inference import EmotionRecognizer

    rec = EmotionRecognizer.load(path, device="cpu")
    assert rec.info["training"]["best_epoch"] == res.best_epoch


def test_cancel_keeps_best_model_so_far(clips) -> None:
    train, val = clips
    token = CancelToken()
    res = train_model(
        tiny_config(),
        train,
        val,
        labels=LABELS,
        train_config=tiny_train(epochs=5),
        device="cpu",
        cancel=token,
        on_epoch=lambda epoch, *a: token.cancel() if epoch == 1 else None,
    )
    assert res.cancelled and len(res.history) == 1 and res.best_epoch == 1
    token2 = CancelToken()
    token2.cancel()
    with pytest.raises(Cancelled):  # nothing trained yet: the cancellation propagates
        train_model(tiny_config(), train, val, labels=LABELS, train_config=tiny_train(), device="cpu", cancel=token2)


def test_bad_training_data(clips, tmp_path: Path) -> None:
    train, _ = clips
    with pytest.raises(DatasetError, match="two classes"):
        train_model(tiny_config(), [it for it in train if it.label == "anger"], device="cpu")
    with pytest.raises(DatasetError, match="not in the model"):
        train_model(tiny_config(), train, labels=["anger", "sadness"], device="cpu")
    with pytest.raises(ModelError):
        train_model(tiny_config(), train, labels=LABELS, train_config=tiny_train(optimizer="lbfgs"), device="cpu")


def test_fine_tune_classifier_with_new_labels(clips, tmp_path: Path) -> None:
    train, val = clips
    base = train_model(tiny_config(), train, labels=LABELS, train_config=tiny_train(epochs=1), device="cpu")
    base_path = base.save(tmp_path / "base.safetensors")
    # a new label set: "angry"/"calm" as a school's own scheme
    relabel = {"anger": "angry", "sadness": "calm", "neutral": "calm"}
    new_items = [type(it)(it.path, relabel[it.label], it.speaker, it.gender) for it in train + val]
    frozen_before = {k: v.clone() for k, v in base.bundle.net.state_dict().items() if not k.startswith("classifier.")}
    res = fine_tune(base_path, new_items, mode="classifier", train_config=tiny_train(epochs=1), device="cpu")
    assert res.bundle.labels == ["angry", "calm"] and res.bundle.model_config.n_classes == 2
    after = res.bundle.net.state_dict()
    assert all(torch.equal(after[k], v) for k, v in frozen_before.items())
    assert res.bundle.metadata["training"]["trainable"] == "classifier"
    full = fine_tune(base_path, train, mode="full", train_config=tiny_train(epochs=1), device="cpu")
    assert full.bundle.labels == LABELS
    assert any(not torch.equal(full.bundle.net.state_dict()[k], v) for k, v in frozen_before.items())


def test_figures() -> None:
    fig = compute_figures([0, 0, 0, 1, 2, 2], [0, 0, 1, 1, 2, 0], ["a", "b", "c"])
    assert fig.wa == pytest.approx(4 / 6)
    assert fig.ua == pytest.approx((2 / 3 + 1 + 1 / 2) / 3)
    assert fig.confusion == [[2, 1, 0], [0, 1, 0], [1, 0, 1]]
    assert fig.recall == pytest.approx({"a": 2 / 3, "b": 1.0, "c": 0.5})
    f1 = [2 * (2 / 3) * (2 / 3) / (4 / 3), 2 * 1 * 0.5 / 1.5, 2 * 0.5 * 1 / 1.5]
    assert fig.macro_f1 == pytest.approx(np.mean(f1))
    assert math.isnan(compute_figures([], [], ["a"]).wa)


def test_egemaps_svm_baseline(clips) -> None:
    from model.baseline import SvmBaseline, egemaps
    from model.data import load_waveforms

    train, val = clips
    x_tr, x_va = egemaps(load_waveforms(train)), egemaps(load_waveforms(val))
    assert x_tr.shape == (len(train), 88) and np.isfinite(x_tr).all()
    y_tr = np.array([LABELS.index(it.label) for it in train])
    y_va = np.array([LABELS.index(it.label) for it in val])
    svm = SvmBaseline().fit(x_tr, y_tr, x_va, y_va)
    p = svm.predict_proba(x_va, 3)
    assert p.shape == (len(val), 3) and np.allclose(p.sum(1), 1)
    assert set(svm.predict(x_va)) <= {0, 1, 2}
