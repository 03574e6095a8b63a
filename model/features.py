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
from model.prosody import PitchTracker


def n_frames(n_samples: int, cfg: FeatureConfig) -> int:
    """Number of feature frames for ``n_samples`` of audio (centred STFT)."""
    return int(n_samples) // cfg.hop_length + 1


class LogMel(nn.Module):
    """``(B, samples)`` -> ``(B, frames, n_mels)`` log-mel (natural log of power, floored),
    then ``(x - mean) / std`` per mel bin. ``mean``/``std`` are buffers saved with the model."""

    mean: torch.Tensor  # (n_channels,) buffer
    std: torch.Tensor  # (n_channels,) buffer

    def __init__(self, cfg: FeatureConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=cfg.sample_rate,
            n_fft=cfg.n_fft,
            win_length=cfg.win_length,
            hop_length=cfg.hop_length,
            f_min=cfg.f_min,
            f_max=cfg.f_max,
            n_mels=cfg.n_mels,
            window_fn=torch.hann_window,
            power=2.0,
            center=True,
            norm="slaney",
            mel_scale="slaney",
        )
        self.pitch = PitchTracker(cfg.sample_rate, cfg.hop_length) if cfg.prosody else None
        self.register_buffer("mean", torch.zeros(cfg.n_channels))
        self.register_buffer("std", torch.ones(cfg.n_channels))

    def raw(self, wav: torch.Tensor) -> torch.Tensor:
        """Un-normalised features, ``(B, samples)`` -> ``(B, frames, n_channels)``: log-mel,
        then (``cfg.prosody``) the prosody channels of :class:`model.prosody.PitchTracker`."""
        spec = self.mel(wav)  # (B, n_mels, frames)
        logmel = torch.log(spec.clamp_min(self.cfg.log_floor)).transpose(1, 2)
        if self.pitch is None:
            return logmel
        return torch.cat([logmel, self.pitch(wav)[:, : logmel.shape[1]]], dim=-1)

    def normalise(
        self, feats: torch.Tensor, mean: torch.Tensor | None = None, std: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``(..., T, n_mels)`` raw log-mel -> standardised. ``mean``/``std``: statistics to use
        instead of the stored global ones, broadcastable to ``feats`` (e.g. ``(B, 1, n_mels)``
        per-speaker rows from :class:`SpeakerStats`)."""
        return (feats - (self.mean if mean is None else mean)) / (self.std if std is None else std)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """``(B, samples)`` waveforms -> ``(B, frames, n_channels)`` globally standardised features."""
        return self.normalise(self.raw(wav))

    @torch.no_grad()
    def fit_normalisation(self, feats: list[torch.Tensor]) -> None:
        """Set ``mean``/``std`` per mel bin from a list of raw ``(frames, n_mels)`` features."""
        allf = torch.cat([f.reshape(-1, self.cfg.n_channels) for f in feats], 0)
        self.mean.copy_(allf.mean(0))
        self.std.copy_(allf.std(0).clamp_min(1e-3))


def lengths_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """``(B,)`` lengths -> ``(B, max_len)`` bool, True where the position is real (not padding)."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


class SpeakerStats:
    """Per-speaker log-mel statistics for speaker normalisation (``FeatureConfig.normalisation
    == "speaker"``).

    :meth:`add` accumulates raw ``(T, n_mels)`` log-mel frames under a speaker key (any
    hashable; ``None`` is never pooled: pass a unique key per utterance instead); :meth:`get`
    returns that speaker's ``(mean, std)`` ``(n_mels,)``, each shrunk towards the model's
    global statistics by ``prior_frames`` pseudo-frames::

        mean_s = (sum_x + n0 * mean_g) / (n + n0)
        var_s  = (sum_x2 + n0 * (std_g**2 + mean_g**2)) / (n + n0) - mean_s**2

    so an unknown speaker (no frames) gets the global statistics, one heard for as long as
    the prior gets the midpoint, and a speaker heard for minutes essentially their own.
    Statistics are accumulated in float64 on the CPU (a 3-hour lesson is 1e6 frames).
    """

    def __init__(self, features: LogMel) -> None:
        cfg = features.cfg
        self.prior_frames = float(cfg.speaker_prior_s) / cfg.hop_s
        self._mean_g = features.mean.detach().double().cpu()
        self._second_g = features.std.detach().double().cpu() ** 2 + self._mean_g**2
        self._sums: dict = {}

    def add(self, key, raw: torch.Tensor) -> None:
        """Accumulate raw log-mel frames ``(T, n_mels)`` of speaker ``key``."""
        x = raw.detach().double().cpu().reshape(-1, raw.shape[-1])
        s1, s2, n = self._sums.get(key, (0.0, 0.0, 0))
        self._sums[key] = (s1 + x.sum(0), s2 + (x * x).sum(0), n + x.shape[0])

    def copy(self) -> SpeakerStats:
        """An independent copy (adding to it leaves this one unchanged)."""
        other = object.__new__(SpeakerStats)
        other.prior_frames, other._mean_g, other._second_g = self.prior_frames, self._mean_g, self._second_g
        other._sums = dict(self._sums)
        return other

    def __contains__(self, key) -> bool:
        return key in self._sums

    def frames(self, key) -> int:
        """Frames accumulated for ``key`` (0 if unknown)."""
        return int(self._sums.get(key, (0, 0, 0))[2])

    def get(self, key) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, std)`` float32 ``(n_mels,)`` of speaker ``key`` (global ones if unknown)."""
        s1, s2, n = self._sums.get(key, (0.0, 0.0, 0))
        n0 = self.prior_frames
        mean = (s1 + n0 * self._mean_g) / (n + n0)
        var = (s2 + n0 * self._second_g) / (n + n0) - mean**2
        return mean.float(), var.clamp_min(1e-6).sqrt().float()
