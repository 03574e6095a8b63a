"""Checking the microphone before recording: while the Record panel is open and idle, the
selected device's input runs into a ring buffer that a :class:`esergui.recording.LiveMonitor`
reads, so the level meter, the clip lamp, the speech lamp and the waveform move without a
recording (nothing is written). Also the names a teacher reads in the device picker."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from esergui.recording import FrameRing, InputDevice, LiveMonitor
from esergui.recording.recorder import StreamFactory

if TYPE_CHECKING:
    from esergui.app.recording.meters import LiveWaveform
    from esergui.recording import Recorder
    from esergui.segment import VadSettings

RING_S = 5.0  # seconds of input kept for the monitor


class MicCheck:
    """An input stream on ``device`` feeding a :class:`LiveMonitor` (``monitor``). Raises
    ``RuntimeError`` with a sentence when the stream cannot be opened; :meth:`close` stops it."""

    def __init__(
        self,
        device: InputDevice,
        stream_factory: StreamFactory | None = None,
        *,
        history_s: float = 10.0,
        columns: int = 400,
        vad_settings: VadSettings | None = None,
    ) -> None:
        rate, channels = device.record_samplerate, device.record_channels
        self.ring = FrameRing(int(RING_S * rate), channels, "int16")
        try:
            if stream_factory is None:
                import sounddevice as sd  # loads PortAudio: only when a microphone is used

                stream_factory = sd.InputStream
            self.stream: Any = stream_factory(
                device=device.index,
                samplerate=rate,
                channels=channels,
                dtype="int16",
                blocksize=0,
                callback=self._callback,
                finished_callback=lambda: None,
            )
            self.stream.start()
        except Exception as exc:  # noqa: BLE001 - PortAudioError, OSError (no PortAudio), ValueError (no device)
            raise RuntimeError(f"the microphone check could not open {device.name} ({exc})") from exc
        self.monitor = LiveMonitor(self.ring, rate, history_s=history_s, columns=columns, vad_settings=vad_settings)

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:  # PortAudio thread
        self.ring.write(indata)

    def close(self) -> None:
        try:
            self.stream.stop()
            self.stream.close()
        except Exception:  # noqa: BLE001 - a device that vanished must not crash the app
            pass


class MicCheckPanel(QWidget):
    """The microphone check of :class:`~esergui.app.recording.panel.RecordingPanel` (its base:
    uses the panel's state and display helpers declared below): it runs while the panel is
    shown and idle."""

    if TYPE_CHECKING:  # what RecordingPanel provides
        _recorder: Recorder | None
        _check: MicCheck | None
        _timer: QTimer
        _stream_factory: StreamFactory | None
        history_s: float
        waveform: LiveWaveform
        vad_settings: VadSettings | None

        def selected_device(self) -> InputDevice | None: ...
        def _show_status(self, text: str, error: bool = False) -> None: ...
        def _update_buttons(self) -> None: ...

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        self.start_mic_check()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().hideEvent(event)
        self.stop_mic_check()

    def start_mic_check(self) -> bool:
        """Show the selected microphone's level without recording (while idle)."""
        self.stop_mic_check()
        device = self.selected_device()
        if device is None or self._recorder is not None:
            return False
        try:
            self._check = MicCheck(
                device,
                self._stream_factory,
                history_s=self.history_s,
                columns=max(200, min(800, self.waveform.width())),
                vad_settings=self.vad_settings,
            )
        except RuntimeError as exc:
            self._show_status(str(exc)[0].upper() + str(exc)[1:] + ".", error=True)
            return False
        self._show_status("Microphone check: speak to see the level (nothing is recorded until you press Record).")
        self._timer.start()
        return True

    def stop_mic_check(self) -> None:
        check, self._check = self._check, None
        if check is not None:
            check.close()
            if self._recorder is None:
                self._timer.stop()
                self._update_buttons()  # the meters back to rest


_HW = re.compile(r"\s*\((hw|plughw):\d+,\d+\)\s*$")


def friendly_name(device: InputDevice) -> str:
    """What a teacher reads in the picker: ``"ALC3246 Analog"`` for ALSA's
    ``"HDA Intel PCH: ALC3246 Analog (hw:0,0)"``, ``"System default"`` and ``"Sound server
    (PulseAudio)"`` for the virtual devices, ``(default)`` marking the system's choice."""
    name = _HW.sub("", device.name).strip()
    lowered = name.lower()
    if lowered == "default":
        name = "System default"
    elif lowered in ("pulse", "pipewire"):
        name = f"Sound server ({'PulseAudio' if lowered == 'pulse' else 'PipeWire'})"
    elif ": " in name:
        card, _, port = name.partition(": ")
        name = port if port and port.lower() not in ("-", "default") else card
    return name + (" (default)" if device.is_default else "")
