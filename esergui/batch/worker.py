"""One lesson in one worker process: headless, no Qt, results as files plus one small row.

:func:`analyse_lesson` is what the local process pool and Dask workers run. It analyses the
lesson with :class:`esergui.pipeline.Pipeline` (one pipeline per worker thread, so the emotion
model loads once per worker, not once per lesson), writes the lesson folder described in
:mod:`esergui.batch.plan` and returns a :class:`LessonOutcome`: plain fields only, never a
model, audio or utterance objects. A lesson that fails returns ``ok=False`` with a one-line
reason instead of raising, so one bad file never stops the others.

This module imports only the standard library and :mod:`esergui.errors` at import time: a
worker sets its thread limits (:func:`init_worker`) before numpy or torch load.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esergui.errors import EserError  # light: no numpy or torch

if TYPE_CHECKING:
    from esergui.batch.plan import LessonTask

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
_local = threading.local()  # a pipeline per thread: a Dask worker may run several tasks at once


@dataclass(frozen=True)
class LessonOutcome:
    """What a worker sends back for one lesson (a small row)."""

    key: str
    name: str
    audio_path: str
    ok: bool
    reason: str = ""
    duration_s: float = 0.0
    utterances: int = 0
    seconds: float = 0.0  # wall time of this lesson in the worker
    cpu_s: float = 0.0  # CPU time of the worker process (all threads) for this lesson
    worker: str = ""  # host:pid
    peak_rss_mb: float | None = None  # the worker process's peak resident memory so far


class WorkerSetupError(EserError):
    """A worker cannot analyse this batch's lessons as the batch asks (another model)."""


def init_worker(threads: int | None, parent_pid: int | None = None) -> None:
    """Set a pool worker's thread limits and make it exit when the batch process is gone
    (a killed batch leaves no orphan finishing lessons behind a resumed run's back)."""
    if threads:
        for name in _THREAD_VARIABLES:
            os.environ[name] = str(threads)
    if parent_pid is not None:

        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(0.5)
            os._exit(3)

        threading.Thread(target=watch, name="batch-parent-watch", daemon=True).start()


def peak_rss_mb() -> float | None:
    """This process's peak resident set size in MB (None where the OS does not say)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def _pipeline(task: LessonTask) -> Any:
    """This thread's pipeline for the task's settings, loaded once. The model it loaded must
    be the batch's (same SHA-256): a worker installed with another version would otherwise
    write rows whose provenance and resume key name a model that did not make them."""
    from esergui.batch.provenance import file_sha256
    from esergui.pipeline import Pipeline

    settings = task.config.pipeline_settings
    cached = getattr(_local, "pipeline", None)
    if cached is None or cached[0] != repr(settings):
        pipeline = Pipeline(settings)
        pipeline.prepare()
        path = getattr(pipeline.recognizer, "path", None)
        cached = _local.pipeline = (repr(settings), pipeline, file_sha256(path) if path is not None else "")
    if cached[2] != task.config.model_sha256:
        raise WorkerSetupError(
            f"this worker's emotion model (SHA-256 {cached[2][:12] or 'none'}) is not the batch's "
            f"({task.config.model_sha256[:12] or 'none'}); install the same ESER Studio and model on every worker"
        )
    return cached[1]


def analyse_lesson(task: LessonTask) -> LessonOutcome:
    """Analyse one lesson and write its folder; never raises for a bad lesson."""
    from esergui.batch.plan import one_line
    from esergui.errors import USER_ERRORS

    t0, c0 = time.perf_counter(), time.process_time()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    common: dict[str, Any] = {"key": task.key, "name": task.name, "audio_path": task.audio_path, "worker": worker}
    try:
        if task.config.threads:
            import torch

            torch.set_num_threads(task.config.threads)
        result = _pipeline(task).analyze(task.audio_path)
        n = write_lesson(task, result, time.perf_counter() - t0, worker)
    except USER_ERRORS as exc:
        reason = one_line(exc, task.audio_path)
    except Exception as exc:  # a bug: one line here, the traceback when debugging
        reason = f"internal error ({type(exc).__name__}: {one_line(exc, task.audio_path)})"
        if os.environ.get("ESERGUI_DEBUG"):
            traceback.print_exc()
    else:
        return LessonOutcome(
            **common,
            ok=True,
            duration_s=result.duration_s,
            utterances=n,
            seconds=round(time.perf_counter() - t0, 3),
            cpu_s=round(time.process_time() - c0, 3),
            peak_rss_mb=peak_rss_mb(),
        )
    return LessonOutcome(
        **common,
        ok=False,
        reason=reason,
        seconds=round(time.perf_counter() - t0, 3),
        cpu_s=round(time.process_time() - c0, 3),
        peak_rss_mb=peak_rss_mb(),
    )


def write_lesson(task: LessonTask, result: Any, seconds: float, worker: str = "") -> int:
    """Write a lesson's folder (see :mod:`esergui.batch.plan`) atomically; returns the number
    of utterances. Every table row carries the provenance columns."""
    import pandas as pd

    from esergui.batch.files import write_csv, write_json, write_parquet
    from esergui.batch.plan import DONE_FILE
    from esergui.batch.provenance import Provenance
    from esergui.formats.names import readable_stem
    from esergui.formats.tables import summary_row, utterances_frame
    from esergui.lesson import now_iso
    from esergui.summary import binned, emotion_labels

    final = Path(task.folder)
    tmp = final.with_name(f".{final.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    run = result.run
    prov = Provenance(
        model_name=run.model_name or "",
        model_sha256=task.config.model_sha256 if run.model_name else "",
        settings_hash=task.config.settings_hash,
        analysed_at=now_iso(),
    ).columns()
    ident = {"audio_path": task.audio_path, "audio_sha256": task.audio_sha256}
    labels = emotion_labels(result.utterances, result.labels)
    stem = readable_stem(task.name)
    utts = utterances_frame(result.utterances, labels, task.name, result.speakers).assign(**ident, **prov)
    summary = summary_row(task.name, result.utterances, result.duration_s, labels, run=run)
    summary.update({"analysis_s": round(seconds, 3), "worker": worker, **ident, **prov})
    bins = binned(result.utterances, result.duration_s, labels, lesson=task.name).assign(**prov)
    files = [
        write_csv(utts, tmp / f"{stem}_utterances.csv"),
        write_csv(pd.DataFrame([summary]), tmp / f"{stem}_summary.csv"),
        write_csv(bins, tmp / f"{stem}_bins.csv"),
        write_parquet(utts, tmp / "utterances.parquet"),
        write_json(
            {
                "duration_s": result.duration_s,
                "labels": list(result.labels),
                "run": dataclasses.asdict(run),
                "speakers": [dataclasses.asdict(s) for s in result.speakers],
                "utterances": [dataclasses.asdict(u) for u in result.utterances],
                "provenance": prov,
            },
            tmp / "analysis.json",
        ),
    ]
    write_json(
        {
            "key": task.key,
            "name": task.name,
            **ident,
            "utterances": len(utts),
            "provenance": prov,
            "summary": summary,
            "files": [f.name for f in files],
        },
        tmp / DONE_FILE,
    )
    if final.exists():  # an older analysis (other settings or model, or not resumed)
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
        shutil.rmtree(old, ignore_errors=True)
    os.replace(tmp, final)
    return len(utts)
