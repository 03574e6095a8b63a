"""Typed records of a lesson's data: lessons, utterances, speakers, analysis runs, edits.

All times are seconds from the start of the lesson's audio. Records are plain dataclasses
(snapshots): the workspace store (:mod:`esergui.workspace`) reads and writes them, the
pipeline produces them, summaries and exports consume them. Nothing here touches a database,
audio or Qt.

An utterance carries two layers:

* the **model layer** (``speaker``, ``role``, ``role_confidence``, ``emotion``,
  ``confidence``, ``probabilities``), replaced whenever the lesson is re-analysed, and
* the **human layer** (``human_speaker``, ``human_role``, ``human_emotion``, ``note``,
  ``codes``, ``reviewed``, ``boundary_source``, ``edited_by``/``edited_at``), which
  re-analysis never drops.

The ``final_*`` properties give what a user sees: the human value where there is one, else
the model's; ``emotion_source``/``role_source`` say which (``"human"``/``"model"``, or
``None`` when neither layer has a value).

``arousal``/``valence`` are derived when read, never stored: from a human label's point on the
valence-arousal plane, else from the model's probabilities (:mod:`model.affect`), so every
workspace, old ones included, has them. Below :data:`CONFIDENCE_THRESHOLD` a model label is
"uncertain" (:meth:`Utterance.is_uncertain`); a label a person set never is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from model.affect import NAN_AFFECT, Affect, affect_from_probabilities, coordinates

#: The two roles of the speaker stage; a workspace accepts any short role string.
TEACHER = "teacher"
STUDENT = "student"
ROLES = (TEACHER, STUDENT)

MODEL = "model"
HUMAN = "human"

#: The one home of the app's confidence threshold: a model emotion whose confidence (top class
#: probability) is below it counts as :data:`UNCERTAIN` in summaries and reports.
CONFIDENCE_THRESHOLD = 0.5
#: What an utterance below the threshold counts as (never a label of the model).
UNCERTAIN = "uncertain"


def now_iso() -> str:
    """The current UTC time as an ISO-8601 string with seconds (``2024-05-01T09:30:00+00:00``)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class LessonStatus(str, Enum):  # noqa: UP042 - a StrEnum would change str() of a status (stored, shown)
    """Where a lesson stands; ``EDITED`` means analysed and then changed by a human."""

    NOT_ANALYSED = "not analysed"
    ANALYSING = "analysing"
    ANALYSED = "analysed"
    EDITED = "edited"


@dataclass
class Lesson:
    """One recorded lesson: an audio file referenced by path and content hash.

    ``audio_quick_hash`` is ``"<size>:<sha256 of first and last MiB>"`` (cheap, for finding a
    moved file); ``audio_sha256`` is the SHA-256 of the whole file (verifies it).
    """

    name: str
    audio_path: str
    audio_size: int = 0
    audio_quick_hash: str = ""
    audio_sha256: str = ""
    duration_s: float | None = None
    created: str = field(default_factory=now_iso)
    status: LessonStatus = LessonStatus.NOT_ANALYSED
    teacher_voice_id: int | None = None
    id: int | None = None


@dataclass
class Speaker:
    """A voice in one lesson. ``label`` is unique within the lesson and never changes
    (``"S1"``, ``"T"``); ``display_name`` is what a human calls it (rename changes only this).
    ``role_source`` is ``"human"`` once a person set the role; ``human_edited`` marks a speaker
    a person renamed, re-roled or merged into (re-analysis maps new voices onto it)."""

    label: str
    role: str | None = None
    display_name: str = ""
    role_source: str = MODEL
    human_edited: bool = False
    lesson_id: int | None = None
    id: int | None = None

    @property
    def name(self) -> str:
        """``display_name`` or, when unnamed, ``label``."""
        return self.display_name or self.label


