"""Progress reporting and cooperative cancellation, shared by every long-running stage.

A stage takes ``progress: ProgressCallback | None`` and ``cancel: CancelToken | None``.
It calls ``progress(fraction, message)`` now and then (``fraction`` in ``[0, 1]``) and calls
``cancel.raise_if_cancelled()`` at least every few hundred milliseconds of work, so the GUI
can show a progress bar with a Cancel button that stops within a second. Nothing here knows
about Qt: the GUI's worker forwards these calls as signals.
"""

from __future__ import annotations

import threading
from typing import Protocol


class Cancelled(Exception):
    """Raised inside a stage when its :class:`CancelToken` was cancelled."""


class ProgressCallback(Protocol):
    def __call__(self, fraction: float, message: str = "") -> None: ...


class CancelToken:
    """A thread-safe flag: the GUI thread sets it, the worker thread polls it."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


def check(cancel: CancelToken | None) -> None:
    """Raise :class:`Cancelled` if ``cancel`` is set; a no-op for ``None``."""
    if cancel is not None:
        cancel.raise_if_cancelled()


def report(progress: ProgressCallback | None, fraction: float, message: str = "") -> None:
    """Call ``progress`` if there is one, clamping ``fraction`` to ``[0, 1]``."""
    if progress is not None:
        progress(min(1.0, max(0.0, float(fraction))), message)


def scaled(progress: ProgressCallback | None, start: float, stop: float) -> ProgressCallback | None:
    """A callback mapping a sub-stage's ``[0, 1]`` onto ``[start, stop]`` of ``progress``."""
    if progress is None:
        return None

    def sub(fraction: float, message: str = "") -> None:
        report(progress, start + (stop - start) * fraction, message)

    return sub
