"""Planning a batch: one :class:`LessonTask` per distinct recording, and which ones a resumed
run can skip.

Output layout under ``--out DIR``::

    DIR/lessons/<lesson>_<audio sha256[:10]>/   one folder per lesson (written by a worker)
        <lesson>_utterances.csv, <lesson>_summary.csv, <lesson>_bins.csv
        utterances.parquet, analysis.json
        done.json                               written last: the lesson is complete
    DIR/all_summaries.csv, DIR/all_utterances.parquet, DIR/failures.csv, DIR/batch.json
    DIR/.batch/hashes.json                      audio hashes by path, size and mtime

A worker writes a lesson into a temporary sibling folder and renames it into place only when
every file is there, so a run killed at any moment leaves either a complete lesson folder or
none. With ``resume`` a lesson is skipped when its folder's ``done.json`` has the same resume
key (audio content, settings and model; :mod:`esergui.batch.provenance`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from esergui.batch.inputs import LessonInput
from esergui.batch.provenance import file_sha256, resume_key
from esergui.errors import USER_ERRORS, os_problem

LESSONS_DIR = "lessons"
DONE_FILE = "done.json"
STATE_DIR = ".batch"


@dataclass(frozen=True)
class BatchConfig:
    """What every lesson of a batch shares (sent to workers with each task: small, plain)."""

    out_dir: str
    pipeline_settings: Any  # esergui.pipeline.PipelineSettings
    settings_hash: str
    model_sha256: str
    threads: int | None = None  # torch/BLAS threads per worker; None: the worker's default


@dataclass(frozen=True)
class LessonTask:
    """One lesson for one worker."""

    name: str
    audio_path: str
    audio_sha256: str
    key: str
    folder: str
    duration_s: float
    config: BatchConfig
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure:
    """A lesson that could not be analysed, with a one-line reason."""

    path: str
    reason: str


def one_line(exc: BaseException, path: str) -> str:
    """An error's first line, without a ``"<path>: "`` in front (the failures list shows it)."""
    text = (str(exc).splitlines() or [type(exc).__name__])[0]
    return text[len(path) + 2 :] if text.startswith(f"{path}: ") else text


@dataclass
class BatchPlan:
    todo: list[LessonTask] = field(default_factory=list)
    done: list[LessonTask] = field(default_factory=list)  # resumed: complete outputs exist
    failed: list[Failure] = field(default_factory=list)  # unreadable before any analysis
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path, same recording as)

    @property
    def lessons(self) -> list[LessonTask]:
        return [*self.done, *self.todo]


def read_done(folder: str | Path) -> dict[str, Any] | None:
    """A lesson folder's ``done.json`` (None when the lesson is not complete)."""
    try:
        return json.loads((Path(folder) / DONE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class HashCache:
    """Audio SHA-256 by absolute path, valid while size and modification time are unchanged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.entries: dict[str, list[Any]] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.entries = {}

    def sha256(self, audio: Path) -> str:
        st = audio.stat()
        key = str(audio.absolute())
        hit = self.entries.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return str(hit[2])
        digest = file_sha256(audio)
        self.entries[key] = [st.st_size, st.st_mtime_ns, digest]
        return digest

    def save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.entries), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # only a cache


def _unique_names(inputs: Sequence[LessonInput]) -> list[str]:
    names, seen = [], set()
    for lesson in inputs:
        stem, name, k = lesson.path.stem, lesson.path.stem, 2
        while name in seen:
            name, k = f"{stem}_{k}", k + 1
        seen.add(name)
        names.append(name)
    return names


def plan_batch(
    inputs: Sequence[LessonInput],
    config: BatchConfig,
    resume: bool = False,
    on_file: Callable[[LessonInput], None] | None = None,
) -> BatchPlan:
    """Probe and hash every input, name its lesson folder and (``resume``) skip lessons whose
    outputs exist for the same key. Unreadable inputs become :class:`Failure` rows; the same
    recording given twice is analysed once. ``on_file`` is called after each input."""
    from esergui.audio import probe
    from esergui.formats.names import readable_stem

    out = Path(config.out_dir)
    cache = HashCache(out / STATE_DIR / "hashes.json")
    plan = BatchPlan()
    by_key: dict[str, str] = {}
    for lesson, name in zip(inputs, _unique_names(inputs)):
        try:
            duration = float(probe(lesson.path).duration_s)
            sha = cache.sha256(lesson.path)
        except USER_ERRORS as exc:
            plan.failed.append(Failure(str(lesson.path), one_line(exc, str(lesson.path))))
            continue
        except OSError as exc:
            plan.failed.append(Failure(str(lesson.path), f"cannot read it ({os_problem(exc)})"))
            continue
        finally:
            if on_file is not None:
                on_file(lesson)
        key = resume_key(sha, config.settings_hash, config.model_sha256)
        if key in by_key:
            plan.duplicates.append((str(lesson.path), by_key[key]))
            continue
        by_key[key] = str(lesson.path)
        folder = out / LESSONS_DIR / f"{readable_stem(name)}_{sha[:10]}"
        task = LessonTask(
            name, str(lesson.path.absolute()), sha, key, str(folder), duration, config, dict(lesson.metadata)
        )
        done = read_done(folder) if resume else None
        (plan.done if done is not None and done.get("key") == key else plan.todo).append(task)
    cache.save()
    return plan
