"""Run long work off the GUI thread, with progress, partial results and cooperative Cancel.

A *job* is a plain callable ``job(progress, cancel, partial) -> result`` where
``progress(stage, fraction, message)`` reports per stage, ``cancel`` is an
:class:`esergui.progress.CancelToken` and ``partial(obj)`` hands over results as they arrive.
:class:`TaskRunner` runs one job in a ``QThread`` and turns those calls into queued signals;
:class:`JobQueue` runs several jobs one after another (the analysis queue).
"""

from __future__ import annotations

import logging
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from esergui.errors import USER_ERRORS
from esergui.progress import Cancelled, CancelToken

log = logging.getLogger(__name__)

#: Runners whose thread has not finished yet (kept alive until it has).
_ALIVE: set[TaskRunner] = set()

Job = Callable[[Callable[[str, float, str], None], CancelToken, Callable[[Any], None]], Any]


def one_line(exc: BaseException) -> str:
    """The user-facing one-line reason for ``exc``."""
    if isinstance(exc, USER_ERRORS):
        text = str(exc)
    else:
        text = f"unexpected error ({type(exc).__name__}: {exc})"
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


class _Worker(QObject):
    progress = Signal(str, float, str)
    partial = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str, str)  # one-line reason, traceback
    cancelled = Signal()
    done = Signal()

    def __init__(self, job: Job, token: CancelToken) -> None:
        super().__init__()
        self.job = job
        self.token = token

    @Slot()
    def run(self) -> None:
        try:
            result = self.job(self._progress, self.token, self.partial.emit)
            if self.token.cancelled:
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)
        except Cancelled:
            self.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - everything must reach the GUI as a message
            if self.token.cancelled and not isinstance(exc, USER_ERRORS):
                self.cancelled.emit()
            else:
                tb = traceback.format_exc()
                if not isinstance(exc, USER_ERRORS):
                    log.error("job failed:\n%s", tb)
                self.failed.emit(one_line(exc), tb)
        finally:
            self.done.emit()

    def _progress(self, stage: str, fraction: float, message: str = "") -> None:
        self.progress.emit(str(stage), float(min(1.0, max(0.0, fraction))), str(message))


class TaskRunner(QObject):
    """Runs one job in its own ``QThread``. Signals mirror the job's life:
    ``progress(stage, fraction, message)``, ``partial(obj)``, then exactly one of
    ``succeeded(result)`` / ``failed(reason, details)`` / ``cancelled()``, then ``finished()``."""

    progress = Signal(str, float, str)
    partial = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str, str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.token = CancelToken()
        self._thread = QThread()
        self._worker = _Worker(job, self.token)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        w = self._worker
        w.progress.connect(self.progress)
        w.partial.connect(self.partial)
        w.succeeded.connect(self.succeeded)
        w.failed.connect(self.failed)
        w.cancelled.connect(self.cancelled)
        w.done.connect(
            self._thread.quit, Qt.ConnectionType.DirectConnection
        )  # quit is thread-safe; wait() must not need the GUI loop
        self._thread.finished.connect(self._on_thread_finished)
        self.running = False

    def start(self) -> None:
        self.running = True
        _ALIVE.add(self)  # queued signals must never reach a collected runner
        self._thread.start()

    def cancel(self) -> None:
        self.token.cancel()

    def wait(self, ms: int = 5000) -> bool:
        return self._thread.wait(ms)

    def _on_thread_finished(self) -> None:
        self.running = False
        self.finished.emit()
        _ALIVE.discard(self)


def running_runners() -> list[TaskRunner]:
    """Every runner whose thread has not finished yet."""
    return list(_ALIVE)


@dataclass
class QueuedJob:
    key: Any  # e.g. a lesson id
    title: str
    job: Job


class JobQueue(QObject):
    """Runs queued jobs one at a time. ``key`` identifies a job (a lesson id); a key already
    queued or running is not added twice. Signals carry the key first."""

    jobStarted = Signal(object, str)
    jobProgress = Signal(object, str, float, str)
    jobPartial = Signal(object, object)
    jobSucceeded = Signal(object, object)
    jobFailed = Signal(object, str, str)
    jobCancelled = Signal(object)
    queueChanged = Signal()
    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pending: deque[QueuedJob] = deque()
        self.current: QueuedJob | None = None
        self.runner: TaskRunner | None = None

    def add(self, key: Any, title: str, job: Job) -> bool:
        if (self.current is not None and self.current.key == key) or any(q.key == key for q in self.pending):
            return False
        self.pending.append(QueuedJob(key, title, job))
        self.queueChanged.emit()
        if self.runner is None:
            self._next()
        return True

    def is_busy(self) -> bool:
        return self.runner is not None

    def keys(self) -> list:
        return ([self.current.key] if self.current else []) + [q.key for q in self.pending]

    def cancel_current(self) -> None:
        if self.runner is not None:
            self.runner.cancel()

    def remove(self, key: Any) -> None:
        """Drop a pending job, or cancel it if it is running."""
        if self.current is not None and self.current.key == key:
            self.cancel_current()
            return
        self.pending = deque(q for q in self.pending if q.key != key)
        self.queueChanged.emit()

    def cancel_all(self) -> None:
        self.pending.clear()
        self.queueChanged.emit()
        self.cancel_current()

    def wait(self, ms: int = 5000) -> bool:
        return self.runner.wait(ms) if self.runner is not None else True

    def _next(self) -> None:
        if not self.pending:
            self.current = None
            self.queueChanged.emit()
            self.idle.emit()
            return
        item = self.pending.popleft()
        self.current = item
        runner = TaskRunner(item.job, self)
        key = item.key
        runner.progress.connect(lambda s, f, m: self.jobProgress.emit(key, s, f, m))
        runner.partial.connect(lambda obj: self.jobPartial.emit(key, obj))
        runner.succeeded.connect(lambda res: self.jobSucceeded.emit(key, res))
        runner.failed.connect(lambda r, d: self.jobFailed.emit(key, r, d))
        runner.cancelled.connect(lambda: self.jobCancelled.emit(key))
        runner.finished.connect(self._on_finished)
        self.runner = runner
        self.queueChanged.emit()
        self.jobStarted.emit(key, item.title)
        runner.start()

    def _on_finished(self) -> None:
        runner = self.runner
        self.runner = None
        if runner is not None:
            runner.setParent(None)  # Python owns it now; dropped once its thread is gone
        self._next()
