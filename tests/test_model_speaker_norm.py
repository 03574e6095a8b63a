"""Speaker normalisation (``FeatureConfig(normalisation="speaker")``): statistics, training,
inference, the pipeline hook and the baseline's per-speaker standardisation, on real EmoDB clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from model.baseline import speaker_standardise
from model.bundle import ModelBundle
from model.config import FeatureConfig
from model.data import load_waveforms
from model.features import SpeakerStats
from model.inference import EmotionRecognizer
from model.io import load_model
from model.train import train_model
from tests.model_helpers import few_clips, tiny_config, tiny_train


def _features(prior_s: float = 3.0) -> FeatureConfig:
    return FeatureConfig(n_mels=40, normalisation="speaker", speaker_prior_s=prior_s)


def test_stats_shrink_towards_the_global_statistics() -> None:
    bundle = ModelBundle.create(tiny_config(n_classes=2), _features(prior_s=1.0), ["a", "b"])
    bundle.features.mean.fill_(-5.0)
    bundle.features.std.fill_(2.0)
    stats = SpeakerStats(bundle.features)
    mean, std = stats.get("nobody")
    assert torch.allclose(mean, torch.full((40,), -5.0)) and torch.allclose(std, torch.full((40,), 2.0))
    own = torch.randn(10_000, 40, generator=torch.Generator().manual_seed(0)) * 0.5 + 3.0
    stats.add("long", own)
    mean, std = stats.get("long")  # 100 s of frames against a 1 s prior: nearly their own
    assert torch.allclose(mean, torch.full((40,), 3.0), atol=0.15)
    assert bool((std > own.std(0)).all())  # the prior's spread and offset widen it a little
    stats.add("short", own[:100])  # exactly as long as the prior: the midpoint of the means
    assert torch.allclose(stats.get("short")[0], (own[:100].mean(0) - 5.0) / 2, atol=1e-4)
    assert stats.frames("short") == 100 and "short" in stats and "other" not in stats
    with pytest.raises(ValueError, match="normalisation"):
        FeatureConfig(normalisation="per-file")
    with pytest.raises(ValueError, match="speaker_prior_s"):
        FeatureConfig(normalisation="speaker", speaker_prior_s=0.0)


@pytest.fixture(scope="module")
def speaker_model(emodb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    items = few_clips(emodb, per_label=2)
    res = train_model(
        tiny_config(),
        items[:18],
        items[18:],
        train_config=tiny_train(epochs=1),
        feature_config=_features(prior_s=0.01),
        device="cpu",
        cache_dir=tmp_path_factory.mktemp("c"),
    )
    path = tmp_path_factory.mktemp("m") / "spk.safetensors"
    res.save(path)
    return path


def test_speaker_model_round_trips_and_cancels_a_speakers_level(
    speaker_model: Path, emodb: Path, tmp_path: Path
) -> None:
    """A whole speaker recorded 12 dB quieter (another microphone distance) shifts every
    log-mel bin by the same constant, which that speaker's own statistics remove: the
    speaker-normalised model's output stays the same (to the log floor's effect on silent
    bins), far more so than the same network's with the global statistics."""
    bundle = load_model(speaker_model)
    assert bundle.feature_config.normalisation == "speaker"
    rec = EmotionRecognizer.load(speaker_model, device="cpu")
    assert rec.speaker_normalised
    items = few_clips(emodb, per_label=2, speakers=("11",))
    wavs = load_waveforms(items, tmp_path)
    speakers = ["11"] * len(wavs)
    loud = rec.predict(wavs, speakers=speakers)
    quiet = rec.predict([w * 0.25 for w in wavs], speakers=speakers)
    spk_change = np.abs(loud - quiet).max()
    # The same network fed globally normalised features (the level left in) for comparison.
    import dataclasses

    rec.bundle.feature_config = dataclasses.replace(bundle.feature_config, normalisation="global")
    global_change = np.abs(rec.predict(wavs) - rec.predict([w * 0.25 for w in wavs])).max()
    rec.bundle.feature_config = bundle.feature_config
    assert spk_change < 1e-2 and spk_change < 0.25 * global_change, (spk_change, global_change)
    # Statistics gathered part by part (as the pipeline does) equal those of one call.
    stats = rec.speaker_stats(wavs[:3], speakers[:3])
    stats = rec.speaker_stats(wavs[3:], speakers[3:], stats=stats)
    np.testing.assert_allclose(rec.predict(wavs[:2], speakers=speakers[:2], stats=stats), loud[:2], atol=1e-5)
    # Utterances of unknown speakers are normalised on their own, whatever came before with
    # the same statistics object (the pipeline reuses one over a lesson's batches).
    before = stats.frames("11")
    first = rec.predict(wavs[:1], speakers=[None], stats=stats)
    second = rec.predict(wavs[1:2], speakers=[None], stats=stats)
    np.testing.assert_allclose(first, rec.predict(wavs[:1]), atol=1e-6)
    np.testing.assert_allclose(second, rec.predict(wavs[1:2]), atol=1e-6)
    assert stats.frames("11") == before and ("utterance", 0) not in stats
    # With only two of the speaker's clips, their statistics differ, and so may the output:
    # the speaker's voice is read against what was heard of that speaker.
    alone = rec.predict(wavs[:2], speakers=speakers[:2])
    assert not np.allclose(alone, loud[:2], atol=1e-6)


