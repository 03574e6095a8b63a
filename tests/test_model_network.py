"""ESERNet network: shapes, padding invariance, masking, determinism, loss on real clips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model.config import VARIANTS, FeatureConfig, ModelConfig
from model.features import LogMel, n_frames
from model.masking import span_mask
from model.network import ESERNet, chunk_spans, pad_batch, predict_logits
from model.sformer import SFormer, pool_tokens
from tests.model_helpers import few_clips, tiny_config, tiny_train

torch.set_num_threads(1)


@pytest.mark.parametrize("variant", VARIANTS)
def test_shapes_and_padding_invariance(variant: str) -> None:
    torch.manual_seed(0)
    net = ESERNet(tiny_config(variant, n_classes=5)).eval()
    a, b = torch.randn(137, 40), torch.randn(251, 40)
    x, lengths = pad_batch([a, b])
    with torch.no_grad():
        alone = net(a[None], torch.tensor([137])).logits
        batch = net(x, lengths).logits
        # garbage in the padding must not matter either
        x2 = x.clone()
        x2[0, 137:] = 1e3
        batch2 = net(x2, lengths).logits
    assert batch.shape == (2, 5)
    assert torch.allclose(alone[0], batch[0], atol=1e-4)
    assert torch.allclose(batch, batch2, atol=1e-4)


def test_sformer_hierarchy_lengths() -> None:
    cfg = tiny_config("sformer")
    sf = SFormer(cfg).eval()
    x = torch.randn(2, 300, 40)
    valid = torch.zeros(2, 300, dtype=torch.bool)
    valid[0, :300] = True
    valid[1, :120] = True
    with torch.no_grad():
        out, v = sf(x, valid)
    # 3 s -> ceil(3000 / 800) = 4 utterance tokens; 1.2 s -> 2 real ones
    assert out.shape == (2, 4, cfg.sformer_dims[2])
    assert v.sum(1).tolist() == [4, 2]
    # window radius in tokens stays 2 but the window grows in time: 50 -> 250 -> 1000 ms
    spans = [step.radius * 2 * q for step, q in zip(sf.steps, (10, 50, 250))]
    assert spans == sorted(spans) and spans[0] < spans[-1]


def test_pool_tokens_is_masked_average() -> None:
    x = torch.arange(12, dtype=torch.float32).view(1, 12, 1)
    valid = torch.ones(1, 12, dtype=torch.bool)
    valid[0, 7:] = False
    pooled, v = pool_tokens(x, valid, 10, 50)  # 5 frames per token
    assert v.tolist() == [[True, True, False]]
    assert pooled[0, :2, 0].tolist() == [2.0, 5.5]  # mean(0..4), mean(5, 6)


def test_span_mask_rate_and_padding() -> None:
    g = torch.Generator().manual_seed(1)
    lengths = torch.tensor([300, 100])
    m = span_mask(lengths, 300, 0.15, 7, g)
    assert not m[1, 100:].any()
    assert 0.08 < m[0].float().mean() < 0.2
    # spans are contiguous runs of 7 (or longer when they touch)
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, m[0].int().numpy(), 0])))[::2]
    assert runs.min() >= 7


def test_masking_changes_recovery_only_where_masked() -> None:
    torch.manual_seed(0)
    net = ESERNet(tiny_config("esernet")).eval()
    x = torch.randn(1, 120, 40)
    lengths = torch.tensor([120])
    m = torch.zeros(1, 120, dtype=torch.bool)
    m[0, 30:37] = True
    with torch.no_grad():
        out = net(x, lengths, m)
        plain = net(x, lengths)
    assert out.recon is not None and out.recon.shape == (1, 120, 40)
    # the classifier sees the unmasked input: the logits do not depend on the mask
    assert torch.allclose(out.logits, plain.logits, atol=1e-5)
    x2 = x.clone()
    x2[0, 30:37] = 100.0  # masked frames are zeroed before the network sees them
    with torch.no_grad():
        out2 = net(x2, lengths, m)
    assert torch.allclose(out.recon, out2.recon, atol=1e-5)


def test_deterministic_under_seed(emodb) -> None:
    from model.train import train_model

    items = few_clips(emodb, per_label=1, speakers=("03", "08"))
    runs = [
        train_model(
            tiny_config(),
            items,
            labels=["anger", "sadness", "neutral"],
            train_config=tiny_train(epochs=1, seed=3),
            device="cpu",
        )
        for _ in range(2)
    ]
    a, b = (r.bundle.net.state_dict() for r in runs)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert runs[0].history[0].train_loss == runs[1].history[0].train_loss


def test_loss_decreases_on_real_clips(emodb) -> None:
    from model.data import load_waveforms

    torch.manual_seed(0)
    items = few_clips(emodb, per_label=2, speakers=("03", "08"))
    labels = ["anger", "sadness", "neutral"]
    wavs = [w[:24000] for w in load_waveforms(items)]
    fe = LogMel(FeatureConfig(n_mels=40))
    with torch.no_grad():
        fe.fit_normalisation([fe.raw(torch.from_numpy(w)[None])[0] for w in wavs])
        feats = [fe(torch.from_numpy(w)[None])[0] for w in wavs]
    x, lengths = pad_batch(feats)
    y = torch.tensor([labels.index(it.label) for it in items])
    net = ESERNet(tiny_config("esernet", n_classes=3))
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(12):
        m = span_mask(lengths, x.shape[1], 0.15, 7, g)
        out = net(x, lengths, m)
        loss, parts = net.loss(out, x, lengths, y, m)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert parts["mse"] > 0
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3])


def test_chunked_prediction_of_long_utterance() -> None:
    assert chunk_spans(100, 300) == [(0, 100)]
    spans = chunk_spans(700, 300)
    assert spans[0] == (0, 300) and spans[-1][1] == 700
    assert all(b - a == 300 for a, b in spans)
    torch.manual_seed(0)
    net = ESERNet(tiny_config("esernet", n_classes=4)).eval()
    long = torch.randn(700, 40)
    logp = predict_logits(net, [long, long[:200]], chunk_frames=300)
    assert logp.shape == (2, 4)
    assert torch.allclose(logp.exp().sum(1), torch.ones(2), atol=1e-5)
    # the long utterance is the length-weighted mean of its chunks' probabilities
    with torch.no_grad():
        ps = [torch.softmax(net(long[a:b][None], torch.tensor([b - a])).logits, 1)[0] for a, b in spans]
    expected = sum(p * 300 for p in ps) / (300 * len(ps))
    assert torch.allclose(logp[0].exp(), expected, atol=1e-5)


def test_logmel_frames_and_normalisation() -> None:
    cfg = FeatureConfig()
    fe = LogMel(cfg)
    wav = torch.randn(1, 16000) * 0.1
    f = fe(wav)
    assert f.shape == (1, n_frames(16000, cfg), 80) == (1, 101, 80)
    fe.fit_normalisation([fe.raw(wav)[0]])
    g = fe(wav)[0]
    assert abs(float(g.mean())) < 1e-3 and abs(float(g.std()) - 1) < 0.05


def test_config_rejects_unknown_variant() -> None:
    with pytest.raises(ValueError):
        ModelConfig(variant="resnet")
