"""Live recording from an audio input device (Qt-free; see ``docs/RECORDING.md``).

* :mod:`.devices`  input devices (:class:`InputDevice`, :func:`list_input_devices`, ...)
* :mod:`.recorder` :class:`Recorder`: PortAudio callback -> ring -> writer thread -> WAV/FLAC
* :mod:`.monitor`  :class:`LiveMonitor`: levels, clipping, VAD speech flag, waveform history
* :mod:`.recovery` unfinished recordings after a crash: find, repair, discard
* :mod:`.disk`     free-space checks
"""

from esergui.recording.devices import (
    InputDevice,
    default_input_device,
    find_input_device,
    list_input_devices,
    refresh_devices,
)
from esergui.recording.disk import DiskStatus, disk_status, pcm_bytes_per_second
from esergui.recording.monitor import LevelReading, LiveMonitor
from esergui.recording.recorder import Recorder, RecorderState, RecordingResult
from esergui.recording.recovery import (
    EmptyRecording,
    RepairResult,
    UnfinishedRecording,
    discard_recording,
    find_unfinished,
    repair_recording,
)
from esergui.recording.ring import FrameRing, PauseLog

__all__ = [
    "InputDevice",
    "list_input_devices",
    "default_input_device",
    "find_input_device",
    "refresh_devices",
    "DiskStatus",
    "disk_status",
    "pcm_bytes_per_second",
    "LevelReading",
    "LiveMonitor",
    "PauseLog",
    "Recorder",
    "RecorderState",
    "RecordingResult",
    "EmptyRecording",
    "RepairResult",
    "UnfinishedRecording",
    "discard_recording",
    "find_unfinished",
    "repair_recording",
    "FrameRing",
]
