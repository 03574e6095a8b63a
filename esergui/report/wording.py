"""The report's figures in plain words: each a value read from a
:func:`esergui.summary.lesson_summary` row, with one sentence on what it means and its limits.

Nothing here computes a figure: every number comes from the summary row, so the report, the
app's Summary panel and the CSV exports agree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from esergui.lesson import CONFIDENCE_THRESHOLD, UNCERTAIN
from esergui.timefmt import format_time

NOT_AVAILABLE = "not available"


@dataclass(frozen=True)
class Figure:
    """One figure of the report: ``title``, the ``value`` in words, and ``meaning`` (one
    sentence on what it means and what it cannot tell)."""

    title: str
    value: str
    meaning: str


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def clock(seconds: float) -> str:
    """``201.2 -> '3:21'``, ``3725 -> '1:02:05'`` (whole seconds, rounded)."""
    return format_time(round(max(0.0, float(seconds))))


def _pct(value: Any) -> str:
    return NOT_AVAILABLE if missing(value) else f"{value:.0f} %"


def _secs(value: Any) -> str:
    return NOT_AVAILABLE if missing(value) else f"{value:.1f} s"


def _count(value: Any, one: str, many: str) -> str:
    n = 0 if missing(value) else int(value)
    return f"{n} {one if n == 1 else many}"


def headline(row: Mapping[str, Any]) -> str:
    """``"Length 3:21 · 66 utterances · speech 77 % of the time"``."""
    text = f"Length {clock(row['duration_s'])} · {_count(row['utterances'], 'utterance', 'utterances')}"
    return text if missing(row.get("speech_pct")) else f"{text} · speech {_pct(row['speech_pct'])} of the time"


def has_roles(row: Mapping[str, Any]) -> bool:
    return not missing(row.get("teacher_talk_s"))


def talk_time(row: Mapping[str, Any]) -> Figure:
    if not has_roles(row):
        return Figure(
            "Talk time per role",
            NOT_AVAILABLE,
            "No utterance has a teacher or student role (the speaker stage did not run or found no voices).",
        )
    value = (
        f"teacher {clock(row['teacher_talk_s'])} ({_pct(row['teacher_talk_pct_speech'])} of the speech), "
        f"students {clock(row['student_talk_s'])} ({_pct(row['student_talk_pct_speech'])}); "
        f"silence {clock(row['silence_s'])} ({_pct(row['silence_pct'])} of the lesson)"
    )
    if not missing(row.get("unattributed_talk_s")) and row["unattributed_talk_s"] > 0:
        value += f"; no role: {clock(row['unattributed_talk_s'])}"
    return Figure(
        "Talk time per role",
        value,
        "Who held the floor: each role's share of all speech time. Roles come from voice clustering, "
        "so a voice given the wrong role moves its time across; overlapping speech counts once.",
    )


def student_turns(row: Mapping[str, Any]) -> Figure:
    if not has_roles(row):
        return Figure("Student turns per minute", NOT_AVAILABLE, "Needs teacher and student roles.")
    rate = row["student_turns_per_min"]
    value = (
        f"{NOT_AVAILABLE if missing(rate) else f'{rate:.1f}'} per minute "
        f"({_count(row['student_turns'], 'student turn', 'student turns')}, "
        f"{_count(row['teacher_turns'], 'teacher turn', 'teacher turns')})"
    )
    return Figure(
        "Student turns per minute",
        value,
        "How often students take the floor; a turn is a run of one speaker's utterances. A one-word "
        "answer and a long explanation count alike, and two students whose voices were not told apart "
        "count as one turn.",
    )


def wait_time(row: Mapping[str, Any], long_wait_s: float = 3.0) -> Figure:
    if not has_roles(row):
        return Figure("Wait-time proxies", NOT_AVAILABLE, "Needs teacher and student roles.")
    threshold = f"{long_wait_s:g}".replace(".", "_")
    after_teacher = (
        f"after the teacher, median {_secs(row['wait_proxy_teacher_to_student_median_s'])} of silence "
        f"before a student spoke ({_count(row['wait_proxy_teacher_to_student_n'], 'time', 'times')}, "
        f"{_pct(row.get(f'wait_proxy_teacher_to_student_pct_ge_{threshold}s'))} of them {long_wait_s:g} s or longer)"
    )
    after_student = (
        f"after a student, median {_secs(row['wait_proxy_student_to_teacher_median_s'])} before the "
        f"teacher spoke ({_count(row['wait_proxy_student_to_teacher_n'], 'time', 'times')})"
    )
    return Figure(
        "Wait-time proxies",
        f"{after_teacher}; {after_student}",
        f"Silence at each change of speaker, a stand-in for Rowe's wait time (pauses of {long_wait_s:g} s "
        "or more give students time to think). It is not measured wait time: the recording cannot tell a "
        "question from a statement, so every teacher-to-student change counts.",
    )


def longest_monologue(row: Mapping[str, Any]) -> Figure:
    length = row.get("longest_teacher_monologue_s")
    if length is None or missing(length):
        return Figure("Longest teacher monologue", NOT_AVAILABLE, "Needs a teacher role.")
    start = row.get("longest_teacher_monologue_start_s")
    value = clock(length) if start is None or missing(start) else f"{clock(length)} (from {clock(start)})"
    return Figure(
        "Longest teacher monologue",
        value,
        "The longest stretch in which only the teacher spoke, short pauses included. A quiet student "
        "reply the microphone did not pick up does not break it.",
    )


def key_figures(row: Mapping[str, Any], long_wait_s: float = 3.0) -> list[Figure]:
    """The four talk figures of the report, in order."""
    return [talk_time(row), student_turns(row), wait_time(row, long_wait_s), longest_monologue(row)]


def uncertain_sentence(row: Mapping[str, Any]) -> str:
    """What the grey hatched blocks are, with their share of the speech time (the summary's
    ``emotion_uncertain_pct``)."""
    share = row.get(f"emotion_{UNCERTAIN}_pct")
    if missing(share):
        return "No utterance has an emotion yet."
    threshold = row.get("low_confidence_threshold", CONFIDENCE_THRESHOLD)
    return (
        f"Where the model's confidence is below {100 * threshold:.0f} %, an utterance is shown as "
        f'"uncertain" (grey, hatched) and counted as such, never forced into a class: {_pct(share)} of the '
        "speech time here. Labels a person set are never uncertain."
    )


def arousal_sentence(row: Mapping[str, Any], sigma_s: float = 20.0) -> str:
    """How to read the arousal curve, with the summary's mean arousal per role."""
    means = [
        f"{name} {row[f'{role}_arousal_mean']:+.2f}"
        for role, name in (("teacher", "teacher"), ("student", "students"))
        if not missing(row.get(f"{role}_arousal_mean"))
    ]
    text = (
        "Arousal is each utterance's expected point on the calm (-1) to activated (+1) axis given the model's "
        f"probabilities (Russell's circumplex), smoothed over about {sigma_s:.0f} s"
    )
    return text + (f"; mean {', '.join(means)}." if means else ".")


