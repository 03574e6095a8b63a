"""JSON export of one lesson: everything a program needs, both layers kept apart.

``<stem>.json`` (UTF-8, ``"format": "eser-studio-lesson"``, ``"version": 1``)::

    {"format", "version", "exported_at", "lesson": {"name", "audio", "duration_s"},
     "labels": [...model labels...], "run": {"model", "model_version", "device", "created"} | null,
     "speakers": [{"label", "name", "role", "role_source"}],
     "utterances": [{"id", "start_s", "end_s", "speaker", "speaker_name", "role", "emotion",
                     "confidence", "emotion_source", "role_source", "arousal", "valence",
                     "note", "codes", "reviewed", "edited_by", "edited_at",
                     "model": {"speaker", "role", "role_confidence", "emotion", "confidence",
                               "probabilities"},
                     "human": {"speaker", "role", "emotion"}}]}

Field meanings are those of the utterances CSV (``docs/DATA_DICTIONARY.md``); missing values
are ``null`` (never NaN, which JSON lacks). :func:`read_json` reads such a file back as one
annotator's utterances.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from esergui.agreement import Annotated
from esergui.formats.files import write_text
from esergui.formats.tables import affect, shown_confidence
from esergui.lesson import AnalysisRun, Speaker, Utterance, now_iso

FORMAT = "eser-studio-lesson"
VERSION = 1


def _num(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(float(value)):
        return None
    return round(float(value), digits)


def lesson_document(
    lesson: str,
    utterances: Sequence[Utterance],
    duration_s: float,
    labels: Sequence[str] = (),
    speakers: Sequence[Speaker] = (),
    audio_path: str | None = None,
    run: AnalysisRun | None = None,
) -> dict[str, Any]:
    names = {s.label: s.name for s in speakers}
    utts = []
    for u in utterances:
        if u.deleted:
            continue
        utts.append(
            {
                "id": u.id,
                "start_s": _num(u.start_s, 3),
                "end_s": _num(u.end_s, 3),
                "speaker": u.final_speaker,
                "speaker_name": names.get(u.final_speaker or "", u.final_speaker),
                "role": u.final_role,
                "emotion": u.final_emotion,
                "confidence": shown_confidence(u),
                "emotion_source": u.emotion_source,
                "role_source": u.role_source,
                "arousal": affect(u, "arousal"),
                "valence": affect(u, "valence"),
                "note": u.note,
                "codes": list(u.codes),
                "reviewed": bool(u.reviewed),
                "edited_by": u.edited_by,
                "edited_at": u.edited_at,
                "model": {
                    "speaker": u.speaker,
                    "role": u.role,
                    "role_confidence": _num(u.role_confidence, 4),
                    "emotion": u.emotion,
                    "confidence": _num(u.confidence, 4),
                    "probabilities": {k: _num(v, 4) for k, v in u.probabilities.items()},
                },
                "human": {"speaker": u.human_speaker, "role": u.human_role, "emotion": u.human_emotion},
            }
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now_iso(),
        "lesson": {"name": lesson, "audio": audio_path, "duration_s": _num(duration_s, 3)},
        "labels": list(labels),
        "run": None
        if run is None
        else {
            "model": run.model_name,
            "model_version": run.model_version,
            "device": run.device,
            "created": run.created,
        },
        "speakers": [
            {"label": s.label, "name": s.name, "role": s.role, "role_source": s.role_source} for s in speakers
        ],
        "utterances": utts,
    }


def write_json(path: str | Path, document: dict[str, Any]) -> Path:
    return write_text(path, json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False) + "\n")


def read_json(path: str | Path) -> list[Annotated]:
    """The utterances of an ESER Studio lesson JSON as one annotator's work."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f'not an ESER Studio lesson file (no "format": "{FORMAT}")')
    out = []
    for k, u in enumerate(doc.get("utterances") or []):
        try:
            start, end = float(u["start_s"]), float(u["end_s"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"utterances[{k}] has no valid start_s/end_s") from None
        human = frozenset(f for f in ("emotion", "role") if u.get(f"{f}_source") == "human")
        out.append(
            Annotated(
                start,
                end,
                u.get("emotion"),
                u.get("role"),
                u.get("speaker"),
                human,
                u.get("id"),
                u.get("note") or "",
                tuple(u.get("codes") or ()),
            )
        )
    return out
