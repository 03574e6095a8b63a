"""Live meters for a running recording, computed on the consumer's side (GUI timer or CLI loop).

:class:`LiveMonitor` follows a :class:`FrameRing` with its own cursor. Each :meth:`update`
takes the frames that arrived since the last call and yields the level (peak and RMS in dBFS,
clipping), the VAD speech flag of the newest audio (webrtcvad on a 16 kHz mono copy made with a
streaming soxr resampler) and keeps fixed-size histories for a scrolling waveform (min/max per
column) and the speech band. Nothing here runs in the audio callback; memory is constant.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from esergui.recording.ring import FrameRing

if TYPE_CHECKING:
    from esergui.segment import VadSettings

FULL_SCALE = 32768.0
#: A sample at or beyond this magnitude counts as clipped (int16 full scale, minus a hair).
CLIP_LEVEL = 32700
#: Level reported for digital silence.
FLOOR_DBFS = -96.0
VAD_RATE = 16000


def dbfs(amplitude: float) -> float:
    """``20*log10(amplitude / full scale)``, floored at :data:`FLOOR_DBFS`."""
    if amplitude <= 0:
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 20.0 * math.log10(amplitude / FULL_SCALE))


@dataclass(frozen=True)
class LevelReading:
    """One meter update: levels in dBFS over the new frames, clipping, speech flag."""

    peak_dbfs: float
    rms_dbfs: float
    clipped: bool
    speech: bool
    frames: int


class LiveMonitor:
    """Levels, speech and waveform of the newest audio in ``ring``.

    ``history_s`` seconds of waveform are kept as ``columns`` min/max pairs (floats in [-1, 1])
    and speech as one flag per ``vad_frame_ms``. ``vad_aggressiveness`` is webrtcvad's 0..3.
    ``vad_settings`` (an :class:`esergui.segment.VadSettings`, or anything with ``frame_ms`` and
    ``aggressiveness``) overrides both, so the live flag uses the analysis' webrtcvad settings;
    the defaults equal ``VadSettings()``'s. A speech flag is raised when at least
    ``speech_ratio`` of the VAD frames in the last ``speech_window_ms`` are speech and louder
    than ``gate_dbfs`` (a fixed gate: the analysis' adaptive gate needs the whole lesson).
    """

    def __init__(
        self,
        ring: FrameRing,
        samplerate: int,
        *,
        history_s: float = 10.0,
        columns: int = 500,
        vad_aggressiveness: int = 2,
        vad_frame_ms: int = 10,
        vad_settings: VadSettings | None = None,
        speech_window_ms: int = 300,
        speech_ratio: float = 0.3,
        gate_dbfs: float = -55.0,
        max_catchup_s: float = 2.0,
    ) -> None:
        import soxr
        import webrtcvad

        if vad_settings is not None:
            vad_aggressiveness = int(vad_settings.aggressiveness)
            vad_frame_ms = int(vad_settings.frame_ms)

        self.ring, self.samplerate = ring, int(samplerate)
        self.history_s, self.columns = float(history_s), int(columns)
        self._col_frames = max(1, int(round(self.history_s * self.samplerate / self.columns)))
        self._lo: deque[float] = deque([0.0] * self.columns, maxlen=self.columns)
        self._hi: deque[float] = deque([0.0] * self.columns, maxlen=self.columns)
        self._pending = np.zeros((0,), dtype=np.int16)  # < one column of mono-ish peaks
        self._pending_lo = np.zeros((0,), dtype=np.int16)
        self._vad = webrtcvad.Vad(int(vad_aggressiveness))
        self._vad_frame = VAD_RATE * vad_frame_ms // 1000
        self.vad_frame_ms = vad_frame_ms
        self._resampler = soxr.ResampleStream(self.samplerate, VAD_RATE, 1, dtype="float32")
        self._vad_pending = np.zeros((0,), dtype=np.float32)
        n_speech = max(1, int(round(self.history_s * 1000 / vad_frame_ms)))
        self._speech_hist: deque[bool] = deque([False] * n_speech, maxlen=n_speech)
        self._window = max(1, speech_window_ms // vad_frame_ms)
        self._speech_ratio = speech_ratio
        self._gate = FULL_SCALE * 10 ** (gate_dbfs / 20)
        self._max_catchup = int(max_catchup_s * self.samplerate)
        self._position = ring.written
        self.speech = False
        self.clip_count = 0
        self.last = LevelReading(FLOOR_DBFS, FLOOR_DBFS, False, False, 0)

    def update(self) -> LevelReading:
        """Consume the frames that arrived since the last call (at most ``max_catchup_s``)."""
        if self.ring.written - self._position > self._max_catchup:
            self._position = self.ring.written - self._max_catchup
        frames, self._position, _ = self.ring.read(self._position)
        if len(frames) == 0:
            self.last = LevelReading(self.last.peak_dbfs, self.last.rms_dbfs, False, self.speech, 0)
            return self.last
        as_float = frames.astype(np.float32)
        peak = float(np.max(np.abs(as_float)))
        rms = float(np.sqrt(np.mean(as_float * as_float)))
        clipped = peak >= CLIP_LEVEL
        self.clip_count += int(clipped)
        self._add_columns(frames)
        self._add_vad(as_float.mean(axis=1) / FULL_SCALE)
        self.last = LevelReading(dbfs(peak), dbfs(rms), clipped, self.speech, len(frames))
        return self.last

    def _add_columns(self, frames: np.ndarray) -> None:
        hi = np.concatenate([self._pending, frames.max(axis=1)])
        lo = np.concatenate([self._pending_lo, frames.min(axis=1)])
        n = len(hi) // self._col_frames
        if n:
            used = n * self._col_frames
            self._hi.extend((hi[:used].reshape(n, -1).max(axis=1) / FULL_SCALE).tolist())
            self._lo.extend((lo[:used].reshape(n, -1).min(axis=1) / FULL_SCALE).tolist())
            hi, lo = hi[used:], lo[used:]
        self._pending, self._pending_lo = hi, lo

    def _add_vad(self, mono: np.ndarray) -> None:
        resampled = self._resampler.resample_chunk(np.ascontiguousarray(mono, dtype=np.float32))
        buf = np.concatenate([self._vad_pending, resampled])
        n = len(buf) // self._vad_frame
        for i in range(n):
            frame = buf[i * self._vad_frame : (i + 1) * self._vad_frame]
            pcm = np.clip(frame * FULL_SCALE, -32768, 32767).astype(np.int16)
            loud = float(np.sqrt(np.mean(pcm.astype(np.float32) ** 2))) >= self._gate
            self._speech_hist.append(loud and self._vad.is_speech(pcm.tobytes(), VAD_RATE))
        self._vad_pending = buf[n * self._vad_frame :]
        if n:
            recent = list(self._speech_hist)[-self._window :]
            self.speech = sum(recent) >= self._speech_ratio * len(recent)

    def waveform(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)``: per-column minimum and maximum of the last ``history_s``, oldest first,
        each a float32 array of ``columns`` values in [-1, 1]."""
        return np.asarray(self._lo, dtype=np.float32), np.asarray(self._hi, dtype=np.float32)

    def speech_history(self) -> np.ndarray:
        """One bool per VAD frame over the last ``history_s``, oldest first."""
        return np.asarray(self._speech_hist, dtype=bool)
