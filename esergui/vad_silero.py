"""Silero VAD speech probabilities, streamed and batched (onnxruntime, no torch, no network).

The model is Silero VAD v6 from the installed ``silero-vad`` package (MIT licence, (c) Silero
Team; 6.2.3 was measured). We read its *sequence* export, ``silero_vad/data/
silero_vad_16k_sequence.onnx``, straight from the installed package files: the package is
located with :func:`importlib.util.find_spec` and **not imported** (importing ``silero_vad``
pulls in torch and calls ``torch.set_num_threads(1)`` for the whole process). Nothing is
fetched from a hub or the network.

The sequence export computes the same per-frame probabilities as the streaming model (the
package documents it as bit-exact), but one ONNX call handles a whole block of 512-sample
(32 ms) frames, each prefixed by the last 64 samples of the previous frame, with the LSTM
state carried from block to block. So a recording is processed in a handful of calls
(345-370x real time wall, 475x in CPU time, one thread on the shared development machine;
``bench/results/vad_speed.md``).

Qt-free, 16 kHz only (the pipeline decodes to 16 kHz).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from esergui.errors import EserError
from esergui.frame_arrays import mask_of_runs, true_runs

SR = 16000
FRAME = 512  # samples per model frame (32 ms)
CONTEXT = 64  # samples of the previous frame each frame is prefixed with
FRAME_S = FRAME / SR
MODEL_FILE = "silero_vad_16k_sequence.onnx"
BLOCK_FRAMES = 1024  # frames per ONNX call (~33 s): few calls, ~2.4 MB of input each


class SileroUnavailable(EserError, RuntimeError):
    """The silero-vad package (or onnxruntime) is not installed."""


def model_path() -> Path:
    """The packaged ONNX file of the installed ``silero-vad`` (the package is not imported)."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise SileroUnavailable("Speech detection needs the silero-vad package (pip install silero-vad).")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / MODEL_FILE
    if not path.is_file():
        raise SileroUnavailable(
            f"The installed silero-vad package lacks {MODEL_FILE} (version 6.2 or newer is needed)."
        )
    return path


def _interrupted(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is in ``exc``'s chain of causes (an import that a signal
    stopped half-way can surface as an ImportError)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class SileroVad:
    """Per-frame speech probabilities of 16 kHz audio, fed block by block (:meth:`feed`).

    One instance holds one onnxruntime session (thread-safe to share: the recurrent state
    lives in a :class:`SileroStream`, not here)."""

    def __init__(self, path: Path | None = None, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            if _interrupted(exc):  # Ctrl+C or SIGTERM during the import, re-raised as ImportError by it
                raise KeyboardInterrupt from None
            if importlib.util.find_spec("onnxruntime") is None:
                raise SileroUnavailable("Speech detection needs onnxruntime (pip install onnxruntime).") from exc
            raise SileroUnavailable(f"onnxruntime is installed but could not be loaded: {exc}") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(path or model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )

    @staticmethod
    @functools.cache
    def shared() -> SileroVad:
        """One model per process (loading takes ~0.05 s; ``functools.cache`` is thread-safe
        enough here: a race loads the small model twice and keeps one)."""
        return SileroVad()

    def stream(self) -> SileroStream:
        return SileroStream(self)

    def probabilities(self, audio: np.ndarray) -> np.ndarray:
        """Speech probability per 32 ms frame of a whole in-memory 16 kHz recording."""
        s = self.stream()
        return np.concatenate([s.feed(audio), s.finish()])


class SileroStream:
    """The recurrent state over one recording: :meth:`feed` any block sizes, then :meth:`finish`.

    Frame ``i`` covers samples ``[512 i, 512 (i + 1))``; the last partial frame is zero-padded
    by :meth:`finish`."""

    def __init__(self, vad: SileroVad) -> None:
        self._session = vad.session
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(CONTEXT, np.float32)
        self._rest = np.zeros(0, np.float32)

    def _run(self, frames: np.ndarray) -> np.ndarray:
        out = []
        for a in range(0, len(frames), BLOCK_FRAMES):
            f = frames[a : a + BLOCK_FRAMES]
            ctx = np.empty((len(f), CONTEXT), np.float32)
            ctx[0] = self._context
            ctx[1:] = f[:-1, -CONTEXT:]
            self._context = f[-1, -CONTEXT:].copy()
            probs, self._h, self._c = self._session.run(
                ["speech_probs", "hn", "cn"], {"input": np.concatenate([ctx, f], axis=1), "h": self._h, "c": self._c}
            )
            out.append(np.asarray(probs, np.float32).reshape(-1))
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def feed(self, block: np.ndarray) -> np.ndarray:
        """Probabilities of the whole frames completed by ``block`` (float32 samples in [-1, 1])."""
        x = np.concatenate([self._rest, np.asarray(block, np.float32).reshape(-1)])
        n = x.size // FRAME
        self._rest = x[n * FRAME :]
        if n == 0:
            return np.zeros(0, np.float32)
        return self._run(x[: n * FRAME].reshape(n, FRAME))

    def finish(self) -> np.ndarray:
        """The probability of the last, zero-padded partial frame (empty if there is none)."""
        if self._rest.size == 0:
            return np.zeros(0, np.float32)
        last = np.zeros((1, FRAME), np.float32)
        last[0, : self._rest.size] = self._rest
        self._rest = np.zeros(0, np.float32)
        return self._run(last)


def to_grid(probs: np.ndarray, n_frames: int, hop_s: float = 0.01) -> np.ndarray:
    """Probabilities per 32 ms frame -> per ``hop_s`` frame (each takes the frame holding its
    centre); ``(n_frames,)`` float32."""
    if probs.size == 0:
        return np.zeros(n_frames, np.float32)
    centre = (np.arange(n_frames) + 0.5) * hop_s
    idx = np.minimum((centre / FRAME_S).astype(np.int64), probs.size - 1)
    return probs[idx].astype(np.float32)


def hysteresis(p: np.ndarray, on: float, off: float) -> np.ndarray:
    """Speech where ``p >= off`` within a run that reaches ``p >= on`` somewhere (vectorised)."""
    low = p >= off
    if not low.any():
        return low
    starts, ends = true_runs(low)
    high_cum = np.concatenate([[0], np.cumsum(p >= on)])
    keep = (high_cum[ends] - high_cum[starts]) > 0
    return mask_of_runs(starts[keep], ends[keep], p.size)


def licence_text() -> str | None:
    """The MIT licence shipped with the installed package (None if not found)."""
    from importlib import metadata

    try:
        dist: Any = metadata.distribution("silero-vad")
    except metadata.PackageNotFoundError:
        return None
    for f in dist.files or ():
        if Path(str(f)).name.upper().startswith("LICENSE"):
            return Path(str(f.locate())).read_text(encoding="utf-8", errors="replace")
    return None
