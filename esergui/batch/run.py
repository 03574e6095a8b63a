"""A whole batch: configure, plan, run on an engine, combine, report failures.

::

    config = make_config("out/", model_path=None, device="auto", threads=1)
    result = run_batch(collect_inputs(["lessons/", "manifest.csv"]), config, jobs=2,
                       scheduler=None, resume=True, on_outcome=print)
    result.failures, result.written["summaries"]

Every finished or failed lesson is appended to ``DIR/.batch/log.jsonl`` (one JSON line: the
event, the lesson's key, name, worker, seconds, reason), so it can be checked afterwards that
a resumed run did no lesson twice. ``DIR/batch.json`` describes the last run.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esergui import __version__
from esergui.batch.combine import store_in_workspace, write_combined
from esergui.batch.engines import execute
from esergui.batch.files import write_json
from esergui.batch.inputs import BatchInputError, LessonInput
from esergui.batch.plan import LESSONS_DIR, STATE_DIR, BatchConfig, BatchPlan, Failure, LessonTask, plan_batch
from esergui.batch.provenance import file_sha256, settings_fingerprint, settings_hash
from esergui.batch.worker import LessonOutcome
from esergui.errors import USER_ERRORS, os_problem
from esergui.lesson import now_iso

if TYPE_CHECKING:
    from esergui.workspace import Workspace


def resolve_model(model_path: str | None) -> tuple[str | None, str]:
    """``(path, sha256)`` of the emotion model a batch uses: the given file (verified: a bad
    file is a user error now, not a failure per lesson), else the bundled one; ``(None, "")``
    when this installation has no model (the emotion stage is then skipped)."""
    from esergui.models import bundled_model_path, verify_model_file

    if model_path is not None:
        verify_model_file(model_path)
        return str(Path(model_path).absolute()), file_sha256(model_path)
    bundled = bundled_model_path()
    return (None, file_sha256(bundled)) if bundled is not None else (None, "")


def make_config(
    out_dir: str | Path, model_path: str | None = None, device: str = "auto", threads: int | None = None
) -> BatchConfig:
    """A batch's shared configuration (the model is resolved and hashed here, once)."""
    from esergui.pipeline import PipelineSettings

    path, model_sha = resolve_model(model_path)
    settings = PipelineSettings(device=device, model_path=path)
    return BatchConfig(str(Path(out_dir).absolute()), settings, settings_hash(settings), model_sha, threads)


@dataclass
class BatchResult:
    plan: BatchPlan
    outcomes: list[LessonOutcome] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    written: dict[str, Path] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def analysed(self) -> int:
        return sum(o.ok for o in self.outcomes)


def _log(out: Path, event: str, **fields: Any) -> None:
    with open(out / STATE_DIR / "log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"event": event, "at": now_iso(), **fields}) + "\n")


def run_batch(
    inputs: Sequence[LessonInput],
    config: BatchConfig,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    workspace: Workspace | None = None,
    on_file: Callable[[LessonInput], None] | None = None,
    on_planned: Callable[[BatchPlan], None] | None = None,
    on_outcome: Callable[[LessonOutcome], None] | None = None,
) -> BatchResult:
    """Plan ``inputs``, analyse what is to do on the engine (``scheduler``: Dask, else ``jobs``
    local processes), store finished lessons in ``workspace`` (an open
    :class:`~esergui.workspace.Workspace`, optional) and write the combined tables."""
    t0 = time.perf_counter()
    out = Path(config.out_dir)
    try:
        (out / STATE_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchInputError(f"cannot create the output folder {out}: {os_problem(exc)}") from None
    started = now_iso()
    _remove_leftovers(out / LESSONS_DIR)
    plan = plan_batch(inputs, config, resume=resume, on_file=on_file)
    result = BatchResult(plan, failures=list(plan.failed))
    for task in plan.done:
        _log(out, "skipped", key=task.key, name=task.name)
    if on_planned is not None:
        on_planned(plan)
    by_key: dict[str, LessonTask] = {t.key: t for t in plan.todo}
    for outcome in execute(plan.todo, jobs, scheduler):
        result.outcomes.append(outcome)
        _log(out, "done" if outcome.ok else "failed", **asdict(outcome))
        if not outcome.ok:
            result.failures.append(Failure(outcome.audio_path, outcome.reason))
        elif workspace is not None:
            _store(workspace, by_key[outcome.key], result)
        if on_outcome is not None:
            on_outcome(outcome)
    if workspace is not None:
        for task in plan.done:
            if not workspace.lessons_with_hash(task.audio_sha256):
                _store(workspace, task, result)
    result.written = write_combined(out, plan.lessons, result.failures)
    result.wall_s = round(time.perf_counter() - t0, 3)
    write_json(
        {
            "program_version": __version__,
            "started": started,
            "finished": now_iso(),
            "wall_s": result.wall_s,
            "engine": f"dask {scheduler}" if scheduler else f"local processes ({jobs})",
            "model_path": config.pipeline_settings.model_path or "bundled",
            "model_sha256": config.model_sha256,
            "settings_hash": config.settings_hash,
            "settings": settings_fingerprint(config.pipeline_settings),
            "lessons": len(plan.lessons) + len(plan.failed),
            "analysed": result.analysed,
            "resumed": len(plan.done),
            "duplicates": [list(d) for d in plan.duplicates],
            "failed": len(result.failures),
        },
        out / "batch.json",
    )
    return result


def _remove_leftovers(lessons_dir: Path) -> None:
    """Half-written lesson folders of a run that was killed while writing (never complete)."""
    for pattern in (".*.partial-*", ".*.old-*"):
        for stale in lessons_dir.glob(pattern):
            shutil.rmtree(stale, ignore_errors=True)


def _store(workspace: Workspace, task: LessonTask, result: BatchResult) -> None:
    try:
        store_in_workspace(workspace, task)
    except USER_ERRORS as exc:
        result.failures.append(Failure(task.audio_path, f"analysed, but not stored in the workspace: {exc}"))
