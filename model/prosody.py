"""Prosodic frame features for ESERNet's input: pitch (F0), voicing and energy.

A small autocorrelation pitch tracker in the spirit of Boersma (1993, "Accurate short-term
analysis of the fundamental frequency and the harmonics-to-noise ratio of a sampled sound"),
batched in torch so that it runs on the model's device next to the log-mel front end:

* frames of ``window`` samples (40 ms at 16 kHz: three periods of 75 Hz) at the log-mel hop,
  centred like the STFT, so there is exactly one prosody frame per log-mel frame;
* Hann-windowed autocorrelation (via FFT) divided by the autocorrelation of the window itself,
  which makes a periodic frame score close to 1 at its period whatever the lag;
* voicing probability = the highest normalised autocorrelation in the lag range of
  ``f0_min``..``f0_max`` (clamped to [0, 1]), less Praat's octave cost of 0.01 per octave
  below ``f0_max`` so that a period wins over its multiples; F0 = rate / that lag (parabolic
  interpolation); the signal is analysed at 8 kHz (pitch needs no more);
* energy = log of the frame's mean square.

Channels, ``(B, frames, 3)``: ``log F0`` (natural log of Hz, weighted by voicing, so unvoiced
frames sit near 0 instead of carrying a random lag), voicing probability, log energy. They are
appended to the log-mel channels and normalised with them (globally or per speaker).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

#: Names of the prosody channels, in order.
PROSODY_CHANNELS = ("log_f0", "voicing", "log_energy")


class PitchTracker(torch.nn.Module):
    """``(B, samples)`` waveforms -> ``(B, frames, 3)`` prosody channels (see module docstring);
    ``frames = samples // hop + 1`` like :class:`model.features.LogMel`."""

    win: torch.Tensor  # (window,) Hann window, buffer
    octave_cost: torch.Tensor  # (lag_max - lag_min + 1,) buffer
    win_ac: torch.Tensor  # (lag_max + 2,) autocorrelation of the window, normalised to lag 0, buffer

    def __init__(
        self,
        sample_rate: int = 16000,
        hop: int = 160,
        window_s: float = 0.04,
        f0_min: float = 75.0,
        f0_max: float = 500.0,
    ) -> None:
        super().__init__()
        # Pitch needs no more than 4 kHz of bandwidth: work at half the rate when it divides.
        self.decimate = 2 if sample_rate % 2 == 0 and hop % 2 == 0 and sample_rate >= 16000 else 1
        rate = sample_rate // self.decimate
        self.hop = hop // self.decimate
        self.window = round(window_s * rate)
        self.sample_rate = rate
        self.lag_min = max(2, math.floor(rate / f0_max))
        self.lag_max = min(self.window // 2, math.ceil(rate / f0_min))
        self.n_fft = 1 << (self.window + self.lag_max + 2).bit_length()
        win = torch.hann_window(self.window, periodic=False)
        self.register_buffer("win", win, persistent=False)
        lags = torch.arange(self.lag_min, self.lag_max + 1, dtype=torch.float32)
        self.register_buffer("octave_cost", 0.01 * torch.log2(lags / self.lag_min), persistent=False)
        win_ac = self._autocorr(win[None])[0]
        self.register_buffer("win_ac", win_ac / win_ac[0], persistent=False)

    def _autocorr(self, frames: torch.Tensor) -> torch.Tensor:
        spec = torch.fft.rfft(frames, n=self.n_fft)
        return torch.fft.irfft(spec.real**2 + spec.imag**2, n=self.n_fft)[..., : self.lag_max + 2]

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """``(B, samples)`` waveforms -> ``(B, frames, 3)``: log F0 (weighted by voicing),
        voicing probability, log energy; ``frames = samples // hop + 1``."""
        if self.decimate > 1:  # two-tap average as the anti-alias filter, then every second sample
            n_in = wav.shape[1]
            wav = F.pad(wav, (0, n_in % 2)).reshape(wav.shape[0], -1, 2).mean(-1)
            n = n_in // self.decimate
        else:
            n = wav.shape[1]
        pad = self.window // 2
        x = F.pad(wav, (pad, pad))
        n_frames = n // self.hop + 1
        need = (n_frames - 1) * self.hop + self.window
        if x.shape[1] < need:
            x = F.pad(x, (0, need - x.shape[1]))
        frames = x.unfold(1, self.window, self.hop)[:, :n_frames]  # (B, T, W)
        frames = frames - frames.mean(-1, keepdim=True)
        energy = frames.pow(2).mean(-1)  # (B, T)
        ac = self._autocorr(frames * self.win)  # (B, T, L)
        norm = ac / ac[..., :1].clamp_min(1e-10) / self.win_ac.clamp_min(1e-10)
        band = norm[..., self.lag_min : self.lag_max + 1]
        # Praat's octave cost: of near-equal peaks (a period and its multiples) take the shortest
        _, idx = (band - self.octave_cost).max(-1)
        peak = band.gather(-1, idx[..., None])[..., 0]
        lag = (idx + self.lag_min).clamp(1, norm.shape[-1] - 2)
        # parabolic interpolation around the peak for a sub-sample lag
        left = norm.gather(-1, (lag - 1)[..., None])[..., 0]
        mid = norm.gather(-1, lag[..., None])[..., 0]
        right = norm.gather(-1, (lag + 1)[..., None])[..., 0]
        denom = left - 2 * mid + right
        shift = torch.where(denom.abs() > 1e-6, 0.5 * (left - right) / denom, torch.zeros_like(denom))
        fine = lag.float() + shift.clamp(-0.5, 0.5)
        voicing = peak.clamp(0.0, 1.0)
        silent = energy < 1e-8
        voicing = torch.where(silent, torch.zeros_like(voicing), voicing)
        log_f0 = torch.log(self.sample_rate / fine.clamp_min(1.0)) * voicing
        log_energy = torch.log(energy.clamp_min(1e-10))
        return torch.stack([log_f0, voicing, log_energy], dim=-1)
