"""Where lessons run: a local pool of worker processes, or a Dask cluster.

Both engines run one lesson per task (:func:`esergui.batch.worker.analyse_lesson`) and yield a
:class:`~esergui.batch.worker.LessonOutcome` per lesson as lessons finish, in any order.

* :func:`run_local`: ``jobs`` processes of :class:`concurrent.futures.ProcessPoolExecutor`
  (started with ``spawn``, as on Windows and macOS, so no state is inherited by ``fork``).
* :func:`run_dask`: a ``distributed`` scheduler at ``ADDRESS`` (``tcp://host:8786``, a
  ``dask-jobqueue`` cluster's address, see ``docs/BATCH.md``), or ``"local"`` for a
  :class:`distributed.LocalCluster` of ``jobs`` worker processes on this machine. Workers need
  the package installed (no GUI extra needed) and the output folder on a shared file system.
"""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from esergui.batch.plan import LessonTask
from esergui.batch.worker import LessonOutcome, analyse_lesson, init_worker
from esergui.errors import EserError

CONNECT_TIMEOUT_S = 20


class EngineError(EserError):
    """The engine cannot start (no Dask installed, the scheduler unreachable)."""


WORKER_DIED = "its worker process died twice (out of memory, or killed)"


def failed(task: LessonTask, reason: str) -> LessonOutcome:
    return LessonOutcome(key=task.key, name=task.name, audio_path=task.audio_path, ok=False, reason=reason)


def default_threads(jobs: int) -> int:
    """Threads per worker when ``jobs`` workers share this machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


def _pool(jobs: int, threads: int | None) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=max(1, jobs),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(threads, os.getpid()),
    )


def _run_pool(tasks: list[LessonTask], jobs: int, suspects: list[LessonTask]) -> Iterator[LessonOutcome]:
    """Run ``tasks`` (consumed from the front) with at most ``jobs`` in flight. When the pool
    breaks (a worker process died), the lessons in flight move to ``suspects`` and it stops."""
    pool = _pool(jobs, tasks[0].config.threads if tasks else None)
    pending: dict[Future[LessonOutcome], LessonTask] = {}
    try:
        while tasks or pending:
            while tasks and len(pending) < jobs:
                task = tasks.pop(0)
                pending[pool.submit(analyse_lesson, task)] = task
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                task = pending.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    suspects.append(task)
            if suspects:
                suspects.extend(pending.values())
                pending.clear()
                return
    finally:
        pool.shutdown(wait=not pending, cancel_futures=True)


def run_local(tasks: Sequence[LessonTask], jobs: int = 1) -> Iterator[LessonOutcome]:
    """Run ``tasks`` on ``jobs`` local worker processes (thread limits: each task's config).

    At most ``jobs`` lessons are in flight. When a worker process dies (the out-of-memory
    killer, a crash in native code), the lessons that were in flight are run again one at a
    time in a fresh worker: the lesson that kills its worker again is listed as failed, the
    others complete, and the batch goes on with a fresh pool."""
    queue = list(tasks)
    while queue:
        suspects: list[LessonTask] = []
        yield from _run_pool(queue, jobs, suspects)
        for task in suspects:
            alone: list[LessonTask] = []
            yield from _run_pool([task], 1, alone)
            if alone:
                yield failed(task, WORKER_DIED)


def run_dask(tasks: Sequence[LessonTask], scheduler: str, jobs: int = 1) -> Iterator[LessonOutcome]:
    """Run ``tasks`` on a Dask cluster (``scheduler``: its address, or ``"local"``)."""
    if not tasks:
        return
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise EngineError(
            "--scheduler needs Dask's 'distributed' package: pip install 'eser-studio[cluster]'"
        ) from None

    cluster = None
    if scheduler == "local":
        threads = tasks[0].config.threads
        env = (
            {name: str(threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
            if threads
            else {}
        )
        cluster = LocalCluster(
            n_workers=max(1, jobs), threads_per_worker=1, processes=True, dashboard_address=None, env=env
        )
    try:
        client = Client(cluster if cluster is not None else scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise EngineError(
            f"cannot reach the Dask scheduler at {scheduler} ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        ) from None
    try:
        batch_id = uuid.uuid4().hex[:8]
        futures = {
            client.submit(analyse_lesson, t, key=f"esergui-lesson-{t.key[:16]}-{batch_id}", pure=False): t
            for t in tasks
        }
        for future in as_completed(futures):
            task = futures[future]
            if future.status == "error":
                error = future.exception()
                yield failed(
                    task,
                    f"the Dask worker failed ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})",
                )
            else:
                yield future.result()
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def execute(tasks: Sequence[LessonTask], jobs: int = 1, scheduler: str | None = None) -> Iterator[LessonOutcome]:
    """The local pool, or Dask when ``scheduler`` is given."""
    return run_dask(tasks, scheduler, jobs) if scheduler else run_local(tasks, jobs)
