"""Per-lesson figures: talk time, turns, pause-based wait-time proxies, emotions.

Every figure uses what a user sees: the human label where a person set one, else the model's
(``Utterance.final_*``). Times are seconds; ``*_pct`` columns are percentages (0-100).
Overlapping utterances are counted once (speech time is the union of utterance spans).

Definitions:

* **turn**: consecutive utterances (in time order) of the same speaker; where there are no
  speakers, of the same role. A turn's length runs from its first start to its last end
  (short pauses inside a turn included). The longest teacher turn is the *longest teacher
  monologue*.
* **wait-time proxies** (``wait_proxy_*``): the silent gap between the end of a teacher turn
  and the start of the next turn when that is a student's (``teacher_to_student``), and vice
  versa. They are pause-based proxies of Rowe's wait time, not measured wait time: the
  recording cannot tell a question from a statement.
* **emotion shares**: percent of the (role's) speech time whose emotion is each label, plus
  ``uncertain``: model labels whose confidence is below the threshold
  (:data:`esergui.lesson.CONFIDENCE_THRESHOLD`, ``SummarySettings.low_confidence``) count as
  "uncertain" instead of their class, so the label shares and the uncertain share sum to 100;
  a label a person set always counts as that label. **low confidence**: utterances whose model
  confidence is below the threshold, in percent of the utterances that have a model confidence
  (human labels included, unlike the uncertain share).
* **arousal / valence** (``arousal_mean``, ``valence_mean``, per role and per bin): the
  speech-time-weighted mean of the utterances' ``arousal``/``valence`` (:mod:`model.affect`;
  a human label's point where a person set one). Uncertain utterances are included: their
  values are the expectation over all class probabilities, which already carries the doubt,
  and the arousal read-out stays mostly right where the class does not
  (``bench/results/affect_eval.md``).

With no roles (the speaker stage skipped) the role columns are empty (NaN); with no emotions,
the emotion columns are empty. Nothing raises for a lesson without utterances.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from esergui.lesson import CONFIDENCE_THRESHOLD, ROLES, STUDENT, TEACHER, UNCERTAIN, Utterance

NAN = float("nan")


@dataclass(frozen=True)
class SummarySettings:
    bin_s: float = 300.0  # emotion-over-time bins (5 minutes)
    low_confidence: float = CONFIDENCE_THRESHOLD  # model confidence below this is "uncertain"
    long_wait_s: float = 3.0  # wait-time proxy threshold (Rowe: >= 3 s)


@dataclass(frozen=True)
class Turn:
    start_s: float
    end_s: float
    speaker: str | None
    role: str | None
    utterances: int

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def union_seconds(spans: Iterable[tuple[float, float]]) -> float:
    """Total length of the union of ``(start, end)`` spans."""
    total = 0.0
    current: tuple[float, float] | None = None  # the run of overlapping spans being merged
    for a, b in sorted(spans):
        if current is None or a > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (a, b)
        else:
            current = (current[0], max(current[1], b))
    if current is not None:
        total += current[1] - current[0]
    return total


def turns(utterances: Sequence[Utterance]) -> list[Turn]:
    """Group time-ordered utterances into turns (see the module doc)."""
    ordered = sorted(utterances, key=lambda u: (u.start_s, u.end_s))
    use_speaker = any(u.final_speaker for u in ordered)
    out: list[Turn] = []
    group: list[Utterance] = []

    def key(u: Utterance) -> str | None:
        return u.final_speaker if use_speaker else u.final_role

    def flush() -> None:
        if not group:
            return
        weights: dict[str | None, float] = {}
        for u in group:
            weights[u.final_role] = weights.get(u.final_role, 0.0) + u.duration_s
        role = max(weights, key=lambda r: weights[r])
        out.append(
            Turn(
                group[0].start_s,
                max(u.end_s for u in group),
                group[0].final_speaker if use_speaker else None,
                role,
                len(group),
            )
        )
        group.clear()

    for u in ordered:
        if group and (key(u) is None or key(u) != key(group[-1])):
            flush()
        group.append(u)
    flush()
    return out


def _stats(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return NAN, NAN
    return float(np.mean(values)), float(np.median(values))


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole > 0 else NAN


def lesson_duration(duration_s: float | None, utterances: Iterable[Utterance]) -> float:
    """A lesson's length in seconds: ``duration_s`` (the audio's, once decoded), else the end of
    its last utterance (0 without any). The one rule the summary, the CSVs and the app use."""
    return float(duration_s) if duration_s else max((u.end_s for u in utterances), default=0.0)


def emotion_labels(utterances: Sequence[Utterance], labels: Sequence[str] = ()) -> list[str]:
    """``labels`` followed by any other emotion found in the utterances (model or human);
    never :data:`UNCERTAIN`, which summaries add as a share of its own."""
    out = [label for label in labels if label != UNCERTAIN]
    for u in utterances:
        for e in (u.emotion, u.human_emotion):
            if e and e != UNCERTAIN and e not in out:
                out.append(e)
    return out


def share_labels(labels: Sequence[str]) -> list[str]:
    """The columns of emotion shares: ``labels`` then :data:`UNCERTAIN` (none without labels)."""
    return [*labels, UNCERTAIN] if labels else []


def emotion_shares(
    utterances: Sequence[Utterance], labels: Sequence[str], threshold: float = CONFIDENCE_THRESHOLD
) -> dict[str, float]:
    """Percent of the utterances' total duration per counted emotion (``labels`` and
    ``uncertain``, see :meth:`Utterance.counted_emotion`; NaN when none has an emotion)."""
    columns = share_labels(labels)
    durations = {label: 0.0 for label in columns}
    total = 0.0
    for u in utterances:
        e = u.counted_emotion(threshold)
        if e is None:
            continue
        durations[e] = durations.get(e, 0.0) + u.duration_s
        total += u.duration_s
    return {label: (_pct(durations.get(label, 0.0), total) if total > 0 else NAN) for label in columns}


def affect_means(weighted: Iterable[tuple[float, Utterance]]) -> tuple[float, float]:
    """Weighted mean ``(arousal, valence)`` of ``(weight, utterance)`` pairs (weights are
    seconds of speech); utterances without a value are left out; NaN when none has one."""
    sums, weights = [0.0, 0.0], [0.0, 0.0]
    for w, u in weighted:
        for k, value in enumerate(u.affect):
            if w > 0 and not math.isnan(value):
                sums[k] += w * value
                weights[k] += w
    return tuple(sums[k] / weights[k] if weights[k] > 0 else NAN for k in range(2))  # type: ignore[return-value]


def lesson_summary(
    utterances: Sequence[Utterance],
    duration_s: float,
    labels: Sequence[str] = (),
    lesson: str = "",
    settings: SummarySettings = SummarySettings(),
) -> dict[str, Any]:
    """One lesson's figures as an ordered ``{column: value}`` (one CSV row)."""
    utts = [u for u in utterances if not u.deleted]
    labels = emotion_labels(utts, labels)
    speech = union_seconds((u.start_s, u.end_s) for u in utts)
    duration = lesson_duration(duration_s, utts)
    row: dict[str, Any] = {
        "lesson": lesson,
        "duration_s": duration,
        "speech_s": speech,
        "silence_s": max(0.0, duration - speech),
        "speech_pct": _pct(speech, duration),
        "silence_pct": _pct(max(0.0, duration - speech), duration),
        "utterances": len(utts),
        "mean_utterance_s": float(np.mean([u.duration_s for u in utts])) if utts else NAN,
    }
    has_roles = any(u.final_role for u in utts)
    all_turns = turns(utts)
    minutes = duration / 60.0
    for role in ROLES:
        mine = [u for u in utts if u.final_role == role]
        talk = union_seconds((u.start_s, u.end_s) for u in mine)
        role_turns = [t.duration_s for t in all_turns if t.role == role]
        mean, median = _stats(role_turns)
        row[f"{role}_utterances"] = len(mine) if has_roles else NAN
        row[f"{role}_talk_s"] = talk if has_roles else NAN
        row[f"{role}_talk_pct_speech"] = _pct(talk, speech) if has_roles else NAN
        row[f"{role}_talk_pct_lesson"] = _pct(talk, duration) if has_roles else NAN
        row[f"{role}_turns"] = len(role_turns) if has_roles else NAN
        row[f"{role}_turn_mean_s"] = mean
        row[f"{role}_turn_median_s"] = median
    row["unattributed_talk_s"] = union_seconds((u.start_s, u.end_s) for u in utts if not u.final_role)
    row["student_turns_per_min"] = row[f"{STUDENT}_turns"] / minutes if has_roles and minutes > 0 else NAN
    teacher_turns = [t for t in all_turns if t.role == TEACHER]
    longest = max(teacher_turns, key=lambda t: t.duration_s, default=None)
    row["longest_teacher_monologue_s"] = longest.duration_s if longest else NAN
    row["longest_teacher_monologue_start_s"] = longest.start_s if longest else NAN
    row.update(_wait_proxies(all_turns, settings.long_wait_s, has_roles))
    threshold = settings.low_confidence
    shares = emotion_shares(utts, labels, threshold)
    for label in share_labels(labels):
        row[f"emotion_{label}_pct"] = shares[label]
    for role in ROLES:
        role_shares = emotion_shares([u for u in utts if u.final_role == role], labels, threshold)
        for label in share_labels(labels):
            row[f"{role}_emotion_{label}_pct"] = role_shares[label]
    row["arousal_mean"], row["valence_mean"] = affect_means((u.duration_s, u) for u in utts)
    for role in ROLES:
        role_utts = [u for u in utts if u.final_role == role]
        row[f"{role}_arousal_mean"], row[f"{role}_valence_mean"] = affect_means((u.duration_s, u) for u in role_utts)
    confident = [u.confidence for u in utts if u.confidence is not None]
    row["low_confidence_threshold"] = settings.low_confidence
    row["low_confidence_pct"] = (
        _pct(sum(c < settings.low_confidence for c in confident), len(confident)) if confident else NAN
    )
    row["human_emotion_pct"] = _pct(sum(bool(u.human_emotion) for u in utts), len(utts)) if utts else NAN
    row["reviewed_pct"] = _pct(sum(u.reviewed for u in utts), len(utts)) if utts else NAN
    return row


