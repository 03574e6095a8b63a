"""The app's background jobs as plain callables for :class:`esergui.app.common.workers.TaskRunner`
and :class:`~esergui.app.common.workers.JobQueue`: ``job(progress, cancel, partial) -> result`` with
``progress(stage, fraction, message)``. No Qt here: each job calls the Qt-free core
(:mod:`esergui.pipeline`, :mod:`esergui.audio`, the workspace) and nothing else.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from esergui.audio import decode_to_cache, probe
from esergui.audio.envelope import Envelope, compute_envelope
from esergui.audio.locked import LockedSource
from esergui.errors import USER_ERRORS
from esergui.lesson import stored_id
from esergui.models import active_model_path, bundled_model_path
from esergui.progress import CancelToken
from esergui.review.adapters import lesson_data_from_records
from esergui.review.lessondata import LessonData

if TYPE_CHECKING:
    from esergui.pipeline import Pipeline  # loads torch
    from esergui.workspace import Workspace

_pipelines: dict[tuple[str, str | None], Pipeline] = {}
_pipelines_lock = threading.Lock()


def pipeline_model_path(ws: Workspace | None) -> str | None:
    """The model file a shared pipeline is keyed and loaded by: the workspace's active model,
    ``None`` for the bundled one (or no workspace), so every name of the bundled file shares one
    pipeline. Read from the model registry (:func:`esergui.models.active_model_path`), which
    the retraining wizard and the models dialog change. Call it off the GUI thread: it may verify a file."""
    if ws is None:
        return None

    path = active_model_path(ws)
    if path is None:
        return None
    bundled = bundled_model_path()
    if bundled is not None and Path(path).resolve() == Path(bundled).resolve():
        return None  # one cached pipeline for the bundled model, however it was named
    return str(path)


def pipeline_for(device: str, model_path: str | None = None) -> Pipeline:
    """One loaded :class:`esergui.pipeline.Pipeline` per (device, model), shared by jobs (the
    queue runs one analysis at a time). Loading happens under a lock, once."""
    from esergui.pipeline import Pipeline, PipelineSettings  # loads torch: only in the worker thread

    key = (device, model_path)
    with _pipelines_lock:
        pipe = _pipelines.get(key)
        if pipe is None:
            pipe = Pipeline(PipelineSettings(device=device, model_path=model_path))
            pipe.prepare()
            _pipelines[key] = pipe
        return pipe


def probe_job(device: str, ws: Workspace | None = None):
    """-> ``(device text, model text)`` for the status bar, loading the workspace's active model
    (the bundled one without a workspace) on the way."""

    def job(progress, cancel: CancelToken, partial) -> tuple[str, str]:
        model_path = pipeline_model_path(ws)
        pipe = pipeline_for(device, model_path)
        skipped = pipe.prepare()
        rec = pipe.recognizer
        if rec is None:
            reason = skipped.get("emotions", "no emotion model")
            return "— (no emotion model)", f"none: {reason}"
        name = getattr(rec, "model_name", None) or "ESERNet"
        where = "bundled" if model_path is None else Path(model_path).name
        return str(pipe.device), f"{name} ({where}, {len(rec.labels)} labels)"

    return job


def analysis_job(ws: Workspace, lesson_id: int, device: str):
    """Analyse a workspace lesson and store the result (human edits kept); partial results
    are lists of :class:`esergui.lesson.Utterance` with emotions, batch by batch. Returns
    ``{"report": StoreReport, "skipped": {stage: reason}, "timings_s": {stage: s}}``."""

    def job(progress, cancel: CancelToken, partial) -> Any:
        from esergui.pipeline import analyze_into_workspace  # loads torch: only in the worker thread

        pipe = pipeline_for(device, pipeline_model_path(ws))
        progress("decode", 0.0, "loading")
        result, report = analyze_into_workspace(
            ws, lesson_id, pipe, progress=progress, cancel=cancel, on_utterances=partial
        )
        return {"report": report, "skipped": dict(result.run.skipped), "timings_s": dict(result.run.timings_s)}

    return job


def add_lessons_job(ws: Workspace, paths: list[str]):
    """Probe each file (a file that cannot be decoded is reported, not added) and add it.
    -> ``(lesson ids, [(path, one-line reason), ...])``."""

    def job(progress, cancel: CancelToken, partial) -> tuple[list[int], list[tuple[str, str]]]:
        ids: list[int] = []
        problems: list[tuple[str, str]] = []
        for k, path in enumerate(paths):
            cancel.raise_if_cancelled()
            progress("add", k / max(1, len(paths)), Path(path).name)
            try:
                info = probe(path)
                lesson = ws.add_lesson(path, duration_s=float(info.duration_s))
                ids.append(stored_id(lesson.id))
            except USER_ERRORS as exc:
                problems.append((path, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__))
        return ids, problems

    return job


def decode_job(ws: Workspace, lesson_id: int):
    """Decode a lesson's audio into the workspace cache (for viewing before any analysis)."""

    def job(progress, cancel: CancelToken, partial) -> Path:
        lesson = ws.lesson(lesson_id)
        audio = ws.find_audio(lesson_id)
        cache = ws.cache_file(lesson)
        source = decode_to_cache(audio, cache, progress=lambda f, m="": progress("decode", f, m), cancel=cancel)
        if not lesson.duration_s:
            ws.set_duration(lesson_id, source.n_samples / source.sample_rate)
        return cache

    return job


def envelope_job(source: LockedSource, cache_dir: Path | None = None, key: str = ""):
    """The whole-lesson min/max envelope, cached as ``<cache_dir>/<key>_envelope.npz``."""

    def job(progress, cancel: CancelToken, partial) -> Envelope:
        path = Path(cache_dir) / f"{key[:20]}_envelope.npz" if cache_dir and key else None
        if path is not None and path.is_file():
            try:
                with np.load(path) as z:
                    if int(z["num_samples"]) == source.n_samples:
                        return Envelope(z["mins"], z["maxs"], int(z["block"]), int(z["sample_rate"]))
            except (OSError, KeyError, ValueError):
                pass
        env = compute_envelope(source, progress=lambda f, m="": progress("waveform", f, m), cancel=cancel)
        if path is not None:
            try:
                tmp = path.with_suffix(".tmp.npz")
                np.savez(
                    tmp,
                    mins=env.mins,
                    maxs=env.maxs,
                    block=env.block,
                    sample_rate=env.sample_rate,
                    num_samples=source.n_samples,
                )
                tmp.replace(path)
            except OSError:
                pass  # a read-only cache only costs time
        return env

    return job


def partial_lesson_data(
    ws: Workspace, lesson_id: int, batch: object, current: LessonData, store: dict
) -> LessonData | None:
    """Accumulate a partial-results ``batch`` (list of utterances) for ``lesson_id`` in
    ``store`` and return the lesson as analysed so far (None for anything else)."""
    if not isinstance(batch, list):
        return None
    acc = store.setdefault(lesson_id, [])
    acc.extend(batch)
    labels: list[str] = []
    for u in acc:
        for name in u.probabilities or {}:
            if name not in labels:
                labels.append(name)
    data = lesson_data_from_records(ws.lesson(lesson_id), acc, labels, None, current.source)
    data.extra["partial"] = True
    return data
