"""Log-mel features computed with torchaudio on the model's device, plus the per-bin
normalisation that is stored in the model file.

Shapes: waveforms ``(B, samples)`` float32 at 16 kHz -> features ``(B, frames, n_mels)``;
``frames = samples // hop + 1`` (centred STFT). Lengths are in frames.
"""

from __future__ import annotations

import torch
import torchaudio
from torch import nn

from model.config import FeatureConfig


def n_frames(n_samples: int, cfg: FeatureConfig) -> int:
    """Number of feature frames for ``n_samples`` of audio (centred STFT)."""
    return int(n_samples) // cfg.hop_length + 1


class LogMel(nn.Module):
    """``(B, samples)`` -> ``(B, frames, n_mels)`` log-mel (natural log of power, floored),
    then ``(x - mean) / std`` per mel bin. ``mean``/``std`` are buffers saved with the model."""

    def __init__(self, cfg: FeatureConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=cfg.sample_rate, n_fft=cfg.n_fft, win_length=cfg.win_length,
            hop_length=cfg.hop_length, f_min=cfg.f_min, f_max=cfg.f_max, n_mels=cfg.n_mels,
            window_fn=torch.hann_window, power=2.0, center=True, norm="slaney", mel_scale="slaney",
        )
        self.register_buffer("mean", torch.zeros(cfg.n_mels))
        self.register_buffer("std", torch.ones(cfg.n_mels))

    def raw(self, wav: torch.Tensor) -> torch.Tensor:
        """Un-normalised log-mel, ``(B, samples)`` -> ``(B, frames, n_mels)``."""
        spec = self.mel(wav)  # (B, n_mels, frames)
        return torch.log(spec.clamp_min(self.cfg.log_floor)).transpose(1, 2)

    def normalise(self, feats: torch.Tensor) -> torch.Tensor:
        return (feats - self.mean) / self.std

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        return self.normalise(self.raw(wav))

    @torch.no_grad()
    def fit_normalisation(self, feats: list[torch.Tensor]) -> None:
        """Set ``mean``/``std`` per mel bin from a list of raw ``(frames, n_mels)`` features."""
        allf = torch.cat([f.reshape(-1, self.cfg.n_mels) for f in feats], 0)
        self.mean.copy_(allf.mean(0))
        self.std.copy_(allf.std(0).clamp_min(1e-3))


def lengths_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """``(B,)`` lengths -> ``(B, max_len)`` bool, True where the position is real (not padding)."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]
