"""Synthetic lessons with known truth, built from real EmoDB speech.

Used by the benchmarks (VAD, speaker roles, end-to-end) and by tests. A lesson alternates a
*teacher* (one EmoDB speaker, long turns of several utterances joined by short pauses) with
*students* (other speakers, short turns of one utterance), separated by pauses, with optional
room noise or babble and quieter (far-field, reverberant) students.

Truth is kept per utterance: the span where the clean clip is actually voiced (EmoDB clips
carry leading/trailing silence, which is trimmed with an energy threshold on the clean clip).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from esergui.paths import emodb_dir

SR = 16000


@dataclass(frozen=True)
class TruthTurn:
    """One utterance placed in a synthetic lesson (times in seconds)."""

    start_s: float
    end_s: float
    speaker: str
    role: str  # "teacher" or "student"
    emotion: str
    file: str


@dataclass
class SynthLesson:
    audio: np.ndarray  # (samples,) float32, 16 kHz mono
    sr: int
    truth: list[TruthTurn] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sr


def load_emodb_index(root: Path | None = None) -> list[dict[str, str]]:
    """Rows of EmoDB's ``labels.csv`` (file, speaker, text, emotion, gender)."""
    root = root or emodb_dir()
    with open(root / "labels.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def read_clip(name: str, root: Path | None = None) -> np.ndarray:
    root = root or emodb_dir()
    audio, sr = sf.read(root / "wav" / name, dtype="float32")
    assert sr == SR, f"{name}: expected 16 kHz, got {sr}"
    return audio


def voiced_span(clip: np.ndarray, sr: int = SR, floor_db: float = -35.0) -> tuple[int, int]:
    """First and last sample of 10 ms frames within ``floor_db`` of the clip's loudest frame."""
    hop = sr // 100
    n = len(clip) // hop
    frames = clip[: n * hop].reshape(n, hop)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    active = np.flatnonzero(db > db.max() + floor_db)
    if active.size == 0:
        return 0, len(clip)
    return int(active[0] * hop), int((active[-1] + 1) * hop)


def _db_to_gain(db: float) -> float:
    return float(10 ** (db / 20))


def room_noise(n: int, rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    """Steady classroom-like noise: pink-ish broadband hiss plus a 50 Hz hum and harmonics."""
    white = rng.standard_normal(n + 4096)
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(len(white), 1 / sr)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))  # 1/f power
    pink = np.fft.irfft(spectrum, len(white))[:n]
    t = np.arange(n) / sr
    hum = sum(np.sin(2 * np.pi * 50 * k * t + k) / k for k in (1, 2, 3))
    noise = pink / (np.std(pink) + 1e-12) + 0.3 * hum
    return (noise / np.std(noise)).astype(np.float32)


