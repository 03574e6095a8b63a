"""The retraining wizard (Tools ▸ Retrain Emotion Model…): Data, Labels, Settings, Training,
Results, Activate. The logic lives in :mod:`esergui.retrain` (Qt-free); slow steps (checking
data, measuring speed, training) run in a ``QThread`` through :class:`esergui.app.common.workers.TaskRunner`
with progress and Cancel, so the app stays responsive.

Signals for the main window: ``modelSaved(name)``, ``activeModelChanged(name)`` and
``reanalyseRequested(lesson ids)`` (the window queues the analyses; :func:`install` wires them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget, QWizard

from esergui import retrain as R
from esergui.app.common.workers import TaskRunner
from esergui.app.retrain.models_dialog import ModelsDialog
from esergui.app.retrain.page_activate import ActivatePage
from esergui.app.retrain.page_data import DataPage
from esergui.app.retrain.page_labels import LabelsPage
from esergui.app.retrain.page_results import ResultsPage
from esergui.app.retrain.page_settings import SettingsPage
from esergui.app.retrain.page_training import TrainingPage
from esergui.models import ModelInfo, ModelRegistry

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow
    from esergui.workspace import Workspace


@dataclass
class WizardState:
    """What the pages have decided so far."""

    source: R.DataSource | None = None
    report: R.DataReport | None = None
    label_map: R.LabelMap | None = None
    labels: list[str] = field(default_factory=list)
    items: list[Any] = field(default_factory=list)
    settings: R.RetrainSettings = field(default_factory=R.RetrainSettings)
    speed: R.SpeedMeasurement | None = None
    plan: R.RetrainPlan | None = None
    outcome: R.RetrainOutcome | None = None
    saved: ModelInfo | None = None


class RetrainWizard(QWizard):
    """Retrain or fine-tune the emotion model on the workspace's own labelled audio."""

    modelSaved = Signal(str)
    activeModelChanged = Signal(str)
    reanalyseRequested = Signal(list)

    DATA, LABELS, SETTINGS, TRAINING, RESULTS, ACTIVATE = range(6)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None, device: str = "auto") -> None:
        super().__init__(parent)
        self.ws = workspace
        self.registry = ModelRegistry(workspace)
        self.base: ModelInfo = self.registry.active()
        self.cache_dir = Path(workspace.cache_dir) / "audio"
        self.state = WizardState(settings=R.RetrainSettings(device=device))
        if self.base.path is None:  # no starting model (no bundled model installed): from scratch only
            self.state.settings.start = "scratch"
            self.state.settings.epochs = R.DEFAULT_EPOCHS["scratch"]
        self.runners: set[TaskRunner] = set()
        self.setWindowTitle("Retrain the emotion model")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Finish")
        self.pages_ = [
            DataPage(self),
            LabelsPage(self),
            SettingsPage(self),
            TrainingPage(self),
            ResultsPage(self),
            ActivatePage(self),
        ]
        for i, page in enumerate(self.pages_):
            self.setPage(i, page)
        self.resize(980, 720)

    @property
    def base_label(self) -> str:
        return "the bundled model" if self.base.bundled else f"“{self.base.name}”"

    def run(
        self,
        job: Callable[..., Any],
        on_done: Callable[[Any], None],
        on_fail: Callable[[str], None],
        on_progress: Callable[[float, str], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
        on_cancel: Callable[[], None] | None = None,
    ) -> TaskRunner:
        """Run ``job(progress, cancel, partial)`` in a worker thread (see :mod:`esergui.app.common.workers`)."""
        runner = TaskRunner(job, self)
        self.runners.add(runner)
        runner.succeeded.connect(on_done)
        runner.failed.connect(lambda reason, _details: on_fail(reason))
        if on_progress is not None:
            runner.progress.connect(lambda _s, f, m: on_progress(f, m))
        if on_partial is not None:
            runner.partial.connect(on_partial)
        runner.cancelled.connect(on_cancel or (lambda: on_fail("Cancelled.")))
        runner.finished.connect(lambda r=runner: self.runners.discard(r))
        runner.start()
        return runner

    def stop_all(self, wait_ms: int = 30000) -> None:
        """Cancel every running job and wait for its thread."""
        for runner in list(self.runners):
            runner.cancel()
        for runner in list(self.runners):
            runner.wait(wait_ms)

    def done(self, result: int) -> None:  # noqa: D401 (Qt API): closing cancels the work
        self.stop_all()
        super().done(result)


# ============================================================================ 1. Data


# ============================================================================ 2. Labels


# ============================================================================ 3. Settings


# ============================================================================ 4. Training


# ============================================================================ 5. Results


# ============================================================================ 6. Activate


# ============================================================================ main window
def install(win: MainWindow) -> None:
    """Add Tools ▸ Retrain Emotion Model… and Tools ▸ Emotion Models… to the main window
    (:class:`esergui.app.shell.window.MainWindow`): both need an open workspace; an activated
    model refreshes the window's model text and re-analysis goes to its analysis queue."""

    def need_workspace() -> Workspace | None:
        if win.workspace is None:
            win.errors.error("No workspace", "Open or create a workspace first (File ▸ Open Workspace).")
        return win.workspace

    def model_changed(_name: str = "") -> None:
        win.refresh_model_status()  # the status bar's model text

    def open_wizard() -> None:
        ws = need_workspace()
        if ws is None:
            return
        wiz = RetrainWizard(ws, win, win.compute_device)
        wiz.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wiz.activeModelChanged.connect(model_changed)
        wiz.reanalyseRequested.connect(lambda ids: win.analyse(list(ids)))
        win.retrain_wizard = wiz
        wiz.open()

    def open_models() -> None:
        ws = need_workspace()
        if ws is None:
            return
        dlg = ModelsDialog(ws, win)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.activeModelChanged.connect(model_changed)
        win.models_dialog = dlg
        dlg.open()

    menu = win.menu("tools")
    for key, text, tip, slot in (
        (
            "retrain",
            "&Retrain Emotion Model…",
            "Fine-tune or train the emotion model on your own labelled audio",
            open_wizard,
        ),
        ("models", "Emotion &Models…", "List, switch, export and import emotion models", open_models),
    ):
        act = QAction(text, win)
        act.setObjectName(f"action_{key}")
        act.setStatusTip(tip)
        act.setToolTip(tip)
        act.triggered.connect(slot)
        menu.addAction(act)
        win.actions_[key] = act
