"""Voice-activity segmentation: a lesson's audio -> speech regions (utterances).

Two passes over 10 ms frames:

1. **Features, streamed** block by block over the :class:`~esergui.audio.AudioSource` (12 s at a
   time, bounded memory): the speech-band (150-4000 Hz) energy of each 10 ms frame, and the
   speech evidence of the audio scaled to a fixed level (a sparse level probe sets one gain
   for the file, so quiet far-field and loud near-field recordings look alike): by default
   (``detector="silero"``) the speech probability of the neural Silero VAD
   (:mod:`esergui.vad_silero`, 32 ms frames, batched ONNX), else webrtcvad's decision on
   10/20/30 ms frames (``detector="webrtc"``, the former default; the live speech indicator
   of the recorder still uses webrtcvad).
2. **Decision**, vectorised over the frame arrays (a 3-hour lesson is ~1 M frames):

   * *neural evidence* (silero): hysteresis, a region starts where the probability reaches
     ``speech_threshold`` and lasts while it stays above ``silence_threshold``;

   * *adaptive energy gate*: in a sliding window (default 80 s) the frame energies are split
     into background and foreground by Otsu's method; a frame can be speech when its energy
     is more than ``gate_low_sigma`` standard deviations of the background above the
     background's mean, so steady room noise, hum and distant babble are not speech however
     loud they are, and quiet speech counts wherever it stands out of its own background;
   * or *webrtcvad evidence*: at least ``vad_min_fraction`` of the frames within
     ``+-vad_context_s`` are speech to webrtcvad (rejects clicks, knocks, breaths);
   * *smoothing*: gaps shorter than ``min_pause_s`` are bridged, regions shorter than
     ``min_speech_s`` or with fewer than ``min_loud_s`` of frames above the upper gate
     (``gate_high_sigma``) dropped, then ``onset_s``/``offset_s`` hangover added;
   * regions longer than ``max_utterance_s`` are split at their quietest point (smoothed
     energy, away from the ends), recursively; optional ``pad_s`` on each side.

Settings were tuned on synthetic lessons (``bench/vad_bench.py``, tuning seeds; the silero
thresholds with the demo lesson) and the figures are in ``docs/AUDIO_AND_VAD.md``. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import webrtcvad
from scipy import ndimage, signal

from esergui.audio.source import AudioSource, as_source
from esergui.frame_arrays import (
    HOP_S,
    background_stats,
    bridge_runs,
    mask_of_runs,
    power_smooth_db,
    split_at_quietest,
    true_runs,
)
from esergui.progress import CancelToken, ProgressCallback, check, report
from esergui.settings_io import JsonSettings
from esergui.vad_silero import SR as SILERO_SR
from esergui.vad_silero import SileroVad, hysteresis, to_grid

_BLOCK_S = 12.0  # feature pass block (a multiple of 10, 20 and 30 ms)
_SILENCE_DB = -100.0  # energy floor of a digitally silent frame
_WEBRTC_RATES = (8000, 16000, 32000, 48000)
DETECTORS = ("silero", "webrtc")


@dataclass(frozen=True)
class Segment:
    """One speech region in seconds from the start of the recording.

    ``level_db``: mean speech-band (150-4000 Hz) level in dBFS; ``snr_db``: how far that stands
    above the local background estimate (both None when not measured).
    """

    start_s: float
    end_s: float
    level_db: float | None = None
    snr_db: float | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class VadSettings(JsonSettings):
    """Segmentation settings; stored with an analysis run via ``to_dict`` (``band_hz`` as a
    list) and read back with ``from_dict`` (:class:`esergui.settings_io.JsonSettings`)."""

    detector: str = "silero"  # "silero" (neural, esergui.vad_silero) or "webrtc" (webrtcvad evidence)
    speech_threshold: float = 0.15  # silero: a region needs a frame with speech probability >= this
    silence_threshold: float = 0.05  # silero: ... and lasts while the probability stays >= this
    gate_bypass_prob: float = 1.0  # silero: frames this sure are speech whatever the energy gate says
    frame_ms: int = 10  # webrtcvad frame: 10, 20 or 30 ms
    aggressiveness: int = 2  # webrtcvad mode 0 (least) .. 3 (most eager to call non-speech)
    vad_context_s: float = 0.4  # webrtcvad evidence is pooled over +- this many seconds
    vad_min_fraction: float = 0.1  # ... and needs this share of speech frames there
    normalize: bool = True  # scale the audio webrtcvad sees to target_dbfs
    target_dbfs: float = -26.0  # speech-band level (95th percentile of frames) after scaling
    max_gain_db: float = 30.0  # at most this much gain or attenuation
    energy_gate: bool = True  # the adaptive background gate (False: webrtcvad alone)
    band_hz: tuple[float, float] = (150.0, 4000.0)  # band of the energy feature
    background_window_s: float = 80.0  # window over which the background level is learnt
    gate_low_sigma: float = 0.75  # speech extent: energy > background mean + this * std
    gate_high_sigma: float = 1.5  # speech presence: frames above background mean + this * std
    gate_min_db: float = 2.0  # the gates sit at least this far above the background mean
    one_class_db: float = 6.0  # windows whose two classes are closer than this are all background
    min_loud_s: float = 0.05  # a region needs this much time above the upper gate
    onset_s: float = 0.03  # hangover added before each region
    offset_s: float = 0.05  # hangover added after each region
    min_speech_s: float = 0.20  # shorter regions are dropped
    min_pause_s: float = 0.20  # shorter gaps are bridged
    max_utterance_s: float = 10.0  # longer regions are split at their quietest point (0: never)
    pad_s: float = 0.0  # extra context on both sides of each utterance (never across a neighbour)

    def __post_init__(self) -> None:
        self.band_hz = (float(self.band_hz[0]), float(self.band_hz[1]))
        problems = []
        if self.detector not in DETECTORS:
            problems.append(f"detector must be one of {', '.join(DETECTORS)} (got {self.detector!r})")
        if not 0.0 < self.silence_threshold <= self.speech_threshold < 1.0 or not 0.0 < self.gate_bypass_prob <= 1.0:
            problems.append(
                "need 0 < silence_threshold <= speech_threshold < 1 and 0 < gate_bypass_prob <= 1 "
                f"(got {self.silence_threshold}, {self.speech_threshold}, {self.gate_bypass_prob})"
            )
        if self.frame_ms not in (10, 20, 30):
            problems.append(f"frame_ms must be 10, 20 or 30 (got {self.frame_ms})")
        if self.aggressiveness not in (0, 1, 2, 3):
            problems.append(f"aggressiveness must be 0, 1, 2 or 3 (got {self.aggressiveness})")
        if not 0.0 <= self.vad_min_fraction <= 1.0:
            problems.append(f"vad_min_fraction must be within [0, 1] (got {self.vad_min_fraction})")
        if not 0 < self.band_hz[0] < self.band_hz[1]:
            problems.append(f"band_hz must be (low, high) with 0 < low < high (got {self.band_hz})")
        for name in (
            "vad_context_s",
            "max_gain_db",
            "gate_min_db",
            "min_loud_s",
            "onset_s",
            "offset_s",
            "min_speech_s",
            "min_pause_s",
            "max_utterance_s",
            "pad_s",
            "one_class_db",
        ):
            if getattr(self, name) < 0:
                problems.append(f"{name} must not be negative (got {getattr(self, name)})")
        if self.background_window_s < 2.0:
            problems.append(f"background_window_s must be at least 2 s (got {self.background_window_s})")
        if self.max_utterance_s and self.max_utterance_s < 1.0:
            problems.append(f"max_utterance_s must be 0 (no limit) or at least 1 s (got {self.max_utterance_s})")
        if problems:
            raise ValueError("invalid VAD settings: " + "; ".join(problems))


@dataclass
class FrameFeatures:
    """Per-10 ms-frame features of a recording (pass 1 output).

    ``energy_db``: ``(n,)`` float32 speech-band energy in dBFS; ``vad``: ``(n,)`` bool webrtcvad
    decisions repeated onto the 10 ms grid; ``gain_db``: the gain webrtcvad's input got.
    """

    energy_db: np.ndarray
    vad: np.ndarray
    sample_rate: int
    gain_db: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.energy_db.size)


def _band_sos(sr: int, band: tuple[float, float]) -> np.ndarray:
    hi = min(band[1], 0.45 * sr)
    return signal.butter(4, [band[0], hi], btype="bandpass", fs=sr, output="sos")


def _frame_db(y: np.ndarray, hop: int) -> np.ndarray:
    n = y.size // hop
    if n == 0:
        return np.zeros(0, np.float32)
    power = np.einsum("ij,ij->i", y[: n * hop].reshape(n, hop), y[: n * hop].reshape(n, hop)) / hop
    return (10.0 * np.log10(np.maximum(power, 10 ** (_SILENCE_DB / 10)))).astype(np.float32)


def _probe_levels_db(source: AudioSource, sos: np.ndarray, hop: int, excerpts: int = 64) -> tuple[float, float]:
    """10th and 95th percentiles of speech-band frame energies (dBFS) over up to ``excerpts``
    1 s excerpts spread over the recording: the background and the loud-speech level."""
    sr, n = source.sample_rate, source.n_samples
    starts = np.unique(np.linspace(0, max(0, n - sr), num=min(excerpts, max(1, n // sr))).astype(int))
    values = (
        [_frame_db(signal.sosfilt(sos, source.read(int(a), int(a) + sr).astype(np.float64)), hop)[5:] for a in starts]
        if n
        else []
    )
    pool = np.concatenate(values) if values else np.zeros(0, np.float32)
    if pool.size == 0:
        return _SILENCE_DB, _SILENCE_DB
    low, high = np.percentile(pool, [10, 95])
    return float(low), float(high)


def normalisation_gain_db(background_db: float, loud_db: float, settings: VadSettings) -> float:
    """Gain that brings the loud-speech level to ``target_dbfs`` (clamped to ``+-max_gain_db``).
    A recording with no level distinctly above its background (noise only) is never amplified."""
    if not settings.normalize or loud_db <= _SILENCE_DB + 1:
        return 0.0
    gain = float(np.clip(settings.target_dbfs - loud_db, -settings.max_gain_db, settings.max_gain_db))
    if loud_db - background_db < settings.one_class_db:
        gain = min(gain, 0.0)
    return gain


def frame_features(
    source: AudioSource | np.ndarray,
    settings: VadSettings | None = None,
    sr: int = 16000,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> FrameFeatures:
    """Pass 1: stream over ``source`` and compute :class:`FrameFeatures` on the 10 ms grid."""
    settings = settings or VadSettings()
    src = as_source(source, sr)
    rate = int(src.sample_rate)
    neural = settings.detector == "silero"
    if neural and rate != SILERO_SR:
        raise ValueError(f"neural speech detection needs 16 kHz audio, got {rate} Hz (decode to 16 kHz first)")
    if rate not in _WEBRTC_RATES:
        raise ValueError(f"segmentation needs 8, 16, 32 or 48 kHz audio, got {rate} Hz (decode to 16 kHz first)")
    stream = SileroVad.shared().stream() if neural else None
    probs: list[np.ndarray] = []
    hop = rate // 100
    sos = _band_sos(rate, settings.band_hz)
    gain_db = normalisation_gain_db(*_probe_levels_db(src, sos, hop), settings) if settings.normalize else 0.0
    gain = 10 ** (gain_db / 20)
    vad = webrtcvad.Vad(settings.aggressiveness)
    vad_len = rate * settings.frame_ms // 1000  # samples per webrtcvad frame
    vad_bytes = 2 * vad_len
    reps = settings.frame_ms // 10
    block = int(_BLOCK_S * rate)
    total = src.n_samples
    n_frames = total // hop
    energy = np.empty(n_frames, np.float32)
    decisions = np.zeros(n_frames, bool)
    zi = signal.sosfilt_zi(sos) * 0.0
    pos = 0
    frame = 0
    while pos < total:
        check(cancel)
        x = np.asarray(src.read(pos, min(total, pos + block)), dtype=np.float32)
        if x.size == 0:
            break
        y, zi = signal.sosfilt(sos, x.astype(np.float64), zi=zi)
        e = _frame_db(y, hop)
        k = min(e.size, n_frames - frame)
        energy[frame : frame + k] = e[:k]
        frame += k
        pos += x.size
        report(progress, 0.9 * pos / max(1, total), f"voice activity {pos / rate / 60:.0f} min")
        if stream is not None:
            probs.append(stream.feed(np.clip(x * gain, -1.0, 1.0) if gain != 1.0 else x))
            continue
        pcm = np.clip(x * gain * 32768.0, -32768, 32767).astype("<i2")
        n_vad = -(-x.size // vad_len)
        if n_vad * vad_len > pcm.size:
            pcm = np.concatenate([pcm, np.zeros(n_vad * vad_len - pcm.size, "<i2")])
        buf = pcm.tobytes()
        is_speech = vad.is_speech
        flags = np.fromiter(
            (is_speech(buf[i * vad_bytes : (i + 1) * vad_bytes], rate) for i in range(n_vad)), bool, n_vad
        )
        grid = np.repeat(flags, reps)[:k]
        decisions[frame - k : frame - k + grid.size] = grid
    extra: dict[str, Any] = {}
    if stream is not None:
        prob = to_grid(np.concatenate([*probs, stream.finish()]), frame, HOP_S)
        extra["speech_prob"] = prob
        decisions[:frame] = prob >= settings.speech_threshold
    return FrameFeatures(energy[:frame], decisions[:frame], rate, gain_db, extra)


def speech_mask(
    features: FrameFeatures, settings: VadSettings | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Pass 2: the boolean speech decision per 10 ms frame, and the arrays behind it
    (``energy``: smoothed dB, ``background``: background mean dB)."""
    s = settings or VadSettings()
    e = features.energy_db
    n = e.size
    if n == 0:
        return np.zeros(0, bool), {"energy": e, "background": e}
    es = power_smooth_db(e, 3)
    ctx = 2 * int(round(s.vad_context_s / HOP_S)) + 1
    vote = features.vad
    prob = features.extra.get("speech_prob")
    if prob is not None:
        vote = hysteresis(prob, s.speech_threshold, s.silence_threshold)
    elif ctx > 1:
        vote = (
            ndimage.uniform_filter1d(features.vad.astype(np.float32), ctx, mode="constant") >= s.vad_min_fraction - 1e-6
        )
    if s.energy_gate:
        bg_mean, bg_std = background_stats(es, s.background_window_s, s.one_class_db)
        low = bg_mean + np.maximum(s.gate_min_db, s.gate_low_sigma * bg_std)
        high = bg_mean + np.maximum(s.gate_min_db, s.gate_high_sigma * bg_std)
        sure = prob >= s.gate_bypass_prob if prob is not None and s.gate_bypass_prob < 1.0 else np.zeros(n, bool)
        cand = vote & ((es > low) | sure)
        loud = vote & ((es > high) | sure)
    else:
        bg_mean = np.full(n, np.nan, np.float32)
        cand = loud = vote
    starts, ends = bridge_runs(*true_runs(cand), int(round(s.min_pause_s / HOP_S)))
    loud_cum = np.concatenate([[0], np.cumsum(loud)])
    ok = ((ends - starts) >= int(round(s.min_speech_s / HOP_S))) & (
        (loud_cum[ends] - loud_cum[starts]) >= max(1, int(round(s.min_loud_s / HOP_S)))
    )
    starts, ends = starts[ok], ends[ok]
    mask = np.zeros(n, bool)
    if starts.size:
        on, off = int(round(s.onset_s / HOP_S)), int(round(s.offset_s / HOP_S))
        mask = mask_of_runs(np.maximum(starts - on, 0), np.minimum(ends + off, n), n)
    return mask, {"energy": es, "background": bg_mean}


