"""Inference: :class:`EmotionRecognizer` turns utterance waveforms into class probabilities.

``EmotionRecognizer.load(path=None, device="auto")`` loads a model file (``None`` = the bundled
model) onto CUDA, else Apple MPS, else CPU (or the named device). ``predict(waveforms)`` returns
``(N, C)`` probabilities in the order of ``labels``: utterances are sorted and batched by length,
run under ``torch.inference_mode``, and utterances longer than the training crop are classified
in 50 %-overlapping chunks whose probabilities are averaged. If the GPU fails (out of memory,
driver error), the recognizer warns and falls back to the CPU.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from model.bundle import ModelBundle
from model.device import device_name, resolve_device
from model.errors import ModelError, ModelFileError
from model.features import SpeakerStats
from model.io import bundle_meta, load_model
from model.network import predict_logits
from model.normalising import group_keys, normalise_features, raw_features

BUNDLED_NAME = "esernet-emodb.safetensors"
#: Utterances featurised at a time (bounds memory for very long lessons).
GROUP = 256


def bundled_model_path() -> Path:
    """Path of the bundled model file (``model/weights/esernet-emodb.safetensors``)."""
    return Path(__file__).resolve().parent / "weights" / BUNDLED_NAME


class EmotionRecognizer:
    """A loaded model ready for inference. Attributes: ``labels`` (class names), ``device_name``
    (e.g. ``"CPU"``, ``"CUDA: NVIDIA H100"``), ``model_name``, ``info`` (the file's metadata:
    name, labels, configurations, ``training``, ``evaluation``), ``path``."""

    def __init__(self, bundle: ModelBundle, path: Path | None = None) -> None:
        self.bundle = bundle
        self.path = path
        self.labels: list[str] = list(bundle.labels)
        self.model_name: str = bundle.name
        self.info: dict[str, Any] = bundle_meta(bundle)

    @property
    def device_name(self) -> str:
        dev = self.bundle.device
        return "CPU" if dev.type == "cpu" else device_name(dev)

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "auto") -> EmotionRecognizer:
        """Load ``path`` (``None``: the bundled model) on ``device`` (``auto``, ``cpu``, ``cuda``,
        ``cuda:1``, ``mps``). Raises :class:`ModelFileError` for a missing/bad file."""
        path = Path(path) if path is not None else bundled_model_path()
        if not path.is_file():
            raise ModelFileError(
                f"The model file {path} does not exist"
                + (" (the bundled model was not installed)." if path == bundled_model_path() else ".")
            )
        bundle = load_model(path, "cpu")
        rec = cls(bundle, path)
        try:
            dev = resolve_device(device)
        except RuntimeError as exc:
            raise ModelError(f"Unknown device {device!r}: {exc}.") from None
        if dev.type != "cpu":
            try:
                bundle.to(dev)
                with torch.inference_mode():  # a tiny probe, so a broken GPU fails here
                    bundle.net(
                        torch.zeros(1, 20, bundle.model_config.n_mels, device=dev), torch.tensor([20], device=dev)
                    )
            except (RuntimeError, AssertionError) as exc:
                warnings.warn(
                    f"The GPU ({dev}) failed ({str(exc).splitlines()[0]}); using the CPU instead.", stacklevel=2
                )
                bundle.to("cpu")
        return rec

    @property
    def speaker_normalised(self) -> bool:
        """True when the model standardises each speaker's features with that speaker's own
        statistics: pass ``speakers`` (and, for a lesson predicted in parts, ``stats``)."""
        return self.bundle.feature_config.speaker_normalised

    def speaker_stats(
        self,
        waveforms: Sequence[np.ndarray],
        speakers: Sequence[Any],
        sample_rate: int = 16000,
        stats: SpeakerStats | None = None,
    ) -> SpeakerStats:
        """Accumulate the log-mel statistics of ``waveforms`` under their ``speakers`` keys
        (into ``stats`` if given, so a long lesson can be added part by part)."""
        stats = stats or SpeakerStats(self.bundle.features)
        wavs = [_prepare(w, sample_rate, self.bundle.feature_config.sample_rate) for w in waveforms]
        for f, k in zip(raw_features(wavs, self.bundle), speakers):
            if k is not None:
                stats.add(k, f)
        return stats

    def _features(
        self, wavs: Sequence[np.ndarray], keys: Sequence[Any], stats: SpeakerStats | None
    ) -> list[torch.Tensor]:
        with torch.inference_mode():
            return normalise_features(raw_features(wavs, self.bundle), self.bundle, keys, stats)

    def _predict_group(
        self,
        wavs: Sequence[np.ndarray],
        keys: Sequence[Any],
        stats: SpeakerStats | None,
        batch_size: int,
        on_batch: Callable[[int, int], None],
    ) -> torch.Tensor:
        b = self.bundle
        return predict_logits(
            b.net,
            self._features(wavs, keys, stats),
            b.chunk_frames,
            batch_size,
            b.device,
            on_batch,
            temperature=b.temperature,
        ).exp()

    def predict(
        self,
        waveforms: Sequence[np.ndarray],
        sample_rate: int = 16000,
        batch_size: int = 32,
        progress: Callable[[float, str], None] | None = None,
        cancel: Any = None,
        speakers: Sequence[Any] | None = None,
        stats: SpeakerStats | None = None,
    ) -> np.ndarray:
        """``(N, C)`` float32 probabilities for ``N`` mono waveforms (float, any length; stereo
        ``(samples, channels)`` is averaged) at ``sample_rate``. ``progress(fraction, message)``
        is called per batch; ``cancel.raise_if_cancelled()`` is polled per batch.

        Speaker-normalised models only (ignored otherwise): ``speakers[i]`` names the speaker
        of waveform ``i`` (``None``: unknown, normalised on its own); each speaker's statistics
        come from ``stats`` (see :meth:`speaker_stats`) or else from their waveforms here."""
        wavs = [_prepare(w, sample_rate, self.bundle.feature_config.sample_rate) for w in waveforms]
        n = len(wavs)
        keys: list[Any] = [None] * n
        if self.speaker_normalised:
            keys = group_keys(speakers, n)
            # Speakers missing from ``stats`` (all of them without it) are gathered from this
            # call's waveforms, into a copy: the caller's statistics serve later calls unchanged.
            # Statistics first, features per group below (bounded memory for long lessons).
            missing = [i for i in range(n) if stats is None or keys[i] not in stats]
            stats = stats.copy() if stats is not None else SpeakerStats(self.bundle.features)
            for g in range(0, len(missing), GROUP):
                part = missing[g : g + GROUP]
                for i, f in zip(part, raw_features([wavs[i] for i in part], self.bundle)):
                    stats.add(keys[i], f)
        out = np.zeros((n, len(self.labels)), dtype=np.float32)
        if n == 0:
            return out
        order = sorted(range(n), key=lambda i: len(wavs[i]))
        for g in range(0, n, GROUP):
            idx = order[g : g + GROUP]

            def on_batch(done: int, total: int, g: int = g, m: int = len(idx)) -> None:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                if progress is not None:
                    progress(
                        min(1.0, (g + m * done / max(total, 1)) / n),
                        f"emotions: {min(n, g + m * done // max(total, 1))}/{n} utterances",
                    )

            if cancel is not None:
                cancel.raise_if_cancelled()
            group = [wavs[i] for i in idx]
            part_keys = [keys[i] for i in idx]
            try:
                probs = self._predict_group(group, part_keys, stats, batch_size, on_batch)
            except RuntimeError as exc:  # GPU out of memory / driver failure: retry on the CPU
                if self.bundle.device.type == "cpu":
                    raise
                warnings.warn(
                    f"The GPU failed during inference ({str(exc).splitlines()[0]}); using the CPU instead.",
                    stacklevel=2,
                )
                self.bundle.to("cpu")
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                probs = self._predict_group(group, part_keys, stats, batch_size, on_batch)
            out[idx] = probs.cpu().numpy().astype(np.float32)
        return out


def _prepare(w: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    a = np.asarray(w, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=1) if a.shape[1] <= 8 else a.mean(axis=0)
    elif a.ndim != 1:
        raise ModelError(f"A waveform must be 1-D (samples) or 2-D (samples, channels), not {a.ndim}-D.")
    if sr != target_sr:
        import soxr

        a = soxr.resample(a, sr, target_sr).astype(np.float32)
    if len(a) < 400:  # shorter than one analysis window: pad with silence
        a = np.pad(a, (0, 400 - len(a)))
    if not np.all(np.isfinite(a)):
        a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
    return np.ascontiguousarray(a)
