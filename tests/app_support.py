"""Shared helpers of the GUI tests: waiting on Qt events, and an output stream that keeps what
a sound card would play (for machines without one)."""

from __future__ import annotations

import threading
import time

import numpy as np
from PySide6.QtWidgets import QApplication


def wait_until(condition, timeout: float = 60.0) -> None:
    """Process Qt events until ``condition()`` is true (fails after ``timeout`` seconds)."""
    app = QApplication.instance()
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {condition}")
        app.processEvents()
        time.sleep(0.01)


class CaptureStream:
    """An output stream that pulls the callback in real time from a thread and keeps the audio
    (what a sound card would play); for machines without one."""

    def __init__(self, samplerate, channels, dtype, blocksize, callback, finished_callback, device):
        self.sr, self.block, self.callback, self.finished = samplerate, blocksize, callback, finished_callback
        self.played: list[np.ndarray] = []
        self.latency = 0.0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        CaptureStream.last = self

    def _run(self):
        import sounddevice as sd

        while not self._stop.is_set():
            out = np.zeros((self.block, 1), np.float32)
            try:
                self.callback(out, self.block, None, None)
            except sd.CallbackStop:
                self.played.append(out[:, 0].copy())
                break
            self.played.append(out[:, 0].copy())
            time.sleep(self.block / self.sr)
        self.finished()

    def start(self):
        self.thread.start()

    def stop(self):
        self._stop.set()
        if threading.current_thread() is not self.thread:
            self.thread.join(2)

    def close(self):
        pass