def test_pipeline_normalises_by_attributed_speaker(speaker_model: Path, emodb: Path, tmp_path: Path) -> None:
    """``esergui analyze`` with a speaker-normalised model: each utterance is read against its
    attributed speaker's statistics over the whole lesson, however the lesson is batched."""
    import soundfile as sf

    from esergui.pipeline import Pipeline, PipelineSettings

    items = few_clips(emodb, per_label=1, speakers=("03", "16"))
    wavs = load_waveforms(items, tmp_path)
    gap = np.zeros(8000, np.float32)
    audio = np.concatenate([x for w in wavs for x in (w, gap)])
    path = tmp_path / "lesson.wav"
    sf.write(path, audio, 16000)
    rec = EmotionRecognizer.load(speaker_model, device="cpu")
    results = []
    for batch_s in (1.0, 600.0):
        pipe = Pipeline(PipelineSettings(model_path=str(speaker_model), device="cpu", batch_s=batch_s), recognizer=rec)
        results.append(pipe.analyze(path))
    a, b = results
    assert len(a.utterances) == len(b.utterances) >= 4
    assert {u.speaker for u in a.utterances} - {None}
    for ua, ub in zip(a.utterances, b.utterances):
        assert ua.emotion == ub.emotion
        assert ua.probabilities == pytest.approx(ub.probabilities, abs=1e-5)


def test_baseline_standardises_each_speaker() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(5, 2, (20, 3)), rng.normal(-1, 0.5, (10, 3)), rng.normal(0, 1, (1, 3))])
    keys = ["a"] * 20 + ["b"] * 10 + ["c"]
    out = speaker_standardise(x, keys)
    for _speaker, sl in (("a", slice(0, 20)), ("b", slice(20, 30))):
        np.testing.assert_allclose(out[sl].mean(0), 0, atol=1e-9)
        np.testing.assert_allclose(out[sl].std(0), 1, atol=1e-9)
    np.testing.assert_allclose(out[30], 0)  # one row: centred, not scaled
    np.testing.assert_allclose(x[0], out[0] * x[:20].std(0) + x[:20].mean(0))  # input untouched


def test_baseline_context_rows_count_towards_a_speakers_statistics() -> None:
    """random10 tests a speaker also seen in training: their unlabelled training rows join
    the few test rows' statistics (and nothing else's)."""
    rng = np.random.default_rng(1)
    test, ctx = rng.normal(3, 1, (4, 3)), rng.normal(0, 2, (40, 3))
    out = speaker_standardise(test, ["a"] * 4, ctx, ["a"] * 20 + ["z"] * 20)
    rows = np.concatenate([test, ctx[:20]])
    np.testing.assert_allclose(out, (test - rows.mean(0)) / rows.std(0))
    np.testing.assert_allclose(
        speaker_standardise(test, ["a"] * 4, ctx[20:], ["z"] * 20), speaker_standardise(test, ["a"] * 4)
    )


def test_context_clips_join_a_speakers_statistics_without_being_classified(speaker_model: Path, emodb: Path) -> None:
    """Predicting clips with unlabelled context clips of their speaker equals predicting
    everything together and keeping the clips' rows; another speaker's context changes nothing."""
    from model.evaluate import predict_waveforms

    bundle = load_model(speaker_model, "cpu")
    items = [it for it in few_clips(emodb, per_label=3) if it.speaker]
    wavs = load_waveforms(items)
    keys = [it.speaker for it in items]
    spk = keys[0]
    mine = [i for i, k in enumerate(keys) if k == spk]
    assert len(mine) >= 3, "need a speaker with three clips"
    test, ctx = mine[:1], mine[1:]
    together = predict_waveforms(bundle, [wavs[i] for i in mine], keys=[spk] * len(mine))[:1]
    alone = predict_waveforms(bundle, [wavs[test[0]]], keys=[spk])
    with_ctx = predict_waveforms(
        bundle, [wavs[test[0]]], keys=[spk], context=[wavs[i] for i in ctx], context_keys=[spk] * len(ctx)
    )
    np.testing.assert_allclose(with_ctx, together, atol=1e-5)
    assert not np.allclose(with_ctx, alone, atol=1e-4)
    others = [i for i, k in enumerate(keys) if k != spk]
    foreign = predict_waveforms(
        bundle, [wavs[test[0]]], keys=[spk], context=[wavs[i] for i in others], context_keys=[keys[i] for i in others]
    )
    np.testing.assert_allclose(foreign, alone, atol=1e-6)


def test_evaluation_and_the_app_predict_alike(emodb: Path) -> None:
    """The cross-validation figures come from model.evaluate.predict_waveforms; the app uses
    EmotionRecognizer.predict. On the bundled model (speaker-normalised, temperature-scaled) both
    give the same probabilities for the same clips and speakers, so the card's figures are the
    app's."""
    from model.evaluate import predict_waveforms
    from model.inference import EmotionRecognizer

    rec = EmotionRecognizer.load(device="cpu")
    items = [it for it in few_clips(emodb, per_label=2) if it.speaker]
    wavs = load_waveforms(items)
    keys = [it.speaker for it in items]
    app = rec.predict(wavs, speakers=keys)
    evaluation = predict_waveforms(rec.bundle, wavs, keys=keys)
    np.testing.assert_allclose(evaluation, app, atol=1e-4)