def segments_from_mask(
    mask: np.ndarray,
    features: FrameFeatures,
    settings: VadSettings | None = None,
    arrays: dict[str, np.ndarray] | None = None,
) -> list[Segment]:
    """Speech regions of a frame mask as :class:`Segment` objects (long ones split, padded)."""
    s = settings or VadSettings()
    e = features.energy_db
    n = mask.size
    starts, ends = true_runs(mask)
    max_frames = int(round(s.max_utterance_s / HOP_S)) if s.max_utterance_s else 0
    spans: list[tuple[int, int]] = []
    quiet = power_smooth_db(e, 11) if max_frames and np.any(ends - starts > max_frames) else e
    for a, b in zip(starts.tolist(), ends.tolist()):
        spans.extend(split_at_quietest(a, b, quiet, max_frames) if max_frames else [(a, b)])
    background = (arrays or {}).get("background")
    duration = n * HOP_S
    pad = s.pad_s
    out: list[Segment] = []
    for i, (a, b) in enumerate(spans):
        power = np.power(10.0, e[a:b].astype(np.float64) / 10.0)
        level = float(10 * np.log10(max(power.mean(), 1e-12))) if b > a else None
        snr = None
        if level is not None and background is not None and np.isfinite(background[a:b]).all():
            snr = level - float(np.mean(background[a:b]))
        start, end = a * HOP_S, b * HOP_S
        if pad > 0:
            prev_end = spans[i - 1][1] * HOP_S if i > 0 else 0.0
            next_start = spans[i + 1][0] * HOP_S if i + 1 < len(spans) else duration
            start = max(start - pad, (prev_end + start) / 2 if i > 0 else 0.0)
            end = min(end + pad, (end + next_start) / 2 if i + 1 < len(spans) else duration)
        out.append(
            Segment(
                round(start, 3),
                round(end, 3),
                None if level is None else round(level, 2),
                None if snr is None else round(snr, 2),
            )
        )
    return out


def segment_speech(
    source: AudioSource | np.ndarray,
    settings: VadSettings | None = None,
    sr: int = 16000,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> list[Segment]:
    """Speech segments of a recording, in time order, non-overlapping.

    ``source``: an :class:`~esergui.audio.AudioSource` (read block by block, never whole) or a
    mono float32 array at ``sr`` Hz. Rates 8/16/32/48 kHz (webrtcvad's); others: ValueError.
    ``progress(fraction, message)``; ``cancel.raise_if_cancelled()`` is checked every block.
    """
    settings = settings or VadSettings()
    report(progress, 0.0, "voice activity")
    features = frame_features(source, settings, sr, progress, cancel)
    check(cancel)
    mask, arrays = speech_mask(features, settings)
    segments = segments_from_mask(mask, features, settings, arrays)
    report(progress, 1.0, f"{len(segments)} speech segments")
    return segments
