"""The status bar: play cursor and visible range, and where emotion recognition runs
(:class:`DeviceStatus` finds the compute device and the active model in the background,
since importing torch and loading the model take a while).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel

from esergui.app.common.workers import TaskRunner
from esergui.review import jobs

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow


class DeviceStatus:
    """The permanent status-bar labels and the compute-device setting (``compute/device``)."""

    def __init__(self, win: MainWindow) -> None:
        self.win = win
        self.device_text = "detecting…"
        self.model_text = "ESERNet (bundled)"
        self._probe_runner: TaskRunner | None = None
        bar = win.statusBar()
        self.time_label = QLabel("")
        self.time_label.setToolTip("Play cursor · visible range")
        self.device_label = QLabel("Device: detecting…")
        self.device_label.setToolTip("Where emotion recognition runs (Analysis > Settings to change)")
        self.model_label = QLabel(f"Model: {self.model_text}")
        self.model_label.setToolTip("The emotion model used for analysis")
        for w in (self.time_label, self.device_label, self.model_label):
            w.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(w)

    @property
    def compute_device(self) -> str:
        return str(self.win.settings.value("compute/device", "auto"))

    def set_compute_device(self, device: str) -> None:
        self.win.settings.setValue("compute/device", device)
        for act in self.win.menus["device"].actions():
            act.setChecked(act.data() == device)
        self.probe_device()

    def refresh_model_status(self) -> None:
        """Re-read the active model and compute device into the status bar (call it after the
        active model changed); same as :meth:`probe_device`."""
        self.probe_device()

    def probe_device(self) -> None:
        """Find the compute device and model in the background (importing torch takes a while)."""
        runner = TaskRunner(jobs.probe_job(self.compute_device, self.win.workspace), self.win)
        self._probe_runner = runner

        def done(result: tuple[str, str]) -> None:
            self.device_text, self.model_text = result
            self.device_label.setText(f"Device: {self.device_text}")
            short = self.model_text if len(self.model_text) <= 48 else self.model_text[:46] + "…"
            self.model_label.setText(f"Model: {short}")
            self.model_label.setToolTip(f"The emotion model used for analysis: {self.model_text}")

        def failed(reason: str, _details: str) -> None:
            self.device_text = f"unavailable ({reason})"
            self.device_label.setText("Device: unavailable")
            self.device_label.setToolTip(reason)

        runner.succeeded.connect(done)
        runner.failed.connect(failed)
        runner.start()
