"""Speaker attribution of a lesson: windows -> embeddings -> speakers -> roles -> turns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from esergui.audio import as_source
from esergui.errors import EserError
from esergui.lesson import STUDENT, TEACHER
from esergui.progress import ProgressCallback, check, report, scaled
from esergui.speakers.encoder import SR, VoiceEncoder
from esergui.speakers.roles import assign_roles
from esergui.speakers.settings import SpeakerSettings, SpeakerTurn
from esergui.speakers.windows import Windows, embed_windows, voiced_level_db


class VoiceRecordingError(EserError, ValueError):
    """The enrolment recording holds no usable speech."""


#: Enrolment: windows quieter than the loudest one by more than this are pauses, not speech.
ENROL_FLOOR_DB = 15.0


def embed_voice(waveform: np.ndarray, sr: int = SR) -> np.ndarray:
    """A speaker's voice embedding ``(256,)`` float32, L2-normalised (teacher enrolment).

    ``waveform``: mono float32 speech of one person, ideally 10 s or more (pauses are fine:
    1.5 s windows more than 15 dB under the loudest are ignored). Raises ``ValueError`` for an
    empty or silent recording (:class:`VoiceRecordingError`, a ``ValueError``).
    """
    audio = np.asarray(waveform, np.float32).reshape(-1)
    if sr != SR:
        import soxr

        audio = soxr.resample(audio, sr, SR).astype(np.float32)
    if len(audio) < SR // 10 or not np.any(audio):
        raise VoiceRecordingError("The voice recording is empty, silent or shorter than 0.1 s.")
    step = int(1.5 * SR)
    clips = [audio[s : s + step] for s in range(0, len(audio), step)]
    if len(clips) > 1 and len(clips[-1]) < step // 2:
        clips[-2] = np.concatenate([clips[-2], clips.pop()])
    levels = np.array([voiced_level_db(c) for c in clips])
    keep = [c for c, lv in zip(clips, levels) if lv >= levels.max() - ENROL_FLOOR_DB]
    mean = VoiceEncoder.shared().embed(keep).mean(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-9)).astype(np.float32)


def attribute_speakers(
    source: Any,
    segments: Sequence[Any],
    settings: SpeakerSettings | None = None,
    teacher_embedding: np.ndarray | None = None,
    progress: ProgressCallback | None = None,
    cancel: Any = None,
) -> list[SpeakerTurn]:
    """Who speaks when: speaker turns covering ``segments``, each with a role and its confidence.

    ``source``: an ``AudioSource`` (``read(start, stop)``, ``sample_rate``, ``n_samples``) or a
    mono float32 array at 16 kHz. ``segments``: objects with ``start_s``/``end_s`` in seconds
    (``esergui.segment.Segment`` or any such). A segment is split where the speaker changes
    inside it (at ``settings.window_s`` resolution). ``teacher_embedding``: an enrolled teacher
    voice from :func:`embed_voice`. Turns come back in time order; speakers are ``"S1"``,
    ``"S2"``, ... by decreasing talk time. ``progress(fraction, message)`` is called as windows
    are embedded; ``cancel.raise_if_cancelled()`` is checked between batches.
    """
    settings = settings or SpeakerSettings()
    source = as_source(source)
    segments = sorted(segments, key=lambda s: (float(s.start_s), float(s.end_s)))
    if not segments:
        report(progress, 1.0, "no speech")
        return []
    windows = embed_windows(source, segments, settings.window_s, progress=scaled(progress, 0.0, 0.95), cancel=cancel)
    check(cancel)
    report(progress, 0.95, "grouping voices")
    result = assign_roles(
        windows.embedding, windows.duration_s, windows.segment, settings, teacher_embedding, windows.start_s
    )
    turns = windows_to_turns(windows, segments, result.speaker, result.teacher, result.confidence)
    report(progress, 1.0, f"{len({t.speaker for t in turns})} speakers")
    return turns


def windows_to_turns(
    windows: Windows, segments: Sequence[Any], speaker: np.ndarray, teacher: np.ndarray, confidence: np.ndarray
) -> list[SpeakerTurn]:
    """Merge consecutive same-speaker windows of a segment into turns; a turn's confidence is
    the duration-weighted mean of its windows'. Every segment is covered: one without windows
    (past the end of the audio) takes the previous turn's speaker with confidence 0.5."""
    turns: list[SpeakerTurn] = []
    n = len(windows)
    covered = np.zeros(len(segments), bool)
    i = 0
    while i < n:
        seg_idx = int(windows.segment[i])
        j = i + 1
        while j < n and windows.segment[j] == seg_idx and speaker[j] == speaker[i]:
            j += 1
        seg = segments[seg_idx]
        first = i == 0 or windows.segment[i - 1] != seg_idx
        last = j == n or windows.segment[j] != seg_idx
        start = float(seg.start_s) if first else float(windows.start_s[i])
        end = float(seg.end_s) if last else float(windows.end_s[j - 1])
        w = windows.duration_s[i:j]
        conf = float(np.sum(confidence[i:j] * w) / max(float(np.sum(w)), 1e-9))
        turns.append(
            SpeakerTurn(
                start,
                end,
                f"S{int(speaker[i]) + 1}",
                TEACHER if teacher[i] else STUDENT,
                round(min(1.0, max(0.0, conf)), 4),
            )
        )
        covered[seg_idx] = True
        i = j
    for k in np.flatnonzero(~covered):
        seg = segments[int(k)]
        before = [t for t in turns if t.start_s <= float(seg.start_s)]
        ref = before[-1] if before else (turns[0] if turns else SpeakerTurn(0.0, 0.0, "S1", TEACHER, 0.5))
        turns.append(SpeakerTurn(float(seg.start_s), float(seg.end_s), ref.speaker, ref.role, 0.5))
    turns.sort(key=lambda t: (t.start_s, t.end_s))
    return turns
