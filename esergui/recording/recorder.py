"""Live recording: PortAudio input stream -> :class:`FrameRing` -> writer thread -> WAV/FLAC file.

Three parties, none of which waits for another:

* the **PortAudio callback** (PortAudio's thread) copies each block into the ring, nothing else;
* the **writer thread** wakes every ``poll_interval_s``, appends the new frames (minus paused
  stretches) to the file, flushes every ``flush_interval_s`` (WAV header updated, ``fsync``),
  checks the free disk space and notices a device that stopped delivering audio;
* **consumers** (the GUI timer, the CLI) read the same ring with their own cursor through
  :class:`esergui.recording.monitor.LiveMonitor` for meters, waveform and VAD.

Memory is the ring (``ring_seconds`` of audio) plus one poll's worth of frames, whatever the
length of the recording. A failure while recording (device gone, disk full) ends the recording
with :attr:`Recorder.error` set, the file closed and kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from esergui.errors import DeviceError, EserError
from esergui.recording.devices import InputDevice, _sd, close_stream, find_input_device, portaudio_error
from esergui.recording.disk import disk_status, pcm_bytes_per_second
from esergui.recording.files import AudioWriter, file_format, open_writer
from esergui.recording.recovery import remove_marker, touch_marker, write_marker
from esergui.recording.ring import FrameRing, PauseLog

#: ``stream_factory(device=, samplerate=, channels=, dtype=, blocksize=, callback=,
#: finished_callback=)`` -> an object with ``start()``, ``stop()``, ``close()``; by default
#: ``sounddevice.InputStream``.
StreamFactory = Callable[..., Any]


class RecorderState(StrEnum):
    """Where a :class:`Recorder` is; str-valued, so each state equals and prints as its name."""

    IDLE = "idle"
    RECORDING = "recording"
    PAUSED = "paused"
    FINISHED = "finished"  # max_seconds reached; call stop
    FAILED = "failed"  # see Recorder.error; call stop
    STOPPED = "stopped"


@dataclass(frozen=True)
class RecordingResult:
    """What :meth:`Recorder.stop` returns: the file and how the recording went."""

    path: Path | None
    frames: int
    samplerate: int
    channels: int
    dropped_frames: int
    input_overflows: int
    error: EserError | None

    @property
    def seconds(self) -> float:
        return self.frames / self.samplerate if self.samplerate else 0.0


class Recorder:
    """Records one input device into ``path`` (``.wav`` or ``.flac``; ``None``: monitor only).

    ``device``: an :class:`InputDevice`, a PortAudio index, a name (see
    :func:`find_input_device`) or ``None`` for the system default. ``samplerate`` and
    ``channels`` default to the device's native rate and its channel count (at most 2).
    ``max_seconds`` stops the recording after exactly that much audio. The recording is int16.
    ``overwrite=False`` refuses a file that exists (atomically, so two recorders started at
    once cannot both take it); a file another live recorder is writing is always refused.

    Use: ``rec.start()``; ``rec.pause()`` / ``rec.resume()``; ``rec.stop() -> RecordingResult``.
    Poll :attr:`state`, :attr:`elapsed_s`, :attr:`error` and :attr:`disk_warning` from the
    controlling thread; all methods are meant to be called from that one thread.
    """

    def __init__(
        self,
        path: str | Path | None,
        device: InputDevice | int | str | None = None,
        *,
        samplerate: int | None = None,
        channels: int | None = None,
        max_seconds: float | None = None,
        ring_seconds: float = 30.0,
        blocksize: int = 0,
        flush_interval_s: float = 1.0,
        poll_interval_s: float = 0.1,
        disk_check_interval_s: float = 5.0,
        stall_timeout_s: float = 5.0,
        startup_timeout_s: float = 10.0,
        stream_factory: StreamFactory | None = None,
        overwrite: bool = True,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.overwrite = overwrite
        if self.path is not None:
            file_format(self.path)  # fail early on a bad suffix
        self.device = find_input_device(device)
        self.samplerate = int(samplerate or self.device.record_samplerate)
        self.channels = int(channels or self.device.record_channels)
        self.max_frames = None if max_seconds is None else int(round(max_seconds * self.samplerate))
        self.ring = FrameRing(int(ring_seconds * self.samplerate), self.channels, "int16")
        self.blocksize = int(blocksize)
        self.flush_interval_s = flush_interval_s
        self.poll_interval_s = poll_interval_s
        self.disk_check_interval_s = disk_check_interval_s
        self.stall_timeout_s = stall_timeout_s
        self.startup_timeout_s = startup_timeout_s
        self._stream_factory = stream_factory
        self._stream: Any = None
        self._writer: AudioWriter | None = None
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._done = threading.Event()
        self._pauses = PauseLog()
        self._lock = threading.Lock()  # guards _pauses between controller and writer thread
        self._state = RecorderState.IDLE
        self._stream_ended = False
        self._overflows = 0
        self._frames_written = 0
        self._dropped = 0
        self._limit_reached = False
        self.error: EserError | None = None
        self.disk_warning: str | None = None
        #: Writer-thread timings (seconds) and backlog (frames), for benchmarks and diagnostics.
        self.stats = {"max_write_s": 0.0, "max_flush_s": 0.0, "max_backlog_frames": 0, "flushes": 0}

    # ----------------------------------------------------------------------- state, for the UI

    @property
    def state(self) -> RecorderState:
        """``idle``, ``recording``, ``paused``, ``finished`` (max_seconds reached; call stop),
        ``failed`` (see :attr:`error`; call stop) or ``stopped``."""
        if self._state in (RecorderState.RECORDING, RecorderState.PAUSED) and self._done.is_set():
            return RecorderState.FAILED if self.error is not None else RecorderState.FINISHED
        return self._state

    @property
    def bytes_per_second(self) -> float:
        return pcm_bytes_per_second(self.samplerate, self.channels)

    @property
    def frames_captured(self) -> int:
        """Frames the device has delivered since start (paused ones included)."""
        return self.ring.written

    @property
    def frames_recorded(self) -> int:
        """Frames that belong to the recording so far (pauses left out), written or about to be."""
        with self._lock:
            kept = self._pauses.kept_count(self.ring.written)
        return kept if self.max_frames is None else min(kept, self.max_frames)

    @property
    def elapsed_s(self) -> float:
        """Seconds of audio recorded so far (pauses left out)."""
        return self.frames_recorded / self.samplerate

    @property
    def input_overflows(self) -> int:
        """Callback blocks PortAudio flagged (input overflow: the system lost audio)."""
        return self._overflows

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the recording ended by itself (max_seconds or an error); True if it did."""
        return self._done.wait(timeout)

    def wait_for_audio(self, timeout: float = 10.0) -> bool:
        """Block until the device delivered its first frames (some servers take ~2 s)."""
        deadline = time.monotonic() + timeout
        while self.ring.written == 0 and not self._done.is_set():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return self.ring.written > 0

    # ----------------------------------------------------------------------------- control

    def start(self) -> None:
        """Check the disk, open the device, create the file and start recording."""
        if self._state != RecorderState.IDLE:
            raise RuntimeError("a Recorder starts only once")
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            status = disk_status(self.path.parent, self.bytes_per_second)
            if status.critical:
                raise DeviceError(status.warning or "The disk is full.")
            self.disk_warning = status.warning
        self._check_settings()
        if self.path is not None:  # claim the name (the marker), then create the file
            write_marker(
                self.path,
                samplerate=self.samplerate,
                channels=self.channels,
                device=self.device.key,
                replace_unfinished=self.overwrite,
            )
            try:
                self._writer = open_writer(self.path, self.samplerate, self.channels, exclusive=not self.overwrite)
            except BaseException:
                remove_marker(self.path)
                raise
        try:
            self._stream = self._open_stream()
            self._stream.start()
        except BaseException as exc:
            self._discard_file()
            if isinstance(exc, EserError):
                raise
            if isinstance(exc, _sd().PortAudioError):
                raise portaudio_error(exc, self.device, self.samplerate, self.channels) from exc
            raise
        self._state = RecorderState.RECORDING
        self._thread = threading.Thread(target=self._run, name="esergui-recorder-writer", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        """Leave out what comes in from now on (the device keeps running for the meters)."""
        if self.state == RecorderState.RECORDING:
            with self._lock:
                self._pauses.pause(self.ring.written)
            self._state = RecorderState.PAUSED

    def resume(self) -> None:
        if self.state == RecorderState.PAUSED:
            with self._lock:
                self._pauses.resume(self.ring.written)
            self._state = RecorderState.RECORDING

    @property
    def is_paused(self) -> bool:
        return self._state == RecorderState.PAUSED

    def stop(self) -> RecordingResult:
        """Close the device, write what is left, close the file; returns the result.

        Safe to call in any state after :meth:`start` (also after a failure, and twice).
        """
        if self._state == RecorderState.IDLE:
            raise RuntimeError("the Recorder was not started")
        self._close_stream()
        self._stop_event.set()
        if self._thread is not None:
            self._thread.join()
        self._state = RecorderState.STOPPED
        return RecordingResult(
            path=self.path,
            frames=self._frames_written,
            samplerate=self.samplerate,
            channels=self.channels,
            dropped_frames=self._dropped,
            input_overflows=self._overflows,
            error=self.error,
        )

    def __enter__(self) -> Recorder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._state != RecorderState.STOPPED:
            self.stop()

    # ------------------------------------------------------------------- PortAudio side

    def _check_settings(self) -> None:
        if self._stream_factory is not None:
            return
        sd = _sd()
        try:
            sd.check_input_settings(
                device=self.device.index, channels=self.channels, dtype="int16", samplerate=self.samplerate
            )
        except sd.PortAudioError as exc:
            raise portaudio_error(exc, self.device, self.samplerate, self.channels) from exc

    def _open_stream(self) -> Any:
        factory = self._stream_factory or _sd().InputStream
        return factory(
            device=self.device.index,
            samplerate=self.samplerate,
            channels=self.channels,
            dtype="int16",
            blocksize=self.blocksize,
            callback=self._callback,
            finished_callback=self._finished,
        )

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: copy into the ring and count overflow flags, nothing else.
        self.ring.write(indata)
        if status:
            self._overflows += 1

    def _finished(self) -> None:
        self._stream_ended = True

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None and not close_stream(stream) and self.error is None:
            self.error = DeviceError(
                f"The input device '{self.device.name}' stopped responding; the recording so far "
                "is kept (restart the app before recording again)."
            )

    # -------------------------------------------------------------------------- writer thread

    def _run(self) -> None:
        position = 0
        now = time.monotonic()
        last_flush = last_disk = last_audio = now
        seen = 0
        try:
            while True:
                stopping = self._stop_event.wait(self.poll_interval_s)
                position = self._drain(position)
                now = time.monotonic()
                if self._writer is not None and now - last_flush >= self.flush_interval_s:
                    self._flush()
                    last_flush = now
                if self.path is not None and now - last_disk >= self.disk_check_interval_s:
                    self._check_disk()
                    last_disk = now
                if stopping or self._limit_reached:
                    break
                if self._stream_ended:
                    raise DeviceError(
                        f"The input device '{self.device.name}' stopped delivering audio "
                        "(unplugged or taken by the system); the recording so far is kept."
                    )
                if self.ring.written != seen:
                    seen, last_audio = self.ring.written, now
                elif now - last_audio > (self.stall_timeout_s if seen else self.startup_timeout_s):
                    raise DeviceError(
                        f"The input device '{self.device.name}' has sent no audio for "
                        f"{now - last_audio:.0f} s (unplugged or muted by the system); "
                        "the recording so far is kept."
                    )
        except EserError as exc:
            self.error = exc
        except Exception as exc:  # disk errors from the writer, libsndfile errors
            self.error = DeviceError(f"Recording stopped because the file could not be written: {exc}.")
        finally:
            self._finish_file()
            self._done.set()

    def _drain(self, position: int) -> int:
        frames, end, dropped = self.ring.read(position)
        self._dropped += dropped
        start = end - len(frames)
        self.stats["max_backlog_frames"] = max(self.stats["max_backlog_frames"], len(frames))
        with self._lock:
            parts = self._pauses.kept(start, end)
        t0 = time.perf_counter()
        for a, b in parts:
            chunk = frames[a - start : b - start]
            if self.max_frames is not None:
                room = self.max_frames - self._frames_written
                if room <= len(chunk):
                    chunk = chunk[:room]
                    self._limit_reached = True
            if len(chunk) and self._writer is not None:
                self._writer.write(chunk)
            self._frames_written += len(chunk)
            if self._limit_reached:
                break
        self.stats["max_write_s"] = max(self.stats["max_write_s"], time.perf_counter() - t0)
        return end

    def _flush(self) -> None:
        assert self._writer is not None and self.path is not None
        t0 = time.perf_counter()
        self._writer.flush()
        touch_marker(self.path)
        self.stats["max_flush_s"] = max(self.stats["max_flush_s"], time.perf_counter() - t0)
        self.stats["flushes"] += 1

    def _check_disk(self) -> None:
        assert self.path is not None
        status = disk_status(self.path.parent, self.bytes_per_second)
        self.disk_warning = status.warning
        if status.critical:
            raise DeviceError((status.warning or "The disk is full.") + " The recording so far is kept.")

    def _finish_file(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None or self.path is None:
            return
        try:
            writer.close()
        except Exception as exc:
            if self.error is None:
                self.error = DeviceError(f"The recording file {self.path} could not be closed: {exc}.")
            return  # keep the marker: recovery will repair the file
        remove_marker(self.path)

    def _discard_file(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None and self.path is not None:
            try:
                writer.close()
            finally:
                self.path.unlink(missing_ok=True)
                remove_marker(self.path)
