"""Recording panel: device picker, level meter with clip lamp, live waveform + speech band,
elapsed time, Record / Pause / Stop, disk-space warning (the meters live in :mod:`.meters`, the
dialog that offers to keep recordings a crash left unfinished in :mod:`.recovery`).

Data flow (as in ``esergui.recording``): PortAudio callback -> ring buffer -> writer thread ->
file. This panel only *reads* the ring, from a ``QTimer`` (every ``refresh_ms``), through a
:class:`esergui.recording.LiveMonitor`; the callback never touches Qt.

Wiring (the main window): ``panel.recordingFinished`` carries the finished file's path (add it
as a lesson, start analysis); call :meth:`RecordingPanel.shutdown` before the app quits; call
:func:`offer_recovery` with the recordings folder at start-up.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from esergui.app.recording.devices import SETTINGS_DEVICE, DevicePicker
from esergui.app.recording.meters import (
    CLIP_HOLD_S,
    GREEN,
    GREY,
    METER_FLOOR_DB,
    ORANGE,
    VERMILLION,
    LevelMeter,
    LiveWaveform,
)
from esergui.app.recording.mic_check import MicCheck, MicCheckPanel, friendly_name
from esergui.errors import USER_ERRORS
from esergui.recording import (
    DiskStatus,
    InputDevice,
    LiveMonitor,
    Recorder,
    RecorderState,
)
from esergui.recording.recorder import StreamFactory
from esergui.segment import VadSettings
from esergui.timefmt import format_clock


class RecordingPanel(DevicePicker, MicCheckPanel):
    """Record a lesson from a microphone into ``output_dir``.

    Files are named ``lesson-YYYYmmdd-HHMMSS.<file_format>`` (``"flac"`` or ``"wav"``). The
    chosen device is remembered in ``settings`` (key ``recording/device``). ``stream_factory``
    is passed to :class:`esergui.recording.Recorder` (tests and benchmarks only);
    ``vad_settings`` (an :class:`esergui.segment.VadSettings`) sets the live speech detector's
    webrtcvad frame and aggressiveness (default: ``VadSettings()``'s).

    Signals: ``recordingStarted(str path)``; ``recordingFinished(str path)`` when a file with
    audio is complete (also after a device failure: what was recorded is kept);
    ``recordingFailed(str message)`` when recording could not start or stopped on an error;
    ``stateChanged(str state)`` with :class:`RecorderState` ``IDLE``, ``RECORDING`` or ``PAUSED``
    (str-valued: ``"idle"``, ``"recording"``, ``"paused"``).
    """

    recordingStarted = Signal(str)
    recordingFinished = Signal(str)
    recordingFailed = Signal(str)
    stateChanged = Signal(str)

    def __init__(
        self,
        output_dir: str | Path,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
        *,
        file_format: str = "flac",
        refresh_ms: int = 50,
        history_s: float = 10.0,
        stream_factory: StreamFactory | None = None,
        vad_settings: VadSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.vad_settings = vad_settings
        self.output_dir = Path(output_dir)
        self.settings = settings or QSettings()
        self.file_format = file_format.lower().lstrip(".")
        self.history_s = history_s
        self._stream_factory = stream_factory
        self._recorder: Recorder | None = None
        self._monitor: LiveMonitor | None = None
        self._check: MicCheck | None = None  # the microphone check while idle and shown
        self._devices: list[InputDevice] = []
        self._clip_at = -1e9
        self.last_path: Path | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self._tick)
        self._build()
        self.reload_devices()
        self._set_state(RecorderState.IDLE)

    # ----------------------------------------------------------------------------- layout

    def _build(self) -> None:
        self.device_combo = QComboBox()
        self.device_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device_combo.setMinimumContentsLength(28)
        self.device_combo.setToolTip("The input device to record from (the system default is marked).")
        self.device_combo.currentIndexChanged.connect(self._device_changed)
        self.refresh_button = QToolButton()
        self.refresh_button.setText("Rescan")
        self.refresh_button.setToolTip("Look for microphones plugged in since the app started (stops any playback).")
        self.refresh_button.clicked.connect(lambda: self.reload_devices(rescan=True))

        self.meter = LevelMeter()
        self.clip_lamp = QLabel("CLIP")
        self.clip_lamp.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.clip_lamp.setFixedWidth(44)
        self.clip_lamp.setToolTip("Lights red for two seconds when the input reached full scale (distortion).")
        self.peak_label = QLabel("")
        self.peak_label.setMinimumWidth(self.peak_label.fontMetrics().horizontalAdvance("peak -60.0 dB") + 6)

        self.waveform = LiveWaveform(self.history_s)
        self.speech_label = QLabel()
        self.elapsed_label = QLabel("00:00:00")
        font = QFont(self.elapsed_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.elapsed_label.setFont(font)
        self.elapsed_label.setToolTip("Recorded time (pauses not counted).")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.disk_label = QLabel()
        self.disk_label.setWordWrap(True)
        self.file_label = QLabel()
        self.file_label.setWordWrap(True)
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.record_button = QPushButton("\u25cf  Record")
        self.record_button.setStyleSheet(f"QPushButton:enabled {{ color: {VERMILLION}; font-weight: bold; }}")
        self.record_button.setToolTip("Start recording (Ctrl+R)")
        self.record_button.setShortcut("Ctrl+R")
        self.record_button.clicked.connect(self.start_recording)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause: what is said meanwhile is left out of the file")
        self.pause_button.clicked.connect(self._toggle_pause)
        self.stop_button = QPushButton("\u25a0  Stop")
        self.stop_button.setToolTip("Stop and keep the recording")
        self.stop_button.clicked.connect(self.stop_recording)

        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.setHorizontalSpacing(8)
        grid.addWidget(QLabel("Microphone:"), 0, 0)
        row0 = QHBoxLayout()
        row0.addWidget(self.device_combo, 1)
        row0.addWidget(self.refresh_button)
        grid.addLayout(row0, 0, 1, 1, 3)
        grid.addWidget(QLabel("Level (dBFS):"), 1, 0)
        grid.addWidget(self.meter, 1, 1)
        grid.addWidget(self.clip_lamp, 1, 2)
        grid.addWidget(self.peak_label, 1, 3)
        grid.addWidget(self.waveform, 2, 0, 1, 4)

        info = QHBoxLayout()
        info.addWidget(self.elapsed_label)
        info.addSpacing(12)
        info.addWidget(self.speech_label)
        info.addSpacing(12)
        info.addWidget(self.status_label, 1)

        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addLayout(info)
        layout.addWidget(self.disk_label)
        layout.addWidget(self.file_label)
        layout.addLayout(buttons)
        self._show_clip(False)
        self._show_speech(False)

    # ----------------------------------------------------------------------------- devices

    # ----------------------------------------------------------------------------- control

    @property
    def recorder(self) -> Recorder | None:
        """The running :class:`Recorder` (None when idle)."""
        return self._recorder

    @property
    def state(self) -> RecorderState:
        """IDLE, RECORDING or PAUSED (str-valued: equal to ``"idle"`` and so on)."""
        if self._recorder is None:
            return RecorderState.IDLE
        return RecorderState.PAUSED if self._recorder.is_paused else RecorderState.RECORDING

    def set_output_dir(self, folder: str | Path) -> None:
        self.output_dir = Path(folder)
        self._device_changed()

    def next_path(self) -> Path:
        """Where the next recording goes: ``output_dir/lesson-<date>-<time>.<format>``, unused."""
        stem = "lesson-" + datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.output_dir / f"{stem}.{self.file_format}"
        n = 2
        while path.exists():
            path = self.output_dir / f"{stem}-{n}.{self.file_format}"
            n += 1
        return path

    def start_recording(self) -> bool:
        """Start recording from the selected device; False (and ``recordingFailed``) on error."""
        if self._recorder is not None:
            return False
        self.stop_mic_check()  # the device is the recorder's now
        device = self.selected_device()
        if device is None:
            self._fail("No microphone is selected.")
            return False
        path = self.next_path()
        try:
            recorder = Recorder(path, device, stream_factory=self._stream_factory)
            recorder.start()
        except USER_ERRORS as exc:
            self._fail(str(exc))
            return False
        self.settings.setValue(SETTINGS_DEVICE, device.key)
        self._recorder = recorder
        self._monitor = LiveMonitor(
            recorder.ring,
            recorder.samplerate,
            history_s=self.history_s,
            columns=max(200, min(800, self.waveform.width())),
            vad_settings=self.vad_settings,
        )
        self.last_path = path
        self.file_label.setText(f"Saving to: {path}")
        self._show_disk_warning(recorder.disk_warning)
        self._show_status(f"Recording from {friendly_name(device)}.")
        self._timer.start()
        self._set_state(RecorderState.RECORDING)
        self.recordingStarted.emit(str(path))
        return True

    def pause_recording(self) -> None:
        if self._recorder is not None and not self._recorder.is_paused:
            self._recorder.pause()
            self._show_status("Paused: nothing is recorded until you resume.")
            self._set_state(RecorderState.PAUSED)

    def resume_recording(self) -> None:
        if self._recorder is not None and self._recorder.is_paused:
            self._recorder.resume()
            self._show_status("Recording.")
            self._set_state(RecorderState.RECORDING)

    def _toggle_pause(self) -> None:
        if self.state is RecorderState.PAUSED:
            self.resume_recording()
        else:
            self.pause_recording()

    def stop_recording(self) -> Path | None:
        """Stop, close the file and emit ``recordingFinished``; returns the file (None if empty)."""
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return None
        self._timer.stop()
        result = recorder.stop()
        self._monitor = None
        self._set_state(RecorderState.IDLE)
        path = result.path
        if result.error is not None:
            self._fail(str(result.error))
        if path is not None and result.frames == 0:
            path.unlink(missing_ok=True)
            self.file_label.setText("Nothing was recorded.")
            return None
        self.file_label.setText(f"Saved: {path} ({format_clock(result.seconds)})")
        if result.error is None:
            self._show_status("Stopped.")
        self.recordingFinished.emit(str(path))
        if self.isVisible():
            self.start_mic_check()
        return path

    def shutdown(self) -> None:
        """Stop a running recording (keeping it) and the microphone check; call before the
        window closes."""
        self.stop_recording()
        self.stop_mic_check()

    # ---------------------------------------------------------------------------- the timer

    def _tick(self) -> None:
        recorder, monitor = self._recorder, self._monitor
        if recorder is None and self._check is not None:
            self._show_levels(self._check.monitor)
            return
        if recorder is None or monitor is None:
            return
        self._show_levels(monitor)
        self.elapsed_label.setText(format_clock(recorder.elapsed_s))
        self._show_disk_warning(recorder.disk_warning)
        if recorder.state in (RecorderState.FAILED, RecorderState.FINISHED):
            self.stop_recording()

    def _show_levels(self, monitor: LiveMonitor) -> None:
        """The meter, clip and speech lamps and the waveform from the newest input."""
        level = monitor.update()
        if level.frames:
            self.meter.set_levels(level.peak_dbfs, level.rms_dbfs)
            self.peak_label.setText(
                f"peak {level.peak_dbfs:5.1f} dB" if level.peak_dbfs > METER_FLOOR_DB else "peak < -60 dB"
            )
        if level.clipped:
            self._clip_at = time.monotonic()
        self._show_clip(time.monotonic() - self._clip_at < CLIP_HOLD_S)
        lo, hi = monitor.waveform()
        self.waveform.set_data(lo, hi, monitor.speech_history())
        self._show_speech(monitor.speech)

    # ------------------------------------------------------------------------------ display

    def _set_state(self, state: RecorderState) -> None:
        self.pause_button.setText("Resume" if state is RecorderState.PAUSED else "Pause")
        self._update_buttons()
        self.stateChanged.emit(state)

    def _update_buttons(self) -> None:
        running = self._recorder is not None
        self.record_button.setEnabled(not running and bool(self._devices))
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.device_combo.setEnabled(not running and bool(self._devices))
        self.refresh_button.setEnabled(not running)
        if not running:
            self.meter.set_levels(METER_FLOOR_DB, METER_FLOOR_DB)
            self._show_speech(False)
            self._show_clip(False)
            self.peak_label.setText("")

    def _fail(self, message: str) -> None:
        self._show_status(message, error=True)
        self.recordingFailed.emit(message)

    def _show_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(f"color: {VERMILLION};" if error else "")

    def _show_clip(self, on: bool) -> None:
        self.clip_lamp.setStyleSheet(
            f"background: {VERMILLION if on else '#e6e6e6'}; color: {'white' if on else GREY}; "
            "border-radius: 3px; font-weight: bold; padding: 2px;"
        )

    def _show_speech(self, on: bool) -> None:
        self.speech_label.setText("\u25cf Speech" if on else "\u25cb No speech")
        self.speech_label.setStyleSheet(f"color: {GREEN}; font-weight: bold;" if on else f"color: {GREY};")

    def _show_disk(self, status: DiskStatus) -> None:
        if status.warning:
            self._show_disk_warning(status.warning)
        else:
            hours = status.seconds_left / 3600
            self.disk_label.setText(
                f"Free space in {status.folder}: {status.free_bytes / 1e9:.1f} GB "
                f"(about {hours:.0f} hours of recording)."
            )
            self.disk_label.setStyleSheet(f"color: {GREY};")

    def _show_disk_warning(self, warning: str | None) -> None:
        if warning:
            self.disk_label.setText("\u26a0 " + warning)
            self.disk_label.setStyleSheet(f"color: {ORANGE}; font-weight: bold;")


# ----------------------------------------------------------------------------------- recovery
