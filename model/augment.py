"""Augmentation suited to classroom audio.

Waveform level (``(samples,)`` float32, 16 kHz): additive room noise or babble at a random SNR,
gain, speed perturbation (resampling: tempo and pitch change together). Feature level:
SpecAugment time and frequency masks on normalised log-mel ``(B, T, n_mels)``.
The noise generators are also used by the robustness evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torchaudio

from model.config import TrainConfig
from model.data import SR  # the training audio rate


def room_noise(n: int, rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    """Steady room noise: pink-ish broadband hiss plus a weak 50 Hz hum with harmonics."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sr)
    spec /= np.sqrt(np.maximum(f, 20.0))
    noise = np.fft.irfft(spec, n)
    t = np.arange(n) / sr
    hum = sum(np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 6.28)) / k for k in (1, 2, 3))
    noise = noise / (np.std(noise) + 1e-9) + 0.2 * hum
    return (noise / (np.std(noise) + 1e-9)).astype(np.float32)


def babble(n: int, rng: np.random.Generator, pool: Sequence[np.ndarray], voices: int = 4) -> np.ndarray:
    """Overlapping speech of ``voices`` streams of clips drawn from ``pool`` (unit RMS)."""
    if not pool:
        return room_noise(n, rng)
    out = np.zeros(n, dtype=np.float32)
    for _ in range(voices):
        stream = []
        total = 0
        while total < n:
            clip = pool[int(rng.integers(len(pool)))]
            clip = clip / (np.sqrt(np.mean(clip**2)) + 1e-9)
            stream.append(clip)
            total += len(clip)
        s = np.concatenate(stream)
        off = int(rng.integers(0, max(1, len(s) - n + 1)))
        out += s[off : off + n]
    return (out / (np.sqrt(np.mean(out**2)) + 1e-9)).astype(np.float32)


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``clean + g * noise`` with ``g`` set so that the speech-to-noise power ratio is ``snr_db``
    (speech power measured on the frames within 35 dB of the loudest, i.e. ignoring silence)."""
    hop = 160
    n = len(clean) // hop
    if n > 0:
        fr = clean[: n * hop].reshape(n, hop)
        e = np.mean(fr**2, axis=1)
        p_speech = float(np.mean(e[e > e.max() * 10 ** (-3.5)]))
    else:
        p_speech = float(np.mean(clean**2))
    p_noise = float(np.mean(noise**2)) + 1e-12
    g = np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    return (clean + g * noise[: len(clean)]).astype(np.float32)


def speed(wav: np.ndarray, factor: float, sr: int = SR) -> np.ndarray:
    """Speed perturbation by resampling: ``factor`` > 1 is faster and higher."""
    if abs(factor - 1.0) < 1e-6:
        return wav
    orig = int(round(sr * factor / 100)) * 100
    return torchaudio.functional.resample(torch.from_numpy(wav), orig, sr).numpy()


class Augmenter:
    """Random waveform augmentation of one training clip, driven by a seeded ``rng``."""

    def __init__(self, cfg: TrainConfig, babble_pool: Sequence[np.ndarray], rng: np.random.Generator) -> None:
        self.cfg, self.pool, self.rng = cfg, list(babble_pool), rng

    def __call__(self, wav: np.ndarray) -> np.ndarray:
        cfg, rng = self.cfg, self.rng
        if cfg.p_speed > 0 and cfg.speeds and rng.random() < cfg.p_speed:
            wav = speed(wav, float(rng.choice(cfg.speeds)))
        if rng.random() < cfg.p_noise:
            noise = babble(len(wav), rng, self.pool) if rng.random() < 0.5 else room_noise(len(wav), rng)
            wav = mix_at_snr(wav, noise, float(rng.uniform(*cfg.snr_db)))
        if rng.random() < cfg.p_gain:
            wav = wav * np.float32(10 ** (rng.uniform(*cfg.gain_db) / 20))
        return wav.astype(np.float32, copy=False)


def spec_augment(
    feats: torch.Tensor, lengths: torch.Tensor, cfg: TrainConfig, generator: torch.Generator | None = None
) -> torch.Tensor:
    """SpecAugment on normalised log-mel ``(B, T, F)``: masked regions are set to 0 (the mean)."""
    feats = feats.clone()
    b, _, f = feats.shape
    for i in range(b):
        n = int(lengths[i])
        for _ in range(cfg.spec_time_masks):
            w = int(torch.randint(0, cfg.spec_time_width + 1, (1,), generator=generator))
            if 0 < w < n:
                s = int(torch.randint(0, n - w + 1, (1,), generator=generator))
                feats[i, s : s + w] = 0
        for _ in range(cfg.spec_freq_masks):
            w = int(torch.randint(0, cfg.spec_freq_width + 1, (1,), generator=generator))
            if 0 < w < f:
                s = int(torch.randint(0, f - w + 1, (1,), generator=generator))
                feats[i, :, s : s + w] = 0
    return feats
