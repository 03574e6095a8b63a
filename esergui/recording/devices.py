"""Audio input devices, as PortAudio (through ``sounddevice``) sees them.

Devices are listed with their host API (ALSA, PulseAudio, WASAPI, Core Audio, ...), default
sample rate and input channel count; the system default is marked. A device is named by its
PortAudio index (valid until the device list changes), its name, or its :attr:`InputDevice.key`
(``"host API: name"``, stable across runs; the GUI remembers that). Every failure is a
:class:`esergui.errors.DeviceError` with a sentence the user can act on.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from esergui.errors import DeviceError

#: Channels recorded when a device offers more (PulseAudio/ALSA "default" devices report 32).
MAX_RECORD_CHANNELS = 2

LIST_HINT = "run `esergui record --list-devices` to see the input devices"

#: Streams whose stop/close never returned (a sound server that died mid-call can deadlock
#: libpulse inside PortAudio); kept referenced so nothing touches them again.
_ABANDONED: list[Any] = []


def _sd() -> Any:
    try:
        import sounddevice
    except ModuleNotFoundError as exc:  # installed without the "record" extra
        raise DeviceError("Recording needs the sounddevice package: pip install 'eser-studio[record]'.") from exc
    except OSError as exc:  # the PortAudio library itself is missing
        raise DeviceError(
            "The PortAudio library is not installed, so no microphone can be used "
            "(on Debian/Ubuntu: apt install libportaudio2)."
        ) from exc
    return sounddevice


@dataclass(frozen=True)
class InputDevice:
    """One input device: PortAudio ``index``, ``name``, ``hostapi`` name, ``default_samplerate``
    in Hz, ``max_input_channels``, and whether it is the system default input."""

    index: int
    name: str
    hostapi: str
    default_samplerate: float
    max_input_channels: int
    is_default: bool = False

    @property
    def key(self) -> str:
        """``"host API: name"``: identifies the device across runs (indices change)."""
        return f"{self.hostapi}: {self.name}"

    @property
    def record_channels(self) -> int:
        """Channels a recording uses: the device's own count, at most 2 (mono or stereo)."""
        return max(1, min(self.max_input_channels, MAX_RECORD_CHANNELS))

    @property
    def record_samplerate(self) -> int:
        """The device's native rate in Hz (what a recording uses unless told otherwise)."""
        return int(round(self.default_samplerate))

    def label(self) -> str:
        """One line for a device picker, e.g. ``"USB Mic (ALSA) - 48000 Hz, 1 ch, default"``."""
        text = f"{self.name} ({self.hostapi}) - {self.record_samplerate} Hz, {self.max_input_channels} ch"
        return text + (", default" if self.is_default else "")


def refresh_devices() -> None:
    """Re-scan the devices (PortAudio only sees devices present when it was initialised).

    Call it with no stream open, e.g. before showing a device picker, so a microphone plugged
    in (or a sound server started) since the program began is listed.
    """
    sd = _sd()
    if _ABANDONED:
        raise DeviceError(
            "The audio system stopped responding after a device failure; restart the app to see the devices again."
        )
    try:
        sd._terminate()
        sd._initialize()
    except sd.PortAudioError as exc:
        raise DeviceError(f"The audio system could not be re-scanned: {exc.args[0]}.") from exc


def list_input_devices() -> list[InputDevice]:
    """All devices with at least one input channel, in PortAudio's order."""
    sd = _sd()
    try:
        devices = sd.query_devices()
        hostapis = sd.query_hostapis()
        default_in = sd.default.device[0]
    except sd.PortAudioError as exc:
        raise DeviceError(f"The audio devices could not be listed: {exc.args[0]}.") from exc
    if default_in is None or default_in < 0:
        # no explicit default: take the default input of the first host API that has one
        default_in = next((h["default_input_device"] for h in hostapis if h["default_input_device"] >= 0), -1)
    result = []
    for info in devices:
        if info["max_input_channels"] <= 0:
            continue
        result.append(
            InputDevice(
                index=int(info["index"]),
                name=str(info["name"]),
                hostapi=str(hostapis[info["hostapi"]]["name"]),
                default_samplerate=float(info["default_samplerate"]),
                max_input_channels=int(info["max_input_channels"]),
                is_default=int(info["index"]) == default_in,
            )
        )
    return result


