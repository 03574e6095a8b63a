"""Recognising one utterance again after a manual edit (a new utterance made by Shift+drag, a
split, moved edges), without re-analysing the lesson: the workspace's active emotion model
(the one an analysis would use) on just that stretch of audio. Qt-free; the app runs
:func:`recognise_job` off the GUI thread and stores the result as an undoable edit
(:func:`with_model_layer`)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from esergui.emotion_stage import speaker_statistics
from esergui.errors import EserError
from esergui.lesson import Utterance, stored_id
from esergui.progress import CancelToken
from esergui.review.jobs import pipeline_for, pipeline_model_path
from esergui.workspace import Workspace

if TYPE_CHECKING:
    from esergui.stage_protocols import SpeakerNormalisingRecognizer


def recognise_job(ws: Workspace, utterance_id: int, source: Any, device: str):
    """A job -> ``{label: probability}`` of the utterance ``utterance_id`` read from ``source``
    (the lesson's decoded audio). A speaker-normalised model reads the voice against its
    speaker's statistics over all of that speaker's utterances in the lesson (the speaker as
    corrected by hand, else the model's), gathered as the pipeline does
    (:func:`esergui.emotion_stage.speaker_statistics`)."""

    def job(progress, cancel: CancelToken, partial) -> dict[str, float]:
        progress("emotions", 0.0, "loading the emotion model")
        pipe = pipeline_for(device, pipeline_model_path(ws))
        rec = pipe.recognizer
        if rec is None:
            raise EserError("no emotion model could be loaded: " + "; ".join(pipe.prepare().values()))
        u = ws.utterance(int(utterance_id))
        sr = int(source.sample_rate)
        wave = np.asarray(source.read(int(u.start_s * sr), int(u.end_s * sr)), dtype=np.float32)
        if len(wave) < sr // 20:
            raise EserError("the utterance is shorter than 50 ms: nothing to recognise")
        extra: dict[str, Any] = {}
        speaker = u.final_speaker
        if getattr(rec, "speaker_normalised", False) and speaker:
            progress("emotions", 0.1, "reading the speaker's voice")
            peers = [o for o in ws.utterances(stored_id(u.lesson_id)) if o.final_speaker == speaker and not o.deleted]
            stats = speaker_statistics(
                cast("SpeakerNormalisingRecognizer", rec), source, peers or [u], [speaker] * max(1, len(peers)), cancel
            )
            extra = {"speakers": [speaker], "stats": stats}
        progress("emotions", 0.5, "recognising")
        probs = np.asarray(rec.predict([wave], sample_rate=sr, cancel=cancel, **extra), dtype=np.float64)[0]
        return {str(label): float(p) for label, p in zip(rec.labels, probs)}

    return job


def with_model_layer(u: Utterance, probabilities: dict[str, float]) -> Utterance:
    """``u`` with the model's emotion, confidence and probabilities set from ``probabilities``
    (the human layer untouched)."""
    label = max(probabilities, key=probabilities.__getitem__)
    return dataclasses.replace(
        u, emotion=label, confidence=float(probabilities[label]), probabilities=dict(probabilities)
    )
