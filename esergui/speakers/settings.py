"""Settings of the speaker-attribution stage and its output type (stored with each analysis run)."""

from __future__ import annotations

from dataclasses import dataclass

from esergui.errors import EserError
from esergui.settings_io import JsonSettings


class SpeakerSettingsError(EserError, ValueError):
    """A speaker-attribution setting is out of range."""


@dataclass
class SpeakerSettings(JsonSettings):
    """How :func:`esergui.speakers.attribute_speakers` works. Defaults were tuned on synthetic
    lessons with seeds disjoint from the reported ones (``bench/speaker_bench.py --tune``).

    * ``num_speakers``: ``None`` estimates the number of speakers; an integer fixes it.
    * ``max_speakers``: cap on the number of speakers (1 teacher + up to 30 students); beyond
      it the closest speakers are merged.
    * ``window_s``: length of the analysis windows a long segment is cut into (a turn change
      inside a segment is found at this resolution).
    * ``cluster_threshold``: average-linkage cosine distance at which clustering stops merging
      (higher: fewer, larger speakers). Tuned on acted EmoDB voices.
    * ``second_look``: when the threshold leaves a single speaker, cut the clustering tree
      where the silhouette is best instead (real voices can be closer together than acted
      ones; one speaker stays one when no cut reaches a silhouette of 0.1).
    * ``enrol_min_similarity``: with an enrolled teacher voice, the speaker most similar to it
      is the teacher if the cosine similarity reaches this; otherwise the dominant voice is.
    * ``teacher_merge_adjacency`` (off by default), ``teacher_merge_threshold``, ``turn_gap_s``:
      a speaker closer to the teacher than ``teacher_merge_threshold``, at least
      ``teacher_merge_adjacency`` of whose windows directly follow or precede the teacher's
      (pause at most ``turn_gap_s``), is the teacher too (one voice that clustering split,
      e.g. calm vs. agitated). Off by default: it also swallows students who answer without
      a pause (see docs/SPEAKERS.md).
    * ``co_teaching``: two teachers share the lesson (the two dominant voices, or the enrolled
      voice plus the dominant other voice).
    * ``max_cluster_items``: above this many windows, clustering works on a sample of this size
      and assigns the rest (bounded memory and time for 3-hour lessons).
    """

    num_speakers: int | None = None
    max_speakers: int = 31
    window_s: float = 1.5
    cluster_threshold: float = 0.44
    second_look: bool = True
    teacher_merge_adjacency: float | None = None
    teacher_merge_threshold: float = 0.5
    turn_gap_s: float = 0.5
    enrol_min_similarity: float = 0.5
    co_teaching: bool = False
    max_cluster_items: int = 1500

    def __post_init__(self) -> None:
        if self.num_speakers is not None and self.num_speakers < 1:
            raise SpeakerSettingsError("num_speakers must be at least 1 (or None to estimate it)")
        if self.max_speakers < 1:
            raise SpeakerSettingsError("max_speakers must be at least 1")
        if not 0.5 <= self.window_s <= 10.0:
            raise SpeakerSettingsError("window_s must be between 0.5 and 10 seconds")
        if not 0.0 < self.cluster_threshold < 1.0:
            raise SpeakerSettingsError("cluster_threshold must be between 0 and 1")
        if self.max_cluster_items < 50:
            raise SpeakerSettingsError("max_cluster_items must be at least 50")


@dataclass(frozen=True)
class SpeakerTurn:
    """A stretch of one speaker's speech (seconds from the start of the lesson).

    ``speaker`` is ``"S1"``, ``"S2"``, ... (``S1`` is the speaker with the most speech);
    ``role`` is ``"teacher"`` or ``"student"``; ``role_confidence`` in ``[0, 1]``.
    """

    start_s: float
    end_s: float
    speaker: str
    role: str
    role_confidence: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s