def default_input_device(devices: Sequence[InputDevice] | None = None) -> InputDevice:
    """The system default input (the first input device when none is marked default)."""
    devices = list_input_devices() if devices is None else list(devices)
    if not devices:
        raise DeviceError(
            "No audio input device was found: connect a microphone and check that it is "
            "enabled in the system sound settings."
        )
    return next((d for d in devices if d.is_default), devices[0])


def find_input_device(
    spec: int | str | InputDevice | None, devices: Sequence[InputDevice] | None = None
) -> InputDevice:
    """The input device named by ``spec``.

    ``None``: the default input. An int (or a string of digits): the PortAudio index. A
    string: an exact :attr:`~InputDevice.key` or name, else the one device whose name contains
    it (case-insensitive). Raises :class:`DeviceError` when none or several match.
    """
    if isinstance(spec, InputDevice):
        return spec
    devices = list_input_devices() if devices is None else list(devices)
    if spec is None:
        return default_input_device(devices)
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        index = int(spec)
        match = next((d for d in devices if d.index == index), None)
        if match is None:
            raise DeviceError(f"There is no input device number {index}; {LIST_HINT}.")
        return match
    text = str(spec).strip()
    for attr in ("key", "name"):
        exact = [d for d in devices if getattr(d, attr) == text]
        if exact:
            return exact[0]
    partial = [d for d in devices if text.lower() in d.name.lower()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise DeviceError(f"No input device is called '{text}'; {LIST_HINT}.")
    names = ", ".join(f"{d.index}: {d.name}" for d in partial)
    raise DeviceError(f"Several input devices match '{text}' ({names}); give the device number.")


def portaudio_error(exc: Exception, device: InputDevice, samplerate: float, channels: int) -> DeviceError:
    """Translate a PortAudio error on opening ``device`` into a :class:`DeviceError`."""
    code = exc.args[1] if len(exc.args) > 1 else None
    text = str(exc.args[0]) if exc.args else str(exc)
    name = f"'{device.name}'"
    if code == -9997 or "sample rate" in text.lower():  # paInvalidSampleRate
        return DeviceError(
            f"The input device {name} cannot record at {samplerate:g} Hz "
            f"(its native rate is {device.record_samplerate} Hz)."
        )
    if code == -9998 or "channel" in text.lower():  # paInvalidChannelCount
        return DeviceError(
            f"The input device {name} cannot record {channels} channel(s) (it has {device.max_input_channels})."
        )
    if code in (-9985, -9986) or "unavailable" in text.lower() or "busy" in text.lower():
        return DeviceError(
            f"The input device {name} is busy or access to it was denied: close other programs "
            "using it and check that this app may use the microphone (system privacy settings)."
        )
    if code == -9996 or "invalid device" in text.lower():  # paInvalidDevice
        return DeviceError(f"The input device {name} is no longer available; {LIST_HINT}.")
    return DeviceError(f"The input device {name} could not be opened: {text}.")


def close_stream(stream: Any, timeout_s: float = 3.0) -> bool:
    """Stop and close a PortAudio stream without letting a wedged driver hang the caller.

    The calls run on a helper thread; if they have not returned after ``timeout_s`` the stream
    is abandoned (left to the OS at exit; PortAudio's own exit handler, which would block on
    it, is unregistered). Returns True when the stream closed normally.
    """
    done = threading.Event()

    def work() -> None:
        for method in ("stop", "close"):
            try:
                getattr(stream, method)()
            except Exception:  # a vanished device may refuse; closing still frees it
                pass
        done.set()

    threading.Thread(target=work, name="esergui-close-stream", daemon=True).start()
    if done.wait(timeout_s):
        return True
    _ABANDONED.append(stream)
    try:
        atexit.unregister(_sd()._exit_handler)
    except (AttributeError, DeviceError):
        pass
    return False
