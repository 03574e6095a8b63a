"""The tables of a lesson export: utterances, lesson summary and time bins (as pandas frames).

Column meanings, units and rounding: ``docs/DATA_DICTIONARY.md``. The frames are written by
the one CSV writer, :mod:`esergui.formats.csvout`.

``confidence`` is the model's probability **of the label shown in ``emotion``**: for a model
label that is the model's top probability; for a label a person set (``emotion_source`` =
``human``) it is the model's probability of the person's label, empty when the model has no
such label (a label the model does not know). It is never the probability of another label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from esergui.lesson import AnalysisRun, Speaker, Utterance
from esergui.summary import SummarySettings, lesson_summary

#: The fixed leading columns of an utterances CSV (then ``p_<label>`` columns, then the rest).
UTTERANCE_COLUMNS = (
    "lesson",
    "utterance_id",
    "start_s",
    "end_s",
    "duration_s",
    "speaker",
    "speaker_name",
    "role",
    "role_confidence",
    "emotion",
    "confidence",
)
#: Arousal and valence (in [-1, 1]) where the utterance data has them; after ``p_<label>``.
AFFECT_COLUMNS = ("arousal", "valence")
TRAILING_COLUMNS = (
    "emotion_source",
    "role_source",
    "model_emotion",
    "model_confidence",
    "model_role",
    "model_speaker",
    "note",
    "codes",
    "reviewed",
    "edited_by",
    "edited_at",
)


def _r(value: float | None, digits: int) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else round(value, digits)


def shown_confidence(u: Utterance) -> float | None:
    """The model's probability of the label the utterance shows (module doc)."""
    if u.human_emotion:
        return _r(u.probabilities.get(u.human_emotion), 4)
    return _r(u.confidence, 4)


def affect(u: Utterance, name: str) -> float | None:
    """``u.arousal``/``u.valence`` when the utterance data has them, else ``None``."""
    value = getattr(u, name, None)
    return _r(value, 4) if isinstance(value, (int, float)) else None


def utterances_frame(
    utterances: Sequence[Utterance], labels: Sequence[str] = (), lesson: str = "", speakers: Sequence[Speaker] = ()
) -> pd.DataFrame:
    """One row per utterance (deleted ones left out); columns :data:`UTTERANCE_COLUMNS`, a
    ``p_<label>`` column per label of the model, :data:`AFFECT_COLUMNS`, then
    :data:`TRAILING_COLUMNS`. ``emotion``, ``role`` and ``speaker`` are the final values
    (human where set); ``model_*`` the model's."""
    names = {s.label: s.name for s in speakers}
    labels = list(labels) or sorted({k for u in utterances for k in u.probabilities})
    rows = []
    for k, u in enumerate(u for u in utterances if not u.deleted):
        row: dict[str, Any] = {
            "lesson": lesson,
            "utterance_id": u.id if u.id is not None else k + 1,
            "start_s": _r(u.start_s, 3),
            "end_s": _r(u.end_s, 3),
            "duration_s": _r(u.duration_s, 3),
            "speaker": u.final_speaker,
            "speaker_name": names.get(u.final_speaker or "", u.final_speaker),
            "role": u.final_role,
            "role_confidence": _r(u.role_confidence, 4),
            "emotion": u.final_emotion,
            "confidence": shown_confidence(u),
        }
        for label in labels:
            row[f"p_{label}"] = _r(u.probabilities.get(label), 4)
        for name in AFFECT_COLUMNS:
            row[name] = affect(u, name)
        row.update(
            {
                "emotion_source": u.emotion_source,
                "role_source": u.role_source,
                "model_emotion": u.emotion,
                "model_confidence": _r(u.confidence, 4),
                "model_role": u.role,
                "model_speaker": u.speaker,
                "note": u.note,
                "codes": ";".join(u.codes),
                "reviewed": int(u.reviewed),
                "edited_by": u.edited_by,
                "edited_at": u.edited_at,
            }
        )
        rows.append(row)
    columns = [*UTTERANCE_COLUMNS, *(f"p_{x}" for x in labels), *AFFECT_COLUMNS, *TRAILING_COLUMNS]
    return pd.DataFrame(rows, columns=columns)


def summary_row(
    lesson: str,
    utterances: Sequence[Utterance],
    duration_s: float,
    labels: Sequence[str] = (),
    settings: SummarySettings = SummarySettings(),
    run: AnalysisRun | None = None,
) -> dict[str, Any]:
    """A lesson's summary row; ``run`` (the analysis that made the model layer) adds
    ``model``, ``model_version``, ``device`` and ``stages_skipped``."""
    row = lesson_summary(utterances, duration_s, labels, lesson=lesson, settings=settings)
    if run is not None:
        row.update(
            {
                "model": run.model_name,
                "model_version": run.model_version,
                "device": run.device,
                "stages_skipped": ";".join(run.skipped),
            }
        )
    return row
