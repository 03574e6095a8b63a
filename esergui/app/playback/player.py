"""Playback through sounddevice with a moving playhead; no audio device is a notice, not a crash.

The output stream is made by an injected ``stream_factory`` (default: ``sounddevice.OutputStream``)
so tests and special set-ups can route audio elsewhere. Audio is read from the lesson's source
by a feeder thread a few seconds ahead of the PortAudio callback, which only copies memory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from esergui.audio.decode import SAMPLE_RATE
from esergui.audio.locked import LockedSource
from esergui.audio.stretch import MAX_SPEED, MIN_SPEED, Stretcher

StreamFactory = Callable[..., Any]
AHEAD_S = 4.0  # seconds the feeder keeps buffered
BLOCK = 1024  # frames per callback


def sounddevice_stream(**kw) -> Any:
    """``sounddevice.OutputStream(**kw)``; raises ``RuntimeError`` with a sentence when no
    audio output can be used (library or device missing)."""
    try:
        import sounddevice as sd  # loads PortAudio: only when sound is played
    except OSError as exc:  # the PortAudio library itself is missing
        raise RuntimeError("the PortAudio library is not installed (apt install libportaudio2)") from exc
    try:
        return sd.OutputStream(**kw)
    except Exception as exc:  # noqa: BLE001 - PortAudioError, ValueError for a missing device
        raise RuntimeError(f"no audio output device could be opened ({exc})") from exc


class _Feed:
    """A growing buffer of the samples to play for ``[a, b)`` of the source (time-stretched to
    ``speed``, pitch kept: :mod:`esergui.audio.stretch`), read ahead by a thread; callback-safe."""

    def __init__(self, source: LockedSource, a: int, b: int, speed: float = 1.0) -> None:
        self.source, self.a, self.b = source, a, b
        self.stretcher = Stretcher(speed)
        self.chunks: list[np.ndarray] = []
        self.read_to = a  # next sample to read from the source
        self.played = 0  # frames handed to the stream
        self.offset = 0  # within chunks[0]
        self.done = False  # the last chunk is in
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        first = min(b, a + int(AHEAD_S * source.sample_rate))
        self._append(source.read(a, first), first)
        self.thread = threading.Thread(target=self._run, name="eser-playback-feed", daemon=True)
        self.thread.start()

    def _append(self, x: np.ndarray, upto: int) -> None:
        y = self.stretcher.push(x)
        if upto >= self.b:
            y = np.concatenate([y, self.stretcher.flush()])
        with self.lock:
            self.chunks.append(y)
            self.read_to = upto
            self.done = upto >= self.b

    def _run(self) -> None:
        sr = self.source.sample_rate
        while not self.stop_event.is_set() and self.read_to < self.b:
            if self.read_to - (self.a + self.played * self.stretcher.speed) < AHEAD_S * sr:
                upto = min(self.b, self.read_to + sr)
                self._append(self.source.read(self.read_to, upto), upto)
            else:
                self.stop_event.wait(0.05)

    def take(self, n: int) -> np.ndarray:
        """Up to ``n`` samples (fewer only at the end; zeros if the feeder is behind)."""
        out = np.zeros(n, np.float32)
        got = 0
        with self.lock:
            while got < n and self.chunks:
                c = self.chunks[0]
                k = min(n - got, len(c) - self.offset)
                out[got : got + k] = c[self.offset : self.offset + k]
                got += k
                self.offset += k
                if self.offset >= len(c):
                    self.chunks.pop(0)
                    self.offset = 0
            ended = self.done and not self.chunks
            self.played += got if ended else n
        return out[:got] if ended else out


class Player(QObject):
    """Plays ``[t0, t1)`` of a source. Signals: ``started()``, ``stopped()``,
    ``positionChanged(t)`` about 30 times a second while playing, ``unavailable(reason)`` when
    no output stream can be opened (the reason is one sentence)."""

    started = Signal()
    stopped = Signal()
    positionChanged = Signal(float)
    unavailable = Signal(str)
    _finished_from_audio = Signal(object)  # the _Feed whose stream finished

    def __init__(
        self, stream_factory: StreamFactory | None = None, device: Any = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.stream_factory = stream_factory or sounddevice_stream
        self.device = device
        self._stream: Any = None
        self._feed: _Feed | None = None
        self._t0 = 0.0
        self._sr = SAMPLE_RATE  # set from the source at each play()
        self._started_at = 0.0
        self.timer = QTimer(self, interval=30)
        self.timer.timeout.connect(self._tick)
        self._finished_from_audio.connect(self._on_audio_finished)
        self.speed = 1.0  # playback speed, pitch kept (set_speed)
        self.loop = False  # play the range again when it ends
        self._last: tuple[LockedSource | None, float, float] | None = None  # (source, t0, t1) of the last play()

    @property
    def playing(self) -> bool:
        return self._stream is not None

    def position(self) -> float:
        """Seconds into the lesson of the sample being heard now (approximately)."""
        if self._feed is None:
            return self._t0
        latency = float(getattr(self._stream, "latency", 0.0) or 0.0)
        played = (self._feed.played / self._sr - latency) * self._feed.stretcher.speed
        return min(self._t0 + max(0.0, played), self._feed.b / self._sr)

    def set_speed(self, speed: float) -> None:
        """Playback speed (:data:`~esergui.audio.stretch.MIN_SPEED`-:data:`~esergui.audio.stretch.MAX_SPEED`,
        pitch kept) from the next :meth:`play`; a running playback restarts where it is."""
        self.speed = float(min(max(speed, MIN_SPEED), MAX_SPEED))
        if self.playing and self._last is not None:
            source, start, end = self._last
            self.play(source, self.position(), end)
            self._last = (source, start, end)  # a loop still starts where it did

    def _on_audio_finished(self, feed: object) -> None:
        """The range played to its end: stop, or start it again when :attr:`loop` is on. A
        stream ends too when :meth:`stop` (or a new :meth:`play`) closes it; its late signal
        belongs to a feed that is no longer playing and changes nothing."""
        if feed is not self._feed:
            return
        last = self._last
        self.stop()
        if self.loop and last is not None:
            self.play(*last)

    def play(self, source: LockedSource | None, t0: float, t1: float) -> bool:
        """Start playing; returns False (and emits ``unavailable``) when it cannot. With
        :attr:`loop` on, ``[t0, t1)`` plays again and again until :meth:`stop`."""
        self.stop()
        self._last = (source, t0, t1)
        if source is None:
            self.unavailable.emit("this lesson's audio is not available")
            return False
        sr = source.sample_rate
        a = int(max(0.0, t0) * sr)
        b = int(min(t1, source.duration_s) * sr)
        if b - a < sr // 50:
            return False
        self._sr, self._t0 = sr, a / sr
        feed = _Feed(source, a, b, self.speed)

        def callback(outdata, frames, time_info, status) -> None:  # PortAudio thread
            x = feed.take(frames)
            outdata[: len(x), 0] = x
            if len(x) < frames:
                outdata[len(x) :, 0] = 0.0
                raise _stop_exception()

        def finished() -> None:  # PortAudio thread; must return None (emit returns a bool)
            self._finished_from_audio.emit(feed)

        try:
            stream = self.stream_factory(
                samplerate=sr,
                channels=1,
                dtype="float32",
                blocksize=BLOCK,
                callback=callback,
                finished_callback=finished,
                device=self.device,
            )
            stream.start()
        except Exception as exc:  # noqa: BLE001 - any failure to open audio is a notice
            feed.stop_event.set()
            reason = str(exc) if isinstance(exc, RuntimeError) else f"audio output failed ({exc})"
            self.unavailable.emit(reason[0].upper() + reason[1:] if reason else "audio output failed")
            return False
        self._stream, self._feed = stream, feed
        self._started_at = time.monotonic()
        self.timer.start()
        self.started.emit()
        return True

    def stop(self) -> None:
        stream, feed = self._stream, self._feed
        if stream is None:
            return
        self._stream = None
        self.timer.stop()
        if feed is not None:
            feed.stop_event.set()
        try:
            stream.stop()
            stream.close()
        except Exception:  # noqa: BLE001 - a device that vanished mid-play must not crash the app
            pass
        self._feed = None
        self.stopped.emit()

    def _tick(self) -> None:
        if self._stream is not None:
            self.positionChanged.emit(self.position())


def _stop_exception() -> BaseException:
    try:
        import sounddevice as sd  # loads PortAudio: only when sound is played

        return sd.CallbackStop()
    except OSError:
        return StopIteration()
