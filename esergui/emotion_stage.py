"""The pipeline's emotion stage: utterance audio -> the recognizer -> emotion probabilities.

:func:`recognise_emotions` reads each utterance's samples from the lesson's decode cache,
calls the :class:`~esergui.stage_protocols.Recognizer` in batches of speech (the granularity of
partial results and of progress) and lays the probabilities on the utterances;
:func:`model_identity` names the model for the run record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from esergui.errors import EserError
from esergui.lesson import Utterance
from esergui.progress import CancelToken, check
from esergui.stage_protocols import Recognizer, SpeakerNormalisingRecognizer

if TYPE_CHECKING:
    from esergui.audio import AudioSource

__all__ = ["model_identity", "recognise_emotions", "speaker_statistics"]


def speaker_statistics(
    recognizer: SpeakerNormalisingRecognizer,
    source: AudioSource,
    utterances: list[Utterance],
    speakers: Sequence[object],
    cancel: CancelToken | None = None,
) -> Any:
    """A speaker-normalising recognizer's statistics of every speaker's voice, gathered over all
    of ``utterances`` (``speakers[i]`` says whose ``utterances[i]`` is), read from ``source`` in
    chunks of 256. The one rule for the pipeline and for recognising one utterance again, so both
    read a voice against the same average."""
    sr = int(source.sample_rate)
    stats = None
    for a in range(0, len(utterances), 256):
        check(cancel)
        part = utterances[a : a + 256]
        waves = [np.asarray(source.read(int(u.start_s * sr), int(u.end_s * sr)), dtype=np.float32) for u in part]
        stats = recognizer.speaker_stats(waves, speakers[a : a + 256], sr, stats)
    return stats


def recognise_emotions(
    recognizer: Recognizer,
    source: AudioSource,
    utterances: list[Utterance],
    batch_seconds: float,
    stage: Callable[[float, str], None],
    cancel: CancelToken | None = None,
    on_utterances: Callable[[list[Utterance]], None] | None = None,
) -> list[Utterance]:
    """The emotion stage: ``utterances`` with their emotion, confidence and probabilities,
    recognised batch by batch (``batch_seconds`` seconds of speech each; ``on_utterances`` gets each
    batch as it is done). A speaker-normalising recognizer first gathers every speaker's
    statistics over the whole lesson."""
    sr = int(source.sample_rate)
    labels = list(recognizer.labels)
    total = sum(u.duration_s for u in utterances) or 1.0
    out: list[Utterance] = []
    done = 0.0
    batch: list[Utterance] = []
    stats = None

    def samples(u: Utterance) -> np.ndarray:
        return np.asarray(source.read(int(u.start_s * sr), int(u.end_s * sr)), dtype=np.float32)

    if getattr(recognizer, "speaker_normalised", False):
        # The model reads each voice relative to that speaker's own average: gather every
        # speaker's statistics over the whole lesson first (one more read of the speech).
        stats = speaker_statistics(
            cast(SpeakerNormalisingRecognizer, recognizer), source, utterances, [u.speaker for u in utterances], cancel
        )

    def flush() -> None:
        nonlocal done
        if not batch:
            return
        check(cancel)
        waves = [samples(u) for u in batch]
        batch_dur = sum(u.duration_s for u in batch)

        def inner(fraction: float, message: str = "") -> None:
            stage((done + fraction * batch_dur) / total, f"{len(out)} of {len(utterances)} utterances")

        by_speaker = {} if stats is None else {"speakers": [u.speaker for u in batch], "stats": stats}
        probs = np.asarray(recognizer.predict(waves, progress=inner, cancel=cancel, **by_speaker), dtype=np.float64)
        if probs.shape != (len(batch), len(labels)):
            raise EserError(f"the emotion model returned {probs.shape} probabilities for {len(batch)} utterances")
        fresh = []
        for u, p in zip(batch, probs):
            k = int(np.argmax(p))
            fresh.append(
                dataclasses.replace(
                    u,
                    emotion=labels[k],
                    confidence=float(p[k]),
                    probabilities={lab: float(x) for lab, x in zip(labels, p)},
                )
            )
        out.extend(fresh)
        done += batch_dur
        batch.clear()
        stage(done / total, f"{len(out)} of {len(utterances)} utterances")
        if on_utterances is not None:
            on_utterances(fresh)

    batch_s = 0.0
    for u in utterances:
        batch.append(u)
        batch_s += u.duration_s
        if batch_s >= batch_seconds:
            flush()
            batch_s = 0.0
    flush()
    return out


def model_identity(recognizer: Recognizer | None) -> tuple[str | None, str | None]:
    """``(name, version)`` of a recognizer (version: from its metadata, else its file name)."""
    if recognizer is None:
        return None, None
    name = getattr(recognizer, "model_name", None) or getattr(recognizer, "name", None)
    info = getattr(recognizer, "info", None) or {}
    version = info.get("version") or info.get("checksum") or info.get("created")
    path = getattr(recognizer, "path", None)
    if version is None and path is not None:
        version = Path(path).name
    return (None if name is None else str(name)), (None if version is None else str(version))
