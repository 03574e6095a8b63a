"""Arousal/valence mapping (model.affect): ranges, the circumplex placement of EmoDB's classes,
any label order and label set, the high/low arousal grouping, the Utterance read-out, and the
measurement script on the committed speaker-independent predictions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from esergui.lesson import UNCERTAIN, Utterance
from model.affect import (
    COORDINATES,
    affect_from_probabilities,
    affect_matrix,
    coordinates,
    high_arousal_probability,
    high_low_arousal,
)
from model.inference import bundled_model_path
from model.io import read_model_file

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bundle_labels() -> list[str]:
    """The bundled model's labels, in its own order (read from the file, never assumed)."""
    meta, _ = read_model_file(bundled_model_path())
    return list(meta["labels"])


def test_every_bundled_label_has_a_point_in_range(bundle_labels: list[str]) -> None:
    assert sorted(bundle_labels) == sorted(["anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral"])
    for label in bundle_labels:
        point = coordinates(label)
        assert point is not None, label
        assert -1 <= point.arousal <= 1 and -1 <= point.valence <= 1
    for point in COORDINATES.values():
        assert math.hypot(point.arousal, point.valence) <= 1 + 1e-9


def test_circumplex_placement() -> None:
    for label in ("anger", "fear", "happiness", "disgust"):
        assert coordinates(label).arousal > 0 and high_low_arousal(label) == "high", label
    for label in ("boredom", "sadness"):
        assert coordinates(label).arousal < 0 and high_low_arousal(label) == "low", label
    assert coordinates("neutral") == (0.0, 0.0) and high_low_arousal("neutral") == "low"
    assert coordinates("happiness").valence > 0
    for label in ("anger", "fear", "disgust", "sadness", "boredom"):
        assert coordinates(label).valence < 0, label
    assert coordinates("anger").arousal > coordinates("disgust").arousal > coordinates("neutral").arousal
    assert coordinates("ANGRY") == coordinates("anger") and coordinates(" Sad ") == coordinates("sadness")
    assert coordinates("confused") is None and high_low_arousal("confused") is None and coordinates(None) is None


def test_expectation_is_in_range_and_ignores_label_order(bundle_labels: list[str]) -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(len(bundle_labels), 0.3), size=500)
    out = affect_matrix(probs, bundle_labels)
    assert out.shape == (500, 2) and np.all(np.abs(out) <= 1)
    perm = rng.permutation(len(bundle_labels))
    shuffled = affect_matrix(probs[:, perm], [bundle_labels[i] for i in perm])
    assert np.allclose(out, shuffled)
    one_hot = affect_matrix(np.eye(len(bundle_labels)), bundle_labels)
    for row, label in zip(one_hot, bundle_labels):
        assert tuple(row) == pytest.approx(tuple(coordinates(label)))
    # the dict form gives the same values as the matrix form
    first = affect_from_probabilities(dict(zip(bundle_labels, probs[0])))
    assert tuple(first) == pytest.approx(tuple(out[0]))
    # P(high) is the mass on anger, disgust, fear and happiness
    high = [i for i, x in enumerate(bundle_labels) if high_low_arousal(x) == "high"]
    assert np.allclose(high_arousal_probability(probs, bundle_labels), probs[:, high].sum(1))


def test_unknown_labels_are_left_out_and_renormalised() -> None:
    assert tuple(affect_from_probabilities({"anger": 0.25, "confused": 0.75})) == pytest.approx(
        tuple(coordinates("anger"))
    )
    mixed = affect_from_probabilities({"anger": 0.2, "sadness": 0.2, "other": 0.6})
    halfway = [(a + b) / 2 for a, b in zip(coordinates("anger"), coordinates("sadness"))]
    assert tuple(mixed) == pytest.approx(tuple(halfway))
    for nothing in ({"confused": 1.0}, {}, {"anger": 0.0, "other": 1.0}):
        assert all(math.isnan(v) for v in affect_from_probabilities(nothing)), nothing
    assert np.isnan(affect_matrix(np.array([[0.5, 0.5]]), ["x", "y"])).all()
    assert tuple(affect_matrix(np.array([[0.5, 0.5]]), ["x", "neutral"])[0]) == (0.0, 0.0)
    with pytest.raises(ValueError):
        affect_matrix(np.ones((1, 3)) / 3, ["anger", "sadness"])


def test_utterance_read_out_and_uncertain() -> None:
    probs = {"anger": 0.45, "sadness": 0.30, "neutral": 0.25}
    u = Utterance(0.0, 1.0, emotion="anger", confidence=0.45, probabilities=probs)
    assert u.arousal == pytest.approx(affect_from_probabilities(probs).arousal)
    assert u.is_uncertain() and u.counted_emotion() == UNCERTAIN and u.final_emotion == "anger"
    assert not u.is_uncertain(0.4) and u.counted_emotion(0.4) == "anger"
    confirmed = Utterance(0.0, 1.0, emotion="anger", confidence=0.45, probabilities=probs, human_emotion="happiness")
    assert not confirmed.is_uncertain() and confirmed.counted_emotion() == "happiness"
    assert (confirmed.arousal, confirmed.valence) == tuple(coordinates("happiness"))  # the person's label wins
    custom = Utterance(0.0, 1.0, emotion="anger", confidence=0.9, probabilities=probs, human_emotion="confused")
    assert custom.arousal is None and custom.valence is None
    bare = Utterance(0.0, 1.0)
    assert bare.arousal is None and not bare.is_uncertain() and bare.counted_emotion() is None
    damaged = Utterance(0.0, 1.0, probabilities={"anger": "x", "neutral": 1.0})  # type: ignore[dict-item]
    assert damaged.arousal == 0.0


def test_affect_eval_on_committed_predictions(tmp_path: Path) -> None:
    from bench.affect_eval import DEFAULT_CSV, main

    out = tmp_path / "affect.md"
    assert main([str(DEFAULT_CSV), "--out", str(out)]) == 0
    text = out.read_text()
    frame = pd.read_csv(DEFAULT_CSV)
    clean = frame[frame["condition"] == "clean"]
    # recompute the argmax-class figure here independently
    truth = clean["true"].map(high_low_arousal)
    pred = clean["pred"].map(high_low_arousal)
    ua = 100 * np.mean([np.mean(pred[truth == g] == g) for g in ("high", "low")])
    assert f"| clean | argmax class | {ua:.1f} |" in text


def test_affect_eval_perfect_and_missing_file(tmp_path: Path, bundle_labels: list[str]) -> None:
    from bench.affect_eval import main

    rows = []
    for k, label in enumerate(bundle_labels * 2):
        p = {f"p_{x}": float(x == label) for x in bundle_labels}
        rows.append(
            {
                "fold": k % 2,
                "condition": "clean",
                "file": f"{k}.wav",
                "speaker": "03",
                "true": label,
                "pred": label,
                **p,
            }
        )
    csv = tmp_path / "perfect.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    out = tmp_path / "perfect.md"
    assert main([str(csv), "--out", str(out)]) == 0
    text = out.read_text()
    for rule in ("argmax class", "P(high) > 0.5", "expected arousal > 0"):
        assert f"| clean | {rule} | 100.0 | 100.0 |" in text
    assert main([str(tmp_path / "missing.csv"), "--out", str(out)]) == 2
