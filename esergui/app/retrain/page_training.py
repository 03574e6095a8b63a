"""Page 4, Training: runs the retraining in a worker thread with progress, live curves and
Cancel."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QProgressBar, QPushButton, QVBoxLayout, QWizard, QWizardPage

from esergui import retrain as R
from esergui.app.common.workers import TaskRunner
from esergui.app.retrain.common import ERROR_STYLE, NOTE_STYLE, text_label
from esergui.app.retrain.widgets import TrainingCurves
from esergui.progress import CancelToken
from esergui.timefmt import format_duration

if TYPE_CHECKING:
    from esergui.app.retrain.wizard import RetrainWizard


class TrainingPage(QWizardPage):
    def __init__(self, wiz: RetrainWizard) -> None:
        super().__init__()
        self.wiz = wiz
        self.setTitle("Training")
        self.setSubTitle("The model trains in the background. Stopping keeps the best epoch so far.")
        self.curves = TrainingCurves()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFormat("%p %")
        self.epoch_text = text_label()
        self.epoch_text.setStyleSheet("font-weight: bold;")
        self.status = text_label("", NOTE_STYLE)
        self.split_text = text_label("", NOTE_STYLE)
        self.stop = QPushButton("Stop training (keep the best epoch)")
        self.stop.setToolTip("Stops after the current batch; the best epoch so far becomes the result")
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumHeight(96)
        self.log.setPlaceholderText("Training log")
        row = QHBoxLayout()
        row.addWidget(self.epoch_text, 1)
        row.addWidget(self.stop)
        lay = QVBoxLayout(self)
        lay.addWidget(self.curves, 1)
        lay.addLayout(row)
        lay.addWidget(self.bar)
        lay.addWidget(self.status)
        lay.addWidget(self.split_text)
        lay.addWidget(self.log)
        self.stop.clicked.connect(self.cancel)
        self.runner: TaskRunner | None = None
        self.outcome: R.RetrainOutcome | None = None
        self.epoch_times: list[float] = []

    def initializePage(self) -> None:  # noqa: N802 (Qt API)
        st = self.wiz.state
        plan = st.plan
        assert plan is not None
        st.outcome = self.outcome = st.saved = None
        self.curves.reset(plan.settings.epochs)
        self.epoch_times = []
        self.log.clear()
        self.split_text.setText("")
        self.bar.setValue(0)
        self.epoch_text.setText(f"Epoch 0 of {plan.settings.epochs}")
        self.status.setText("Preparing: scoring the starting model on the validation clips…")
        self.status.setStyleSheet(NOTE_STYLE)
        self.stop.setEnabled(True)
        self.started = self.t_first = time.monotonic()

        def job(
            progress: Callable[[str, float, str], None], cancel: CancelToken, partial: Callable[[Any], None]
        ) -> Any:
            outcome = R.run_retraining(
                plan,
                progress=lambda f, m="": progress("train", f, m),
                cancel=cancel,
                on_epoch=lambda *a: partial(("epoch", a)),
                log=lambda line: partial(("log", line)),
                name="retrained",
                on_start=lambda split, fig: partial(("start", (split, fig))),
            )
            # the worker reports a job whose token was cancelled as "cancelled" without its
            # result, so the outcome (best epoch kept) travels as a partial result first
            partial(("outcome", outcome))
            return outcome

        self.runner = self.wiz.run(job, self._done, self._failed, self._progress, self._partial, self._cancelled)
        QTimer.singleShot(0, self._lock_back)

    def _lock_back(self) -> None:
        if self.runner is not None:
            self.wiz.button(QWizard.WizardButton.BackButton).setEnabled(False)

    def running(self) -> bool:
        return self.runner is not None

    def cancel(self) -> None:
        if self.runner is not None:
            self.runner.cancel()
            self.stop.setEnabled(False)
            self.status.setText("Stopping after the current batch…")

    def _progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(fraction * 1000))
        if message:
            self.status.setText(message[:1].upper() + message[1:])

    def _partial(self, obj: Any) -> None:
        kind, data = obj
        if kind == "epoch":
            self.curves.add_epoch(*data)
            self.epoch_times.append(time.monotonic())
            self._epoch_text(int(data[0]))
        elif kind == "log":
            self.log.appendPlainText(str(data))
        elif kind == "outcome":
            self.outcome = data
        elif kind == "start":
            split, fig = data
            self.split_text.setText(f"Data: {split}.")
            self.t_first = time.monotonic()
            if fig is not None:
                self.curves.set_baseline_ua(fig.ua)

    def _epoch_text(self, epoch: int) -> None:
        total = self._plan().settings.epochs
        per_epoch = (self.epoch_times[-1] - self.t_first) / max(1, len(self.epoch_times))
        left = per_epoch * (total - epoch)
        self.epoch_text.setText(
            f"Epoch {epoch} of {total} · about {format_duration(left)} left at most"
            if epoch < total
            else f"Epoch {epoch} of {total}"
        )

    def _plan(self) -> R.RetrainPlan:
        plan = self.wiz.state.plan
        assert plan is not None  # the data and settings pages made it before training starts
        return plan

    def _finish(self) -> None:
        self.runner = None
        self.stop.setEnabled(False)
        self.completeChanged.emit()

    def _done(self, outcome: R.RetrainOutcome) -> None:
        self.wiz.state.outcome = outcome
        res = outcome.result
        self.bar.setValue(1000)
        how = (
            "stopped by you"
            if res.cancelled
            else (
                "stopped early: no gain for 5 epochs" if len(res.history) < self._plan().settings.epochs else "finished"
            )
        )
        self.epoch_text.setText(f"Done: {len(res.history)} epoch(s), {how}; best epoch {res.best_epoch} kept")
        self.status.setText(f"Took {format_duration(time.monotonic() - self.started)}. Press Next for the results.")
        self._finish()

    def _failed(self, reason: str) -> None:
        self.status.setText(f"Training failed: {reason} Go Back to change the data or settings.")
        self.status.setStyleSheet(ERROR_STYLE)
        self._finish()

    def _cancelled(self) -> None:
        if self.outcome is not None:  # stopped after an epoch: the best one was kept
            self._done(self.outcome)
            return
        self.status.setText(
            "Stopped before the first epoch finished: there is nothing to keep. "
            "Go Back to change the settings, or close the wizard."
        )
        self.status.setStyleSheet(ERROR_STYLE)
        self.epoch_text.setText("Stopped")
        self._finish()

    def isComplete(self) -> bool:  # noqa: N802 (Qt API)
        return self.runner is None and self.wiz.state.outcome is not None

    def cleanupPage(self) -> None:  # noqa: N802 (Qt API): Back
        if self.runner is not None:
            self.runner.cancel()
            self.runner.wait(30000)