def babble(n: int, rng: np.random.Generator, speakers: list[str], voices: int = 6) -> np.ndarray:
    """Overlapping chatter of ``voices`` continuous streams of EmoDB speech from ``speakers``."""
    rows = [r for r in load_emodb_index() if r["speaker"] in speakers]
    out = np.zeros(n, np.float32)
    for _ in range(voices):
        pos = int(rng.integers(0, SR))
        while pos < n:
            clip = read_clip(rows[int(rng.integers(len(rows)))]["file"])
            clip = clip / (np.std(clip) + 1e-9)
            end = min(n, pos + len(clip))
            out[pos:end] += clip[: end - pos]
            pos = end + int(rng.integers(0, SR // 4))
    return out / (np.std(out) + 1e-12)


def reverb(clip: np.ndarray, rng: np.random.Generator, rt60_s: float = 0.5) -> np.ndarray:
    """Convolve with a synthetic exponentially decaying room impulse response."""
    n = int(rt60_s * SR)
    decay = np.exp(-6.9 * np.arange(n) / n)
    ir = rng.standard_normal(n) * decay
    ir[0] = 4.0
    wet = np.convolve(clip, ir / np.sqrt(np.sum(ir**2)))[: len(clip)]
    return wet.astype(np.float32)


def build_lesson(
    seed: int = 0,
    duration_s: float = 120.0,
    teacher: str = "03",
    students: tuple[str, ...] = ("08", "09", "13"),
    teacher_turn_utterances: tuple[int, int] = (2, 5),
    teacher_dbfs: float = -24.0,
    student_rel_db: tuple[float, float] = (-6.0, -12.0),
    student_far_field: bool = False,
    student_turn_utterances: int = 2,
    short_student_prob: float = 0.25,
    teacher_again_prob: float = 0.15,
    pause_range_s: tuple[float, float] = (0.6, 3.0),
    intra_pause_range_s: tuple[float, float] = (0.2, 0.45),
    noise: str | None = "room",
    snr_db: float = 20.0,
    babble_speakers: tuple[str, ...] = ("14", "15", "16"),
    exclude_files: tuple[str, ...] = (),
) -> SynthLesson:
    """A lesson of about ``duration_s`` seconds with exact truth.

    Levels: each utterance is scaled so its voiced part has RMS ``teacher_dbfs`` (teacher) or
    ``teacher_dbfs`` plus a level drawn from ``student_rel_db`` (students). ``noise`` is
    ``None``, ``"room"`` or ``"babble"`` at ``snr_db`` relative to the teacher's level.
    ``exclude_files``: EmoDB files never used in the lesson (e.g. kept back for enrolling the
    teacher's voice); with the default ``()`` the lesson is exactly as before.
    """
    rng = np.random.default_rng(seed)
    index = load_emodb_index()
    by_speaker: dict[str, list[dict[str, str]]] = {}
    excluded = set(exclude_files)
    for row in index:
        if row["file"] not in excluded:
            by_speaker.setdefault(row["speaker"], []).append(row)

    pieces: list[tuple[int, np.ndarray]] = []
    truth: list[TruthTurn] = []
    pos = int(rng.uniform(0.5, 1.5) * SR)
    total = int(duration_s * SR)
    turn_is_teacher = True
    while pos < total - 4 * SR:
        if turn_is_teacher:
            speaker, role = teacher, "teacher"
            count = int(rng.integers(teacher_turn_utterances[0], teacher_turn_utterances[1] + 1))
        else:
            speaker, role = students[int(rng.integers(len(students)))], "student"
            count = int(rng.integers(1, student_turn_utterances + 1))
        for k in range(count):
            row = by_speaker[speaker][int(rng.integers(len(by_speaker[speaker])))]
            clip = read_clip(row["file"])
            a, b = voiced_span(clip)
            clip = clip[a:b]
            if role == "student" and rng.random() < short_student_prob:
                # A brief answer ("yes", a name): the first 0.5-1.0 s of the clip.
                clip = clip[: int(rng.uniform(0.5, 1.0) * SR)]
            level = teacher_dbfs
            if role == "student":
                level += float(rng.uniform(min(student_rel_db), max(student_rel_db)))
            clip = clip * _db_to_gain(level) / (np.sqrt(np.mean(clip**2)) + 1e-9)
            if role == "student" and student_far_field:
                clip = reverb(clip, rng)
            if pos + len(clip) > total:
                break
            pieces.append((pos, clip.astype(np.float32)))
            truth.append(TruthTurn(pos / SR, (pos + len(clip)) / SR, speaker, role, row["emotion"], row["file"]))
            pos += len(clip)
            if k < count - 1:
                pos += int(rng.uniform(*intra_pause_range_s) * SR)
        pos += int(rng.uniform(*pause_range_s) * SR)
        # Teachers talk more: after a student, back to the teacher; after the teacher, a student
        # (or, with ``teacher_again_prob``, the teacher again after a pause).
        turn_is_teacher = (not turn_is_teacher) or rng.random() < teacher_again_prob

    audio = np.zeros(total, np.float32)
    for start, clip in pieces:
        audio[start : start + len(clip)] += clip
    if noise is not None:
        if noise == "room":
            bg = room_noise(total, rng)
        elif noise == "babble":
            bg = babble(total, rng, list(babble_speakers))
        else:
            raise ValueError(f"unknown noise kind {noise!r}")
        audio += bg * _db_to_gain(teacher_dbfs - snr_db)
    peak = float(np.max(np.abs(audio)))
    if peak > 0.99:
        audio *= 0.99 / peak
    return SynthLesson(audio=audio, sr=SR, truth=truth)


def write_truth_csv(lesson: SynthLesson, path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["start_s", "end_s", "speaker", "role", "emotion", "file"])
        for t in lesson.truth:
            writer.writerow([f"{t.start_s:.3f}", f"{t.end_s:.3f}", t.speaker, t.role, t.emotion, t.file])


def classroom_sounds(n: int, rng: np.random.Generator, per_minute: float = 6.0, sr: int = SR) -> np.ndarray:
    """Non-speech classroom events at random times: desk knocks, chair scrapes, paper rustling
    and footsteps. Each event has RMS 1 over its own duration (scale to set the level); the
    rest is silence. ``(n,)`` float32. Truth: none of it is speech."""
    from scipy import signal as _signal

    out = np.zeros(n, np.float32)
    count = int(rng.poisson(per_minute * n / sr / 60))
    for _ in range(count):
        kind = rng.choice(["knock", "scrape", "rustle", "steps"])
        if kind == "knock":  # 2-4 sharp decaying bursts ~0.15 s apart
            length = int(0.7 * sr)
            ev = np.zeros(length)
            for k in range(int(rng.integers(2, 5))):
                at = int(k * rng.uniform(0.12, 0.2) * sr)
                dur = int(0.04 * sr)
                if at + dur <= length:
                    ev[at : at + dur] += rng.standard_normal(dur) * np.exp(-np.arange(dur) / (0.006 * sr))
            ev = _signal.sosfilt(_signal.butter(2, [200, 2500], "bandpass", fs=sr, output="sos"), ev)
        elif kind == "scrape":  # a chair dragged: band noise with a rough envelope, 0.3-1.0 s
            length = int(rng.uniform(0.3, 1.0) * sr)
            lo = rng.uniform(300, 900)
            ev = _signal.sosfilt(
                _signal.butter(2, [lo, lo * 4], "bandpass", fs=sr, output="sos"), rng.standard_normal(length)
            )
            ev *= np.abs(np.sin(np.linspace(0, np.pi * rng.uniform(2, 6), length))) ** 0.5
        elif kind == "rustle":  # paper: high-frequency crackle, 0.5-1.5 s
            length = int(rng.uniform(0.5, 1.5) * sr)
            ev = _signal.sosfilt(_signal.butter(2, 2000, "highpass", fs=sr, output="sos"), rng.standard_normal(length))
            ev *= (rng.random(length // 160 + 1) ** 3).repeat(160)[:length]
        else:  # footsteps: soft low thumps every ~0.5 s
            length = int(rng.uniform(1.5, 3.0) * sr)
            ev = np.zeros(length)
            for at in range(0, length - int(0.08 * sr), int(rng.uniform(0.45, 0.6) * sr)):
                dur = int(0.08 * sr)
                ev[at : at + dur] += rng.standard_normal(dur) * np.exp(-np.arange(dur) / (0.015 * sr))
            ev = _signal.sosfilt(_signal.butter(2, 400, "lowpass", fs=sr, output="sos"), ev)
        ev = ev / (np.sqrt(np.mean(ev**2)) + 1e-12)
        at = int(rng.integers(0, max(1, n - length)))
        end = min(n, at + length)
        out[at:end] += ev[: end - at].astype(np.float32)
    return out
