"""The microphone picker of the recording panel: list the input devices (the system default
marked, the last choice remembered in the settings), rescan for devices plugged in since the
app started, and show the free disk space for the chosen device's format. Mixed into
:class:`~esergui.app.recording.panel.RecordingPanel`, which builds ``device_combo``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QComboBox

from esergui.app.recording.mic_check import friendly_name
from esergui.errors import USER_ERRORS
from esergui.recording import (
    DiskStatus,
    InputDevice,
    Recorder,
    disk_status,
    list_input_devices,
    pcm_bytes_per_second,
    refresh_devices,
)

SETTINGS_DEVICE = "recording/device"


class DevicePicker:
    """Fill, remember and follow the device picker."""

    if TYPE_CHECKING:  # what RecordingPanel provides
        settings: QSettings
        output_dir: Path
        device_combo: QComboBox
        _devices: list[InputDevice]
        _recorder: Recorder | None

        def isVisible(self) -> bool: ...  # noqa: N802 (Qt API)
        def start_mic_check(self) -> bool: ...
        def _show_status(self, text: str, error: bool = False) -> None: ...
        def _show_disk(self, status: DiskStatus) -> None: ...
        def _update_buttons(self) -> None: ...

    def reload_devices(self, rescan: bool = False) -> None:
        """Fill the device picker; ``rescan`` re-initialises PortAudio first (idle only)."""
        if rescan and self._recorder is None:
            try:
                refresh_devices()
            except USER_ERRORS as exc:
                self._show_status(str(exc), error=True)
        try:
            self._devices = list_input_devices()
        except USER_ERRORS as exc:
            self._devices = []
            self._show_status(str(exc), error=True)
        remembered = str(self.settings.value(SETTINGS_DEVICE, "") or "")
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        for d in self._devices:
            self.device_combo.addItem(friendly_name(d), d.key)
            self.device_combo.setItemData(
                self.device_combo.count() - 1,
                f"{d.label()}\nhost API: {d.hostapi}\n{d.record_samplerate} Hz, "
                f"{d.max_input_channels} input channel(s)",
                Qt.ItemDataRole.ToolTipRole,
            )
        keys = [d.key for d in self._devices]
        default = next((i for i, d in enumerate(self._devices) if d.is_default), 0)
        self.device_combo.setCurrentIndex(keys.index(remembered) if remembered in keys else default)
        self.device_combo.blockSignals(False)
        if not self._devices:
            self.device_combo.addItem("No input device found")
            self._show_status("No microphone found: connect one, then press Rescan.", error=True)
        self._update_buttons()
        self._device_changed()

    def selected_device(self) -> InputDevice | None:
        i = self.device_combo.currentIndex()
        return self._devices[i] if 0 <= i < len(self._devices) else None

    def select_device(self, key_or_name: str) -> bool:
        """Select the device whose key or name is ``key_or_name``; False if there is none."""
        for i, d in enumerate(self._devices):
            if key_or_name in (d.key, d.name):
                self.device_combo.setCurrentIndex(i)
                return True
        return False

    def _device_changed(self, *_: Any) -> None:
        device = self.selected_device()
        if self.isVisible():
            self.start_mic_check()  # on the newly chosen device
        if device is None:
            return
        self._show_disk(
            disk_status(self.output_dir, pcm_bytes_per_second(device.record_samplerate, device.record_channels))
        )
