"""ESERNet and its ablation variants, built from one :class:`ModelConfig`.

``ESERNet(cfg)(feats, lengths, time_mask=None)``:
feats ``(B, T, n_mels)`` normalised log-mel, lengths ``(B,)`` frames, optional time mask
``(B, T)`` bool for the cue pathway's recovery task (training only). Returns
:class:`NetOutput` with ``logits`` ``(B, C)`` and, when a mask was given and the variant has the
cue pathway, ``recon`` ``(B, T, n_mels)``.

Variants: ``st`` (frame embedding + ``st_layers`` plain Transformer blocks), ``sformer``
(relationship pathway), ``st_cue`` (ST fused with the cue pathway), ``esernet`` (S-former fused
with the cue pathway).

Fusion: the cue pathway is run on the *unmasked* input; its hidden sequence is mean-pooled over
real frames and concatenated with the mean-pooled output of the relationship pathway (S-former
or ST); the classifier is Linear -> GELU -> Dropout -> Linear on that concatenation. During
training the cue pathway is run a second time on the masked input for the recovery loss, and
both passes share weights, so the recovery task shapes the features the classifier sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from model.calibration import apply_temperature
from model.config import ModelConfig
from model.cue import CuePathway, recovery_loss
from model.features import lengths_mask
from model.layers import Block, masked_mean, masked_mean_std, padding_allow, sinusoid
from model.sformer import SFormer


@dataclass
class NetOutput:
    logits: torch.Tensor  # (B, C)
    recon: torch.Tensor | None = None  # (B, T, n_mels) recovery of the masked input


class PlainTransformer(nn.Module):
    """ST: frame embedding + sinusoidal positions + full-attention blocks, ``(B, T, D)``."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.embed = nn.Linear(cfg.n_mels, cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg.dim, cfg.heads, cfg.ffn_mult, cfg.dropout) for _ in range(cfg.st_layers))
        self.out_dim = cfg.dim

    def forward(self, s: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``s`` ``(B, T, n_mels)``, ``valid`` ``(B, T)`` -> ``(B, T, dim)`` and ``valid``."""
        x = self.embed(s) + sinusoid(torch.arange(s.shape[1], device=s.device), self.out_dim)[None]
        allow = padding_allow(valid)
        for blk in self.blocks:
            x = blk(x, allow)
        return x, valid


class ESERNet(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.relation: nn.Module = SFormer(cfg) if cfg.has_sformer else PlainTransformer(cfg)
        self.cue = CuePathway(cfg) if cfg.has_cue else None
        widen = 2 if cfg.pooling == "mean_std" else 1
        fused = widen * (self.relation.out_dim + (cfg.dim if self.cue is not None else 0))
        self.input_norm = nn.LayerNorm(2 * cfg.n_mels) if cfg.input_stats else None
        fused += 2 * cfg.n_mels if cfg.input_stats else 0
        self.classifier = nn.Sequential(
            nn.Linear(fused, cfg.classifier_hidden),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.classifier_hidden, cfg.n_classes),
        )

    def _pool(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """``(B, T, D)`` -> ``(B, D)`` (mean) or ``(B, 2D)`` (mean and standard deviation)."""
        if self.cfg.pooling == "mean_std":
            return torch.cat(masked_mean_std(x, valid), dim=1)
        return masked_mean(x, valid)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor, time_mask: torch.Tensor | None = None) -> NetOutput:
        """feats ``(B, T, n_mels)`` normalised input channels, lengths ``(B,)`` real frames,
        time_mask ``(B, T)`` bool frames to mask for the recovery task (training only) ->
        :class:`NetOutput` (``logits`` ``(B, C)``; ``recon`` ``(B, T, n_mels)`` with a mask)."""
        valid = lengths_mask(lengths, feats.shape[1])
        rel, rel_valid = self.relation(feats, valid)
        parts = [self._pool(rel, rel_valid)]
        recon = None
        if self.cue is not None:
            if time_mask is None:
                hidden, _ = self.cue(feats, valid, None)  # unmasked input -> fused
            else:  # both passes in one batch: [unmasked; masked]
                b = feats.shape[0]
                hidden2, recon2 = self.cue(
                    torch.cat([feats, feats]),
                    torch.cat([valid, valid]),
                    torch.cat([torch.zeros_like(time_mask), time_mask]),
                )
                hidden, recon = hidden2[:b], recon2[b:]
            parts.append(self._pool(hidden, valid))
        if self.input_norm is not None:
            parts.append(self.input_norm(torch.cat(masked_mean_std(feats, valid), dim=1)))
        return NetOutput(self.classifier(torch.cat(parts, dim=1)), recon)

    def loss(
        self,
        out: NetOutput,
        feats: torch.Tensor,
        lengths: torch.Tensor,
        labels: torch.Tensor,
        time_mask: torch.Tensor | None,
        label_smoothing: float = 0.0,
        class_weights: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """``L = (1 - pi) * MSE(masked frames) + pi * CE`` (just CE without the cue pathway)."""
        ce = F.cross_entropy(out.logits, labels, weight=class_weights, label_smoothing=label_smoothing)
        if out.recon is None or time_mask is None:
            return ce, {"ce": float(ce.detach()), "mse": 0.0}
        valid = lengths_mask(lengths, feats.shape[1])
        mse = recovery_loss(out.recon, feats, time_mask, valid)
        pi = self.cfg.loss_pi
        return (1 - pi) * mse + pi * ce, {"ce": float(ce.detach()), "mse": float(mse.detach())}


def chunk_spans(n: int, chunk: int, overlap: float = 0.5) -> list[tuple[int, int]]:
    """Overlapping ``[start, stop)`` spans covering ``n`` frames; one span if ``n <= chunk``.
    The last span ends at ``n`` (it may overlap its neighbour more)."""
    if n <= chunk:
        return [(0, n)]
    hop = max(1, int(chunk * (1 - overlap)))
    starts = list(range(0, n - chunk + 1, hop))
    if starts[-1] + chunk < n:
        starts.append(n - chunk)
    return [(s, s + chunk) for s in starts]


def pad_batch(feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """List of ``(T_i, F)`` -> padded ``(B, T_max, F)`` and lengths ``(B,)``."""
    lengths = torch.tensor([f.shape[0] for f in feats], dtype=torch.long)
    out = feats[0].new_zeros(len(feats), int(lengths.max()), feats[0].shape[1])
    for i, f in enumerate(feats):
        out[i, : f.shape[0]] = f
    return out, lengths


@torch.inference_mode()
def predict_logits(
    net: ESERNet,
    feats: list[torch.Tensor],
    chunk_frames: int,
    batch_size: int = 32,
    device: torch.device | str = "cpu",
    on_batch=None,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Class log-probabilities ``(N, C)`` for utterance features ``(T_i, n_mels)``.

    Utterances longer than ``chunk_frames`` are cut into 50 %-overlapping chunks; the chunks'
    probabilities are averaged (weighted by chunk length) and returned as log-probabilities.
    Chunks are sorted by length and batched so that padding is small. ``on_batch(done, total)``
    is called after each batch (for progress and cancellation). ``temperature``: calibration
    (:mod:`model.calibration`) applied to the averaged log-probabilities.
    """
    pieces: list[tuple[int, int, int]] = []  # (utterance, start, stop)
    for i, f in enumerate(feats):
        for a, b in chunk_spans(int(f.shape[0]), chunk_frames):
            pieces.append((i, a, b))
    order = sorted(range(len(pieces)), key=lambda k: pieces[k][2] - pieces[k][1])
    n_classes = net.cfg.n_classes
    probs = torch.zeros(len(feats), n_classes, dtype=torch.float64)
    weight = torch.zeros(len(feats), dtype=torch.float64)
    was_training = net.training
    net.eval()
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batch = [feats[pieces[k][0]][pieces[k][1] : pieces[k][2]] for k in idx]
        x, lengths = pad_batch(batch)
        p = torch.softmax(net(x.to(device), lengths.to(device)).logits.float(), dim=1).cpu().double()
        for j, k in enumerate(idx):
            u, a, b = pieces[k]
            probs[u] += p[j] * (b - a)
            weight[u] += b - a
        if on_batch is not None:
            on_batch(min(start + batch_size, len(order)), len(order))
    net.train(was_training)
    logp = torch.log((probs / weight.clamp_min(1.0)[:, None]).clamp_min(1e-12)).float()
    return apply_temperature(logp, temperature)
