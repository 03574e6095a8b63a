"""Page 3, Settings: fine-tune or from scratch, epochs, learning rate, device, validation
split, and a measured time estimate."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWizardPage,
)

from esergui import retrain as R
from esergui.app.common.workers import TaskRunner
from esergui.app.retrain.common import ERROR_STYLE, NOTE_STYLE, text_label
from esergui.app.shell.dialogs import DEVICES
from esergui.errors import USER_ERRORS
from esergui.progress import CancelToken
from esergui.timefmt import format_duration

if TYPE_CHECKING:
    from esergui.app.retrain.wizard import RetrainWizard


class SettingsPage(QWizardPage):
    STARTS = (("finetune", "full"), ("finetune", "classifier"), ("scratch", "full"))

    def __init__(self, wiz: RetrainWizard) -> None:
        super().__init__()
        self.wiz = wiz
        self.setTitle("Settings")
        self.setSubTitle("Start from the active model or from scratch. The defaults suit a few hundred clips.")
        s = wiz.state.settings
        box = QGroupBox("Start from")
        self.group = QButtonGroup(self)
        texts = (
            f"Fine-tune {wiz.base_label}: the whole network (recommended)",
            f"Fine-tune {wiz.base_label}: the classifier only (fastest, keeps what the model hears)",
            "Train a new model from scratch (needs much more data)",
        )
        blay = QVBoxLayout(box)
        for i, text in enumerate(texts):
            rb = QRadioButton(text)
            self.group.addButton(rb, i)
            blay.addWidget(rb)
            rb.setEnabled(i == 2 or wiz.base.path is not None)
        self.group.button(self.STARTS.index((s.start, s.mode if s.start == "finetune" else "full"))).setChecked(True)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 300)
        self.epochs.setValue(s.epochs)
        self.epochs.setSuffix(" epochs at most")
        self.epochs.setToolTip("Training stops earlier when validation UA has not improved for 5 epochs")
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(0.00001, 0.1)
        self.lr.setSingleStep(0.0001)
        self.lr.setToolTip("Learning rate of AdamW (default 0.0003 for fine-tuning the whole network, else 0.001)")
        self.augment = QCheckBox("Augment the training clips (noise, babble, gain, speed, SpecAugment)")
        self.augment.setChecked(s.augment)
        self.split = QComboBox()
        self.split.addItem("By speaker: validate on held-out speakers (recommended)", "speaker")
        self.split.addItem("Random: validate on 15 % of the clips (speakers shared)", "random")
        self.device = QComboBox()
        for dev in R.available_devices():
            self.device.addItem(dict(DEVICES)[dev], dev)
        self.device.setCurrentIndex(max(0, self.device.findData(s.device)))
        form = QFormLayout()
        form.addRow("Epochs", self.epochs)
        form.addRow("Learning rate", self.lr)
        form.addRow("Augmentation", self.augment)
        form.addRow("Validation", self.split)
        form.addRow("Device", self.device)
        self.split_text = text_label("", NOTE_STYLE)
        self.estimate = text_label()
        self.estimate.setStyleSheet("font-weight: bold;")
        self.remeasure = QPushButton("Measure again")
        self.remeasure.setToolTip("Time two real training epochs on a sample of the data on this computer")
        est_row = QHBoxLayout()
        est_row.addWidget(self.estimate, 1)
        est_row.addWidget(self.remeasure)
        lay = QVBoxLayout(self)
        lay.addWidget(box)
        lay.addLayout(form)
        lay.addWidget(self.split_text)
        lay.addStretch(1)
        lay.addLayout(est_row)
        self.runner: TaskRunner | None = None
        self._lr_auto = self._epochs_auto = True
        self._pending = False
        self.group.idToggled.connect(self._start_toggled)
        self.lr.valueChanged.connect(self._lr_edited)
        self.epochs.valueChanged.connect(self._epochs_edited)
        self.split.currentIndexChanged.connect(self._update_split)
        self.device.currentIndexChanged.connect(self.measure)
        self.remeasure.clicked.connect(self.measure)
        self._set_default_lr()

    def settings(self) -> R.RetrainSettings:
        start, mode = self.STARTS[self.group.checkedId()]
        return replace(
            self.wiz.state.settings,
            start=start,
            mode=mode,
            epochs=self.epochs.value(),
            lr=None if self._lr_auto else self.lr.value(),
            augment=self.augment.isChecked(),
            split=self.split.currentData(),
            device=self.device.currentData(),
        )

    def _set_default_lr(self) -> None:
        self.lr.blockSignals(True)
        self.lr.setValue(replace(self.settings(), lr=None).learning_rate)
        self.lr.blockSignals(False)

    def _lr_edited(self, *_: Any) -> None:
        self._lr_auto = False

    def _epochs_edited(self, *_: Any) -> None:
        self._epochs_auto = False
        self._show_estimate()

    def _start_toggled(self, _id: int, on: bool) -> None:
        if on:
            self._start_changed()

    def _start_changed(self) -> None:
        if self._lr_auto:
            self._set_default_lr()
        if self._epochs_auto:
            self.epochs.blockSignals(True)
            self.epochs.setValue(R.DEFAULT_EPOCHS[self.settings().start])
            self.epochs.blockSignals(False)
        self.measure()

    def initializePage(self) -> None:  # noqa: N802 (Qt API)
        self._update_split()
        self.measure()

    def _update_split(self, *_: Any) -> None:
        try:
            train, val = R.split_items(self.wiz.state.items, self.split.currentData(), self.wiz.state.settings.seed)
        except USER_ERRORS as exc:
            self.split_text.setText(str(exc))
            self.split_text.setStyleSheet(ERROR_STYLE)
            self.train_n = self.val_n = 0
        else:
            self.split_text.setText(f"Data: {R.describe_split(train, val)}.")
            self.split_text.setStyleSheet(NOTE_STYLE)
            self.train_n, self.val_n = len(train), len(val)
        self._show_estimate()
        self.completeChanged.emit()

    def measure(self, *_: Any) -> None:
        """(Re)measure the training speed on this machine in a worker thread."""
        if self.runner is not None:
            self._pending = True
            self.runner.cancel()
            return
        st = self.wiz.state
        if not st.items:
            return
        settings, items, labels = self.settings(), list(st.items), list(st.labels)
        base, cache = self.wiz.base.path, self.wiz.cache_dir

        def job(_progress: Any, cancel: CancelToken, _partial: Any) -> R.SpeedMeasurement:
            return R.measure_speed(items, labels, settings, base, cache, cancel)

        st.speed = None
        self.estimate.setText("Estimated time: measuring the speed of this computer…")
        self.remeasure.setEnabled(False)
        self.runner = self.wiz.run(job, self._measured, self._measure_failed, on_cancel=self._measure_cancelled)

    def _measured(self, speed: R.SpeedMeasurement) -> None:
        self.wiz.state.speed = speed
        self._after_measure()

    def _measure_failed(self, reason: str) -> None:
        self.estimate.setText(f"Estimated time: unknown ({reason})")
        self._after_measure()

    def _measure_cancelled(self) -> None:
        self._after_measure()

    def _after_measure(self) -> None:
        self.runner = None
        self.remeasure.setEnabled(True)
        if self._pending:
            self._pending = False
            self.measure()
        else:
            self._show_estimate()

    def _show_estimate(self, *_: Any) -> None:
        speed = self.wiz.state.speed
        if speed is None:
            return
        secs = R.estimate_seconds(self.train_n, self.val_n, self.epochs.value(), speed)
        self.estimate.setText(
            f"Estimated time: at most {format_duration(secs)} ({self.epochs.value()} epochs × {self.train_n} clips; "
            f"measured {1000 * speed.train_s_per_clip:.0f} ms per clip and epoch on {speed.device})"
        )

    def isComplete(self) -> bool:  # noqa: N802 (Qt API)
        return getattr(self, "train_n", 0) > 0

    def validatePage(self) -> bool:  # noqa: N802 (Qt API)
        if self.runner is not None:
            self._pending = False
            self.runner.cancel()
            self.runner.wait(30000)
        st = self.wiz.state
        st.settings = self.settings()
        rep = st.report
        base = self.wiz.base
        st.plan = R.RetrainPlan(
            items=list(st.items),
            labels=list(st.labels),
            settings=st.settings,
            base_model=base.path if st.settings.start == "finetune" else None,
            base_name=(base.name if st.settings.start == "finetune" else ""),
            cache_dir=self.wiz.cache_dir,
            data_summary=rep.summary() if rep else {},
            label_map=dict(st.label_map.mapping) if st.label_map else {},
        )
        return True