_FALLBACK_CAVEAT = (
    "The emotion model was trained on acted speech; expect lower accuracy in classrooms and treat "
    "its output as a hint to be checked by a human, never as a judgement about a person."
)
_LIMITS = re.compile(r"\*\*Read this first \(limits[^)]*\)\.\*\*(.*?)(?=\n\s*\n|\n#|\Z)", re.DOTALL)


def _plain(markdown: str) -> str:
    text = re.sub(r"[*_`]", "", " ".join(markdown.split()))
    # pointers to the card's own tables mean nothing on a report
    text = re.sub(r"\s+than in (?:any|the) (?:tables?|figures?) below", "", text)
    return re.sub(r"[^.]*\b(?:tables?|figures?) below\b[^.]*\.\s*", "", text).strip()


def model_caveat(card: Path | None = None) -> list[str]:
    """The model card's "Read this first (limits...)" block as plain text: its opening
    paragraph, then one entry per bullet; a short fallback when the card or the block is
    missing."""
    if card is None:
        import model

        card = Path(model.__file__).parent / "MODEL_CARD.md"
    try:
        match = _LIMITS.search(card.read_text(encoding="utf-8"))
    except OSError:
        match = None
    if not match:
        return [_FALLBACK_CAVEAT]
    parts = re.split(r"\n\s*[-*]\s+", "\n" + match.group(1).strip())
    entries = [_plain(part) for part in parts if part.strip()]
    return entries or [_FALLBACK_CAVEAT]


def model_figures(run: Any) -> str:
    """The analysing model's headline figures in words (``"UA 64.9 %, WA 66.7 %
    (cross-validated on unseen speakers, ...)"``), read from its verified file; empty when the
    run, its model file or its figures are unknown."""
    from esergui.models import bundled_model_path

    if run is None or not run.model_name:
        return ""
    path = ((getattr(run, "settings", None) or {}).get("model") or {}).get("path") or bundled_model_path()
    try:
        stat = Path(path).stat() if path else None
    except OSError:
        stat = None
    return _figures_of_file(str(path), stat.st_size, stat.st_mtime_ns) if stat else ""


@lru_cache(maxsize=8)
def _figures_of_file(path: str, size: int, mtime_ns: int) -> str:
    from esergui.models import ModelInfo, ModelRegistryError, summarise_meta, verify_model_file

    try:
        figures = summarise_meta(verify_model_file(path))["figures"]
    except ModelRegistryError:
        return ""
    text = ModelInfo("", None, False, "", (), figures=figures).figures_text()
    return "" if text == "no figures" else text
