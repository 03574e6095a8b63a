"""The rules for honest retraining results (esergui.retrain_evidence): minimum validation
size, intervals, same-protocol comparison only, activation by default only on clear evidence."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from esergui.retrain_evidence import (
    MIN_CLIPS,
    Evidence,
    activation,
    assess,
    assess_outcome,
    comparable,
    registry_protocol,
    restrict,
    ua_difference,
    validation_protocol,
    wilson,
)
from model.data import Item
from model.metrics import compute_figures

LABELS = ["anger", "neutral", "sadness"]


def figures(per_class: dict[str, tuple[int, int]], labels=LABELS):
    """Real :class:`model.metrics.Figures` where class ``c`` has ``n`` clips, ``k`` right
    (the wrong ones predicted as the next label)."""
    y_true, y_pred = [], []
    for c, (n, k) in per_class.items():
        i = labels.index(c)
        y_true += [i] * n
        y_pred += [i] * k + [(i + 1) % len(labels)] * (n - k)
    return compute_figures(y_true, y_pred, labels)


def test_six_clips_at_100_percent_are_too_few_to_measure():
    # the case: "UA 100 %, +33 points" from 6 validation clips
    new = assess(figures({"anger": (2, 2), "neutral": (2, 2), "sadness": (2, 2)}), "validation:x")
    base = assess(figures({"anger": (2, 2), "neutral": (2, 1), "sadness": (2, 1)}), "validation:x")
    assert not new.sufficient
    assert new.text() == f"too few to measure: 6 validation clips (at least {MIN_CLIPS} needed)"
    decision = activation(new, base)
    assert not decision.activate and "too few to measure" in decision.reason


def test_every_class_needs_three_clips():
    ev = assess(figures({"anger": (30, 25), "neutral": (12, 10), "sadness": (2, 2)}), "p")
    assert ev.n == 44 and not ev.sufficient
    assert ev.reason == "too few to measure: sadness has fewer than 3 validation clips"
    ok = assess(figures({"anger": (30, 25), "neutral": (12, 10), "sadness": (3, 2)}), "p")
    assert ok.sufficient and ok.reason == ""


def test_accuracy_interval_is_the_wilson_score_interval():
    k, n, z = 21, 30, 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    ci = wilson(k, n)
    assert (ci.low, ci.high) == (pytest.approx(centre - half, abs=1e-9), pytest.approx(centre + half, abs=1e-9))
    assert ci.text() == "52-83 %"
    ev = assess(figures({"anger": (10, 7), "neutral": (10, 7), "sadness": (10, 7)}), "p")
    assert (ev.wa_interval.low, ev.wa_interval.high) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_ua_interval_holds_the_figure_stays_open_at_100_percent_and_narrows_with_data():
    small = assess(figures({"anger": (10, 8), "neutral": (10, 6), "sadness": (10, 9)}), "p")
    big = assess(figures({"anger": (100, 80), "neutral": (100, 60), "sadness": (100, 90)}), "p")
    assert small.ua == pytest.approx(23 / 30) and big.ua == pytest.approx(0.7667, abs=1e-3)
    for ev in (small, big):
        assert ev.ua_interval.low < ev.ua < ev.ua_interval.high
    assert big.ua_interval.high - big.ua_interval.low < 0.5 * (small.ua_interval.high - small.ua_interval.low)
    perfect = assess(figures({"anger": (10, 10), "neutral": (10, 10), "sadness": (10, 10)}), "p")
    assert perfect.ua == 1.0 and 0.85 < perfect.ua_interval.low < 0.99  # a clip bootstrap would say [1, 1]
    assert assess(figures({"anger": (10, 8), "neutral": (10, 6), "sadness": (10, 9)}), "p") == small  # seeded
    assert "UA 77 % (95 % interval" in small.text() and small.text().endswith(", 30 clips")


def test_figures_of_different_protocols_are_never_compared():
    items = [Item(f"/data/{i}.wav", LABELS[i % 3], speaker=str(i % 4)) for i in range(40)]
    key = validation_protocol(items)
    assert key == validation_protocol(list(reversed(items))) and key.startswith("validation:")
    assert key != validation_protocol(items[:-1])
    retrained = assess(figures({"anger": (14, 12), "neutral": (13, 11), "sadness": (13, 12)}), key)
    bundled = {
        "ua": 0.649,
        "wa": 0.667,
        "on": "cross-validated on unseen speakers",
        "entry": "esernet-spknorm/speaker-pairs",
    }
    cross_validated = assess(
        figures({"anger": (100, 60), "neutral": (100, 70), "sadness": (100, 65)}), registry_protocol(bundled)
    )
    assert registry_protocol(bundled) == "esernet-spknorm/speaker-pairs" and registry_protocol({}) == ""
    assert not comparable(retrained, cross_validated)
    with pytest.raises(ValueError, match="different protocols"):
        ua_difference(retrained, cross_validated)
    decision = activation(retrained, cross_validated)
    assert not decision.activate and "another protocol" in decision.reason


def test_activated_by_default_only_when_clearly_better_on_the_same_clips():
    clear = activation(
        assess(figures({"anger": (20, 18), "neutral": (20, 18), "sadness": (20, 17)}), "v"),
        assess(figures({"anger": (20, 10), "neutral": (20, 11), "sadness": (20, 9)}), "v"),
    )
    assert clear.activate and clear.difference.low > 0 and clear.reason.startswith("Activated by default")
    slight = activation(
        assess(figures({"anger": (20, 15), "neutral": (20, 14), "sadness": (20, 15)}), "v"),
        assess(figures({"anger": (20, 14), "neutral": (20, 14), "sadness": (20, 14)}), "v"),
    )
    assert not slight.activate and slight.difference.low < 0 < slight.difference.high
    assert "not clearly better" in slight.reason and "UA +3.3 points" in slight.reason
    alone = activation(assess(figures({"anger": (20, 18), "neutral": (20, 18), "sadness": (20, 17)}), "v"), None)
    assert not alone.activate and "no figure" in alone.reason


def test_a_run_is_judged_on_the_clips_both_models_know():
    val = [Item(f"/v/{i}.wav", label) for i, label in enumerate(["anger"] * 15 + ["neutral"] * 15 + ["calm"] * 10)]
    new_labels = LABELS[:2] + ["calm"]
    new = figures({"anger": (15, 14), "neutral": (15, 14), "calm": (10, 9)}, new_labels)
    base = figures({"anger": (15, 7), "neutral": (15, 8)}, LABELS)  # the starting model knows no "calm"
    run = SimpleNamespace(figures=new, base_figures=base, val_items=val)
    ev = assess_outcome(run)
    assert ev.new.n == 40 and ev.base.n == 30 and ev.new_same.n == 30
    assert ev.base.protocol == ev.new_same.protocol != ev.new.protocol
    assert ev.decision.activate
    assert restrict(new, ["anger"])["confusion"][1] == [0, 0, 0]
    scratch = assess_outcome(SimpleNamespace(figures=new, base_figures=None, val_items=val))
    assert scratch.base is None and not scratch.decision.activate
    assert isinstance(scratch.new, Evidence) and scratch.to_dict()["new"]["protocol"] == ev.new.protocol


def test_a_saved_model_file_carries_its_evidence(emodb, tmp_path):
    """save_outcome writes the evidence into the model file (a real tiny model, read back)."""
    from esergui.retrain import RetrainOutcome, RetrainPlan, save_outcome
    from model.io import load_model
    from model.train import TrainResult
    from tests.retrain_support import tiny_model

    val = [Item(f"/v/{i}.wav", label) for i, label in enumerate(["anger"] * 3 + ["neutral"] * 3)]
    new = figures({"anger": (3, 3), "neutral": (3, 3)})
    base = figures({"anger": (3, 2), "neutral": (3, 2)})
    outcome = RetrainOutcome(
        TrainResult(load_model(tiny_model(emodb))), [], val, new, base, "base on the same 6 clips", "validation 6 clips"
    )
    path = save_outcome(outcome, RetrainPlan([], LABELS), tmp_path / "m.safetensors", "school")
    evidence = load_model(path).metadata["retraining"]["evidence"]
    assert evidence["new"]["protocol"] == validation_protocol(val) and not evidence["new"]["sufficient"]
    assert evidence["decision"]["activate"] is False and "too few to measure" in evidence["decision"]["reason"]