@dataclass
class Utterance:
    """One utterance (``start_s < end_s``, seconds) with its model and human layers.

    ``probabilities`` maps each label of the model that produced it to a probability (they
    sum to 1). ``codes`` are researcher codes (e.g. FIAC categories). ``boundary_source`` is
    ``"human"`` when a person created, split, merged or moved it. The store fills
    ``speaker_role`` (the role of the speaker when a person chose the speaker or set its role),
    ``deleted`` (a person deleted it: a tombstone, listed only on request) and ``run_id`` (the
    analysis run that produced the model layer; ``None`` for utterances a person created).
    """

    start_s: float
    end_s: float
    # model layer
    speaker: str | None = None
    role: str | None = None
    role_confidence: float | None = None
    emotion: str | None = None
    confidence: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    # human layer
    human_speaker: str | None = None
    human_role: str | None = None
    human_emotion: str | None = None
    note: str = ""
    codes: tuple[str, ...] = ()
    reviewed: bool = False
    boundary_source: str = MODEL
    edited_by: str | None = None
    edited_at: str | None = None
    # filled by the store
    speaker_role: str | None = None
    deleted: bool = False
    lesson_id: int | None = None
    id: int | None = None
    run_id: int | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def final_speaker(self) -> str | None:
        return self.human_speaker or self.speaker

    @property
    def final_role(self) -> str | None:
        return self.human_role or self.speaker_role or self.role

    @property
    def role_source(self) -> str | None:
        if self.human_role or self.speaker_role:
            return HUMAN
        return MODEL if self.role else None

    @property
    def final_emotion(self) -> str | None:
        return self.human_emotion or self.emotion

    @property
    def emotion_source(self) -> str | None:
        if self.human_emotion:
            return HUMAN
        return MODEL if self.emotion else None

    def is_uncertain(self, threshold: float = CONFIDENCE_THRESHOLD) -> bool:
        """True when the emotion shown is the model's and its confidence is below ``threshold``
        (a label a person set is never uncertain)."""
        return (
            not self.human_emotion
            and self.emotion is not None
            and self.confidence is not None
            and self.confidence < threshold
        )

    def counted_emotion(self, threshold: float = CONFIDENCE_THRESHOLD) -> str | None:
        """What summaries count: :data:`UNCERTAIN` below ``threshold``, else ``final_emotion``."""
        return UNCERTAIN if self.is_uncertain(threshold) else self.final_emotion

    @property
    def model_affect(self) -> Affect:
        """``Affect(arousal, valence)``, each in [-1, 1], from the model's probabilities
        (:mod:`model.affect`); NaN when there are none or none of their labels has a point."""
        return affect_from_probabilities(self.probabilities)

    @property
    def affect(self) -> Affect:
        """The human label's point where a person set the emotion (NaN for a label without a
        point), else :attr:`model_affect`."""
        if self.human_emotion:
            return coordinates(self.human_emotion) or NAN_AFFECT
        return self.model_affect

    @property
    def arousal(self) -> float | None:
        """``affect.arousal``, ``None`` when unknown."""
        return _finite(self.affect.arousal)

    @property
    def valence(self) -> float | None:
        """``affect.valence``, ``None`` when unknown."""
        return _finite(self.affect.valence)

    @property
    def has_human_edit(self) -> bool:
        """True when any human-layer field is set: such an utterance is kept, boundaries and
        all, when the lesson is re-analysed."""
        return bool(
            self.human_speaker
            or self.human_role
            or self.human_emotion
            or self.note
            or self.codes
            or self.reviewed
            or self.boundary_source == HUMAN
            or self.deleted
        )


#: Human-layer fields that :meth:`esergui.workspace.Workspace.update_human` may set.
HUMAN_FIELDS = ("human_speaker", "human_role", "human_emotion", "note", "codes", "reviewed")


@dataclass
class AnalysisRun:
    """How a lesson was analysed: settings per stage, the model, the device, timings.

    ``settings`` is JSON-able: ``{"vad": {...}, "speakers": {...}, "model": {...}}``.
    ``timings_s`` maps stage name (``decode``, ``segment``, ``speakers``, ``emotions``,
    ``store``) to wall seconds. ``skipped`` maps a skipped stage to the reason.
    """

    settings: dict[str, Any] = field(default_factory=dict)
    model_name: str | None = None
    model_version: str | None = None
    labels: tuple[str, ...] = ()
    device: str | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    created: str = field(default_factory=now_iso)
    lesson_id: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class Edit:
    """One row of a lesson's edit log: who did what, when, to which utterances.

    ``before``/``after`` are JSON-able descriptions (field values, boundaries)."""

    action: str
    lesson_id: int
    utterance_ids: tuple[int, ...]
    before: Any
    after: Any
    user: str
    at: str
    id: int | None = None


@dataclass(frozen=True)
class TeacherVoice:
    """An enrolled teacher voice: an embedding (float32 vector) from ``encoder`` and the
    recording it came from (a file under the workspace's ``enrolment/`` folder)."""

    name: str
    audio_file: str
    encoder: str
    embedding: tuple[float, ...]
    created: str
    id: int | None = None


@dataclass(frozen=True)
class ModelEntry:
    """A model in the workspace's registry: ``path`` to its file (None = the bundled one)."""

    name: str
    path: str | None
    labels: tuple[str, ...]
    created: str
    figures: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None


def stored_id(value: int | None) -> int:
    """``value`` as an ``int``: the id (or lesson id) of a record read from or written to a
    workspace, which always has one. ``None`` (a record never stored) raises ``TypeError``,
    as ``int(None)`` does."""
    if value is None:
        raise TypeError("this record was never stored in a workspace, so it has no id")
    return int(value)


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON used for every JSON column."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
