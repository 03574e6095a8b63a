"""Where retraining clips come from: a :class:`DataSource` (workspace lessons' human labels,
a folder per label, a CSV list, EmoDB) turned into :class:`model.data.Item`\\ s by
:func:`collect_items`; workspace utterances are cut into 16 kHz clips under ``cache/retrain/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf
import soxr

from esergui.errors import EserError, WorkspaceError
from esergui.lesson import HUMAN, stored_id
from esergui.progress import CancelToken, ProgressCallback, check, report
from model.data import SR, Item, csv_items, emodb_items, folder_items, load_audio

if TYPE_CHECKING:  # heavy imports (torch) stay inside the functions that need them
    from esergui.workspace import Workspace


SOURCE_KINDS = ("workspace", "folder", "csv", "emodb")
SOURCE_TITLES = {
    "workspace": "Human-labelled utterances of lessons in this workspace",
    "folder": "A folder with one sub-folder per label",
    "csv": "A CSV list (file,label[,speaker])",
    "emodb": "An EmoDB-style folder",
}
MIN_CLIP_S = 0.4  # shorter clips are left out (too short to carry an emotion)


@dataclass(frozen=True)
class Problem:
    """Something wrong with the data. ``severity``: ``"error"`` (cannot go on) or
    ``"warning"``; ``kind``: ``unreadable``, ``too_short``, ``few_examples``, ``one_label``,
    ``one_speaker``, ``no_speakers``, ``missing_audio`` or ``empty``; ``files``: the files concerned."""

    severity: str
    kind: str
    message: str
    files: tuple[str, ...] = ()


class RetrainError(EserError):
    """The retraining data or settings cannot be used (one sentence for the user)."""


@dataclass(frozen=True)
class DataSource:
    """Where training data comes from. ``kind`` is one of :data:`SOURCE_KINDS`; ``path`` is the
    folder or CSV file (not used for ``workspace``); ``lesson_ids`` picks lessons of the
    workspace (``None``: every lesson with human labels)."""

    kind: str
    path: str | None = None
    lesson_ids: tuple[int, ...] | None = None

    def describe(self) -> str:
        if self.kind == "workspace":
            n = "all lessons" if self.lesson_ids is None else f"{len(self.lesson_ids)} lesson(s)"
            return f"workspace annotations ({n})"
        return f"{self.kind}: {self.path}"


def human_label_counts(ws: Workspace) -> dict[int, int]:
    """Lesson id -> number of its utterances with a human emotion label (lessons with none left out)."""
    out = {}
    for lesson in ws.lessons():
        n = sum(1 for u in ws.utterances(stored_id(lesson.id)) if u.emotion_source == HUMAN)
        if n:
            out[stored_id(lesson.id)] = n
    return out


def collect_items(
    source: DataSource,
    workspace: Workspace | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    problems: list[Problem] | None = None,
) -> list[Item]:
    """The labelled items of ``source`` (file paths are not opened yet, except lesson audio,
    which is cut into clips). Raises :class:`RetrainError` / :class:`model.errors.DatasetError`
    with a one-sentence message when the source is empty or malformed; lessons skipped because
    their audio is missing are appended to ``problems``."""
    if source.kind not in SOURCE_KINDS:
        raise RetrainError(f"Unknown data source {source.kind!r}; choose one of {', '.join(SOURCE_KINDS)}.")
    if source.kind == "workspace":
        if workspace is None:
            raise RetrainError("Open a workspace to train on its annotated lessons.")
        return workspace_items(workspace, source.lesson_ids, progress, cancel, problems)
    if not source.path:
        raise RetrainError("Choose a folder or file with the training data.")
    path = Path(source.path).expanduser()
    if source.kind == "csv":
        if not path.is_file():
            raise RetrainError(f"The CSV list {path} does not exist.")
        return csv_items(path)
    if not path.is_dir():
        raise RetrainError(f"The folder {path} does not exist.")
    return emodb_items(path) if source.kind == "emodb" else folder_items(path)


def workspace_items(
    ws: Workspace,
    lesson_ids: Sequence[int] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    problems: list[Problem] | None = None,
) -> list[Item]:
    """Human-labelled utterances of the workspace's lessons, cut from each lesson's audio into
    16 kHz wav clips under ``<workspace>/cache/retrain/``. The speaker of an item is
    ``<lesson name>: <speaker name>`` (the same voice in two lessons counts as two speakers).
    A lesson whose audio is missing is skipped (a ``missing_audio`` warning in ``problems``);
    :class:`RetrainError` when no lesson is left."""

    counts = human_label_counts(ws)
    ids = [i for i in (lesson_ids if lesson_ids is not None else counts) if counts.get(int(i))]
    if not ids:
        raise RetrainError("No lesson in this workspace has utterances with a human emotion label yet.")
    out_dir = ws.cache_dir / "retrain"
    out_dir.mkdir(parents=True, exist_ok=True)
    items: list[Item] = []
    missing: list[str] = []
    for k, lesson_id in enumerate(ids):
        check(cancel)
        lesson = ws.lesson(int(lesson_id))
        report(progress, k / len(ids), f"cutting clips from {lesson.name}")
        try:
            audio = ws.find_audio(int(lesson_id))
        except WorkspaceError:
            missing.append(lesson.name)
            continue
        cached = ws.cache_file(lesson)
        reader = _SpanReader(cached if cached.is_file() else audio)
        names = {sp.label: sp.name for sp in ws.speakers(int(lesson_id))}
        for u in ws.utterances(int(lesson_id)):
            if u.emotion_source != HUMAN:
                continue
            clip = out_dir / f"{lesson.audio_sha256[:12]}_{u.id}_{int(u.start_s * 1000)}-{int(u.end_s * 1000)}.wav"
            if not clip.is_file():
                wav = reader.read(u.start_s, u.end_s)
                tmp = clip.with_suffix(".tmp.wav")
                sf.write(str(tmp), wav, SR, subtype="PCM_16")
                tmp.replace(clip)
            who = names.get(u.final_speaker or "", u.final_speaker or "unknown speaker")
            items.append(Item(str(clip), str(u.human_emotion), f"{lesson.name}: {who}"))
    if not items:
        raise RetrainError(f"The audio of the selected lessons is missing ({', '.join(missing)}); locate it first.")
    if missing and problems is not None:
        problems.append(
            Problem(
                "warning",
                "missing_audio",
                f"The audio of {len(missing)} lesson(s) is missing, so "
                f"their labels are left out: {', '.join(missing)}; locate the audio to use them.",
            )
        )
    report(progress, 1.0, f"{len(items)} clips from {len(ids) - len(missing)} lesson(s)")
    return items


class _SpanReader:
    """Reads ``[start_s, end_s)`` of a file as 16 kHz mono: seeks with soundfile where it can,
    else decodes the whole file once (PyAV, via :func:`model.data.load_audio`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._whole: np.ndarray | None = None

    def read(self, start_s: float, end_s: float) -> np.ndarray:
        if self._whole is None:
            try:
                with sf.SoundFile(str(self.path)) as fh:
                    sr = fh.samplerate
                    fh.seek(max(0, int(round(start_s * sr))))
                    data = fh.read(max(1, int(round((end_s - start_s) * sr))), dtype="float32", always_2d=True)
                wav = data.mean(axis=1)
                if sr != SR:
                    wav = soxr.resample(wav, sr, SR)
                return np.ascontiguousarray(wav, dtype=np.float32)
            except (sf.LibsndfileError, RuntimeError, OSError):
                self._whole = load_audio(self.path)
        return self._whole[int(round(start_s * SR)) : int(round(end_s * SR))]