def _wait_proxies(all_turns: Sequence[Turn], long_wait_s: float, has_roles: bool) -> dict[str, float]:
    gaps: dict[str, list[float]] = {"teacher_to_student": [], "student_to_teacher": []}
    for a, b in zip(all_turns, all_turns[1:]):
        if (a.role, b.role) == (TEACHER, STUDENT):
            gaps["teacher_to_student"].append(max(0.0, b.start_s - a.end_s))
        elif (a.role, b.role) == (STUDENT, TEACHER):
            gaps["student_to_teacher"].append(max(0.0, b.start_s - a.end_s))
    out: dict[str, float] = {}
    for name, values in gaps.items():
        mean, median = _stats(values)
        prefix = f"wait_proxy_{name}"
        out[f"{prefix}_n"] = len(values) if has_roles else NAN
        out[f"{prefix}_mean_s"] = mean
        out[f"{prefix}_median_s"] = median
        threshold = f"{long_wait_s:g}".replace(".", "_")
        out[f"{prefix}_pct_ge_{threshold}s"] = (
            _pct(sum(v >= long_wait_s for v in values), len(values)) if values else NAN
        )
    return out


def summary_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Several lessons' :func:`lesson_summary` rows as one frame (one row per lesson; columns
    missing from a lesson, e.g. another model's labels, are empty)."""
    return pd.DataFrame(list(rows))


