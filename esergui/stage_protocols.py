"""What the analysis pipeline (:mod:`esergui.pipeline`) needs of its injectable stages.

A :class:`Recognizer` is :class:`model.inference.EmotionRecognizer` or any object with
``labels`` and ``predict``; a :class:`SpeakerStage` is :func:`esergui.speakers.attribute_speakers`
or any callable like it. Tests, benchmarks and other models plug in here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from esergui.lesson import Utterance
from esergui.progress import CancelToken, ProgressCallback

if TYPE_CHECKING:
    from esergui.audio import AudioSource
    from esergui.speakers import SpeakerSettings, SpeakerTurn

__all__ = ["Recognizer", "SpeakerNormalisingRecognizer", "SpeakerStage"]


class Recognizer(Protocol):
    """What the pipeline calls on an emotion recognizer (:class:`model.inference.EmotionRecognizer`
    or any object like it). Read with ``getattr`` when present: ``speaker_normalised`` (then
    ``speaker_stats``, see :class:`SpeakerNormalisingRecognizer`), ``model_name``/``name``,
    ``info``, ``path``, ``device_name``/``device``."""

    @property
    def labels(self) -> Sequence[str]: ...

    def predict(
        self,
        waveforms: Sequence[np.ndarray],
        *,
        sample_rate: int = 16000,
        progress: Callable[[float, str], None] | None = None,
        cancel: Any = None,
    ) -> Any:
        """``(N, C)`` probabilities for ``N`` waveforms at ``sample_rate``."""
        ...


class SpeakerNormalisingRecognizer(Recognizer, Protocol):
    """A recognizer whose ``speaker_normalised`` is true: the pipeline gathers each speaker's
    statistics first and passes ``speakers`` and ``stats`` to ``predict``."""

    def speaker_stats(
        self, waveforms: Sequence[np.ndarray], speakers: Sequence[Any], sample_rate: int = 16000, stats: Any = None, /
    ) -> Any: ...


class SpeakerStage(Protocol):
    """The speaker stage: a callable like :func:`esergui.speakers.attribute_speakers`."""

    def __call__(
        self,
        source: AudioSource,
        segments: Sequence[Utterance],
        settings: SpeakerSettings | None,
        teacher_embedding: np.ndarray | None,
        /,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Sequence[SpeakerTurn]: ...