def binned(
    utterances: Sequence[Utterance],
    duration_s: float,
    labels: Sequence[str] = (),
    lesson: str = "",
    bin_s: float = 300.0,
    threshold: float = CONFIDENCE_THRESHOLD,
) -> pd.DataFrame:
    """Figures per time bin (default 5 minutes): one row per bin with ``bin_start_s``,
    ``bin_end_s``, ``speech_s``, ``teacher_s``, ``student_s``, ``utterances`` (starting in the
    bin), ``mean_confidence``, ``emotion_<label>_pct`` and ``emotion_uncertain_pct`` (share of
    the bin's speech time; below ``threshold`` a model label counts as uncertain), and
    ``arousal_mean``, ``valence_mean`` with ``<role>_arousal_mean``, ``<role>_valence_mean``
    (weighted by the seconds of each utterance inside the bin)."""
    utts = [u for u in utterances if not u.deleted]
    labels = emotion_labels(utts, labels)
    duration = lesson_duration(duration_s, utts)
    n_bins = max(1, math.ceil(duration / bin_s - 1e-9))
    has_roles = any(u.final_role for u in utts)
    rows = []
    for k in range(n_bins):
        a, b = k * bin_s, min(duration, (k + 1) * bin_s) if duration > 0 else bin_s
        inside = [(max(a, u.start_s), min(b, u.end_s), u) for u in utts if u.end_s > a and u.start_s < b]
        clipped = [(x, y) for x, y, _ in inside]
        row: dict[str, Any] = {
            "lesson": lesson,
            "bin": k,
            "bin_start_s": a,
            "bin_end_s": b,
            "speech_s": union_seconds(clipped),
        }
        for role in ROLES:
            row[f"{role}_s"] = union_seconds((x, y) for x, y, u in inside if u.final_role == role) if has_roles else NAN
        row["utterances"] = sum(a <= u.start_s < b for u in utts)
        conf = [u.confidence for _, _, u in inside if u.confidence is not None]
        row["mean_confidence"] = float(np.mean(conf)) if conf else NAN
        weights: dict[str, float] = {}
        for x, y, u in inside:
            counted = u.counted_emotion(threshold)
            if counted:
                weights[counted] = weights.get(counted, 0.0) + (y - x)
        total = sum(weights.values())
        for label in share_labels(labels):
            row[f"emotion_{label}_pct"] = _pct(weights.get(label, 0.0), total) if total > 0 else NAN
        row["arousal_mean"], row["valence_mean"] = affect_means((y - x, u) for x, y, u in inside)
        for role in ROLES:
            row[f"{role}_arousal_mean"], row[f"{role}_valence_mean"] = affect_means(
                (y - x, u) for x, y, u in inside if u.final_role == role
            )
        rows.append(row)
    return pd.DataFrame(rows)


def emotion_by_role(
    utterances: Sequence[Utterance], labels: Sequence[str] = (), threshold: float = CONFIDENCE_THRESHOLD
) -> pd.DataFrame:
    """Emotion shares (percent of speech time) with one row per role present plus ``all``;
    columns are the labels then ``uncertain``. For the summary panel's bars."""
    utts = [u for u in utterances if not u.deleted]
    labels = emotion_labels(utts, labels)
    index = ["all"] + [r for r in ROLES if any(u.final_role == r for u in utts)]
    data = [
        emotion_shares(utts if r == "all" else [u for u in utts if u.final_role == r], labels, threshold) for r in index
    ]
    return pd.DataFrame(data, index=index, columns=share_labels(labels))
