"""The retraining wizard (Tools ▸ Retrain Emotion Model…): Data, Labels, Settings, Training,
Results, Activate. The logic lives in :mod:`esergui.retrain` (Qt-free); slow steps (checking
data, measuring speed, training) run in a ``QThread`` through :class:`esergui.app.common.workers.TaskRunner`
with progress and Cancel, so the app stays responsive.

Signals for the main window: ``modelSaved(name)``, ``activeModelChanged(name)`` and
``reanalyseRequested(lesson ids)`` (the window queues the analyses; :func:`install` wires them).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from esergui import retrain as R
from esergui.app.common.workers import TaskRunner
from esergui.app.retrain.widgets import ConfusionHeatmap, TrainingCurves, counts_table, fill_counts, fill_rows
from esergui.errors import USER_ERRORS
from esergui.models import BUNDLED, ModelInfo, ModelRegistry
from esergui.progress import CancelToken

DROP = "(drop)"
ERROR_STYLE = "color: #B00020;"
NOTE_STYLE = "color: #555555;"


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


def _label(text: str = "", style: str = "", wrap: bool = True) -> QLabel:
    lab = QLabel(text)
    lab.setWordWrap(wrap)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if style:
        lab.setStyleSheet(style)
    return lab


def _pct(x: float | None) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f} %"


class RetrainWizard(QWizard):
    """Retrain or fine-tune the emotion model on the workspace's own labelled audio."""

    modelSaved = Signal(str)
    activeModelChanged = Signal(str)
    reanalyseRequested = Signal(list)

    DATA, LABELS, SETTINGS, TRAINING, RESULTS, ACTIVATE = range(6)

    def __init__(self, workspace: Any, parent: QWidget | None = None, device: str = "auto") -> None:
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
        self.pages_ = [DataPage(self), LabelsPage(self), SettingsPage(self), TrainingPage(self), ResultsPage(self),
                       ActivatePage(self)]
        for i, page in enumerate(self.pages_):
            self.setPage(i, page)
        self.resize(980, 720)

    @property
    def base_label(self) -> str:
        return "the bundled model" if self.base.bundled else f"“{self.base.name}”"

    def run(self, job: Callable[..., Any], on_done: Callable[[Any], None], on_fail: Callable[[str], None],
            on_progress: Callable[[float, str], None] | None = None, on_partial: Callable[[Any], None] | None = None,
            on_cancel: Callable[[], None] | None = None) -> TaskRunner:
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
class DataPage(QWizardPage):
    def __init__(self, wiz: RetrainWizard) -> None:
        super().__init__()
        self.wiz = wiz
        self.setTitle("Data")
        self.setSubTitle("Choose labelled audio to train on and check it. Problems are listed before you go on.")
        self.counts = R.human_label_counts(wiz.ws)
        self.group = QButtonGroup(self)
        grid = QGridLayout()
        self.radios: dict[str, QRadioButton] = {}
        for i, kind in enumerate(R.SOURCE_KINDS):
            rb = QRadioButton(R.SOURCE_TITLES[kind])
            self.radios[kind] = rb
            self.group.addButton(rb, i)
            grid.addWidget(rb, i // 2, i % 2)
        n_human = sum(self.counts.values())
        self.radios["workspace"].setText(f"{R.SOURCE_TITLES['workspace']} ({n_human} labelled)")
        self.radios["workspace"].setEnabled(bool(n_human))
        self.radios["workspace" if n_human else "folder"].setChecked(True)
        self.path = QLineEdit()
        self.path.setPlaceholderText("Folder or CSV file with the labelled audio")
        self.browse = QPushButton("Browse…")
        self.lessons = QListWidget()
        self.lessons.setMaximumHeight(86)
        self.lessons.setToolTip("Lessons whose human-labelled utterances are used")
        for lesson in wiz.ws.lessons():
            if lesson.id in self.counts:
                item = QListWidgetItem(f"{lesson.name} — {self.counts[int(lesson.id)]} labelled utterances")
                item.setData(Qt.ItemDataRole.UserRole, int(lesson.id))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked)
                self.lessons.addItem(item)
        self.check_button = QPushButton("Check data")
        self.check_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel check")
        self.cancel_button.setEnabled(False)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(14)
        self.status = _label("Choose a source, then press “Check data”.", NOTE_STYLE)
        self.summary = _label()
        self.summary.setStyleSheet("font-weight: bold;")
        self.label_table = counts_table(["Label", "Clips"])
        self.speaker_table = counts_table(["Speaker", "Clips"])
        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        self.problems.setToolTip("Problems found in the data: ✖ must be fixed, ⚠ are warnings")
        self.runner: TaskRunner | None = None

        src_row = QHBoxLayout()
        src_row.addWidget(self.path, 1)
        src_row.addWidget(self.browse)
        check_row = QHBoxLayout()
        check_row.addWidget(self.check_button)
        check_row.addWidget(self.cancel_button)
        check_row.addWidget(self.bar, 1)
        results = QGridLayout()
        for col, (title, widget) in enumerate((("Clips per label", self.label_table),
                                               ("Clips per speaker", self.speaker_table),
                                               ("Problems", self.problems))):
            results.addWidget(QLabel(f"<b>{title}</b>"), 0, col)
            results.addWidget(widget, 1, col)
        results.setColumnStretch(0, 2)
        results.setColumnStretch(1, 2)
        results.setColumnStretch(2, 4)
        lay = QVBoxLayout(self)
        lay.addLayout(grid)
        lay.addLayout(src_row)
        lay.addWidget(self.lessons)
        lay.addLayout(check_row)
        lay.addWidget(self.status)
        lay.addWidget(self.summary)
        lay.addLayout(results, 1)

        self.group.idToggled.connect(lambda _i, on: on and self._source_changed())
        self.path.textChanged.connect(self._source_changed)
        self.lessons.itemChanged.connect(self._source_changed)
        self.browse.clicked.connect(self._browse)
        self.check_button.clicked.connect(self.check)
        self.cancel_button.clicked.connect(lambda: self.runner and self.runner.cancel())
        self._source_changed()

    def kind(self) -> str:
        return R.SOURCE_KINDS[self.group.checkedId()]

    def source(self) -> R.DataSource:
        kind = self.kind()
        if kind == "workspace":
            ids = tuple(self.lessons.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.lessons.count())
                        if self.lessons.item(i).checkState() == Qt.CheckState.Checked)
            return R.DataSource("workspace", lesson_ids=ids)
        return R.DataSource(kind, self.path.text().strip() or None)

    def _source_changed(self, *_: Any) -> None:
        kind = self.kind()
        self.path.setVisible(kind != "workspace")
        self.browse.setVisible(kind != "workspace")
        self.lessons.setVisible(kind == "workspace")
        self.path.setPlaceholderText("CSV file with the columns file,label[,speaker]" if kind == "csv"
                                     else "Folder with the labelled audio")
        if self.wiz.state.source is not None and self.wiz.state.source != self.source():
            self.wiz.state.report = None
            self.status.setText("The source changed: press “Check data” again.")
            self.status.setStyleSheet(NOTE_STYLE)
        self.completeChanged.emit()

    def _browse(self) -> None:
        if self.kind() == "csv":
            path, _ = QFileDialog.getOpenFileName(self, "CSV list of labelled audio", self.path.text(), "CSV (*.csv)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Folder with labelled audio", self.path.text())
        if path:
            self.path.setText(path)

    def check(self) -> None:
        """Collect and inspect the data off the GUI thread; fills the report."""
        if self.runner is not None:
            return
        source, ws, cache = self.source(), self.wiz.ws, self.wiz.cache_dir
        if source.kind == "workspace" and not source.lesson_ids:
            self._failed("Tick at least one lesson.")
            return

        def job(progress: Callable[[str, float, str], None], cancel: CancelToken, _partial: Any) -> Any:
            found: list[R.Problem] = []
            items = R.collect_items(source, ws, lambda f, m: progress("data", 0.2 * f, m), cancel, found)
            return source, R.inspect_items(items, cache, source=source.describe(), problems=found,
                                           progress=lambda f, m: progress("data", 0.2 + 0.8 * f, m), cancel=cancel)

        self.check_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setStyleSheet(NOTE_STYLE)
        self.status.setText("Checking…")
        self.runner = self.wiz.run(job, self._checked, self._failed, self._progress)

    def _progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(fraction * 1000))
        self.status.setText(message)

    def _finish_check(self) -> None:
        self.runner = None
        self.check_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _failed(self, reason: str) -> None:
        self._finish_check()
        self.bar.setValue(0)
        self.status.setText(reason)
        self.status.setStyleSheet(ERROR_STYLE)
        self.wiz.state.report = None
        self.completeChanged.emit()

    def _checked(self, result: tuple[R.DataSource, R.DataReport]) -> None:
        self._finish_check()
        source, rep = result
        st = self.wiz.state
        st.source, st.report = source, rep
        self.bar.setValue(1000)
        named = [s for s in rep.speaker_counts if s != "unknown"]
        who = f"{len(named)} speakers" if named else "speakers unknown"
        self.summary.setText(f"{len(rep.usable)} usable clips of {len(rep.items)} · {rep.total_s / 60:.1f} min of audio · "
                             f"{len(rep.label_counts)} labels · {who}")
        fill_counts(self.label_table, rep.label_counts)
        fill_counts(self.speaker_table, rep.speaker_counts)
        self.problems.clear()
        style = self.style()
        for p in rep.problems:
            icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical if p.severity == "error"
                                      else QStyle.StandardPixmap.SP_MessageBoxWarning)
            item = QListWidgetItem(icon, p.message)
            if p.files:
                item.setToolTip("\n".join(p.files[:20]) + ("\n…" if len(p.files) > 20 else ""))
            self.problems.addItem(item)
        if not rep.problems:
            self.problems.addItem(QListWidgetItem(style.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton),
                                                  "No problems found."))
        if rep.ok:
            self.status.setText("Data checked. Press Next to map the labels.")
            self.status.setStyleSheet(NOTE_STYLE)
        elif self.isComplete():
            self.status.setText("Merge or drop the labels marked ✖ on the next page (Labels), or fix the data and "
                                "check it again.")
            self.status.setStyleSheet(ERROR_STYLE)
        else:
            self.status.setText("Fix the problems marked ✖ and check the data again.")
            self.status.setStyleSheet(ERROR_STYLE)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 (Qt API)
        st = self.wiz.state
        rep = st.report
        if rep is None or st.source != self.source() or self.runner is not None:
            return False
        # label problems can be fixed on the Labels page; everything else must be fine here
        return bool(rep.usable) and len(rep.label_counts) >= 2


# ============================================================================ 2. Labels
class LabelsPage(QWizardPage):
    def __init__(self, wiz: RetrainWizard) -> None:
        super().__init__()
        self.wiz = wiz
        self.setTitle("Labels")
        self.setSubTitle("Map each label of the data onto a label of the model, merge labels (map two onto one), "
                         "drop labels, or define a new label set.")
        base_labels = ", ".join(wiz.base.labels) or "none"
        self.keep = QRadioButton(f"Keep the labels of {wiz.base_label}: {base_labels}")
        self.new = QRadioButton("Use a new label set: exactly the labels in the “Becomes” column")
        self.keep.setEnabled(bool(wiz.base.labels))
        self.table = counts_table(["Label in the data", "Clips", "Becomes"])
        self.table.setSelectionMode(self.table.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(2, self.table.horizontalHeader().ResizeMode.Stretch)
        self.result = _label()
        self.error = _label("", ERROR_STYLE)
        self.combos: dict[str, QComboBox] = {}
        lay = QVBoxLayout(self)
        lay.addWidget(self.keep)
        lay.addWidget(self.new)
        lay.addWidget(self.table, 1)
        lay.addWidget(_label("Type a new name in “Becomes” to rename a label; pick the same target for several "
                             "labels to merge them; pick “(drop)” to leave a label's clips out.", NOTE_STYLE))
        lay.addWidget(self.result)
        lay.addWidget(self.error)
        self.keep.toggled.connect(self._update)

    def initializePage(self) -> None:  # noqa: N802 (Qt API)
        rep = self.wiz.state.report
        assert rep is not None
        counts = rep.label_counts
        model_labels = list(self.wiz.base.labels)
        old = self.wiz.state.label_map
        mapping = dict(old.mapping) if old and set(old.mapping) == set(counts) else R.suggest_mapping(list(counts), model_labels)
        keep = bool(model_labels) and all(t in model_labels for t in mapping.values() if t)
        (self.keep if (old.keep_model_labels if old else keep) else self.new).setChecked(True)
        self.table.setRowCount(0)
        fill_rows(self.table, [(lab, n, "") for lab, n in counts.items()])
        self.combos.clear()
        for row, lab in enumerate(counts):
            combo = QComboBox()
            combo.setEditable(True)
            combo.addItems(sorted(set(model_labels) | {t for t in mapping.values() if t}) + [DROP])
            combo.setCurrentText(mapping.get(lab) or DROP)
            combo.setToolTip(f"What clips labelled “{lab}” become in the new model")
            combo.currentTextChanged.connect(self._update)
            self.table.setCellWidget(row, 2, combo)
            self.combos[lab] = combo
        self._update()

    def label_map(self) -> R.LabelMap:
        mapping: dict[str, str | None] = {}
        for lab, combo in self.combos.items():
            text = " ".join(combo.currentText().split())
            mapping[lab] = None if text in ("", DROP) else text
        return R.LabelMap(mapping, keep_model_labels=self.keep.isChecked())

    def _evaluate(self) -> tuple[list[str], list[Any], str]:
        """(labels, relabelled items, error text)."""
        rep = self.wiz.state.report
        lmap = self.label_map()
        try:
            labels = lmap.label_list(self.wiz.base.labels)
        except USER_ERRORS as exc:
            return [], [], str(exc)
        items = lmap.apply(rep.usable if rep else [])
        errors = [p.message for p in R.label_problems(items) if p.severity == "error"]
        return labels, items, " ".join(errors)

    def _update(self, *_: Any) -> None:
        labels, items, error = self._evaluate()
        counts = R.mapping_counts(self.wiz.state.report.usable if self.wiz.state.report else [], self.label_map().mapping)
        if labels:
            parts = [f"{lab} ({counts.get(lab, 0)})" for lab in labels]
            self.result.setText("<b>The new model will recognise:</b> " + ", ".join(parts)
                                + (" — labels with (0) keep what the starting model knows" if any(
                                    counts.get(lab, 0) == 0 for lab in labels) else ""))
        else:
            self.result.setText("")
        self.error.setText(error)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 (Qt API)
        labels, items, error = self._evaluate()
        return bool(labels) and not error

    def validatePage(self) -> bool:  # noqa: N802 (Qt API)
        labels, items, error = self._evaluate()
        if error:
            return False
        st = self.wiz.state
        st.label_map, st.labels, st.items = self.label_map(), labels, items
        return True


# ============================================================================ 3. Settings
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
        texts = (f"Fine-tune {wiz.base_label}: the whole network (recommended)",
                 f"Fine-tune {wiz.base_label}: the classifier only (fastest, keeps what the model hears)",
                 "Train a new model from scratch (needs much more data)")
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
            self.device.addItem({"auto": "Automatic (GPU when present)", "cpu": "CPU", "cuda": "NVIDIA GPU (CUDA)",
                                 "mps": "Apple GPU (MPS)"}[dev], dev)
        self.device.setCurrentIndex(max(0, self.device.findData(s.device)))
        form = QFormLayout()
        form.addRow("Epochs", self.epochs)
        form.addRow("Learning rate", self.lr)
        form.addRow("Augmentation", self.augment)
        form.addRow("Validation", self.split)
        form.addRow("Device", self.device)
        self.split_text = _label("", NOTE_STYLE)
        self.estimate = _label()
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
        self.group.idToggled.connect(lambda _i, on: on and self._start_changed())
        self.lr.valueChanged.connect(self._lr_edited)
        self.epochs.valueChanged.connect(self._epochs_edited)
        self.split.currentIndexChanged.connect(self._update_split)
        self.device.currentIndexChanged.connect(self.measure)
        self.remeasure.clicked.connect(self.measure)
        self._set_default_lr()

    def settings(self) -> R.RetrainSettings:
        start, mode = self.STARTS[self.group.checkedId()]
        return replace(self.wiz.state.settings, start=start, mode=mode, epochs=self.epochs.value(),
                       lr=None if self._lr_auto else self.lr.value(), augment=self.augment.isChecked(),
                       split=self.split.currentData(), device=self.device.currentData())

    def _set_default_lr(self) -> None:
        self.lr.blockSignals(True)
        self.lr.setValue(replace(self.settings(), lr=None).learning_rate)
        self.lr.blockSignals(False)

    def _lr_edited(self, *_: Any) -> None:
        self._lr_auto = False

    def _epochs_edited(self, *_: Any) -> None:
        self._epochs_auto = False
        self._show_estimate()

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
            f"Estimated time: at most {R.format_duration(secs)} ({self.epochs.value()} epochs × {self.train_n} clips; "
            f"measured {1000 * speed.train_s_per_clip:.0f} ms per clip and epoch on {speed.device})")

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
            items=list(st.items), labels=list(st.labels), settings=st.settings,
            base_model=base.path if st.settings.start == "finetune" else None,
            base_name=(base.name if st.settings.start == "finetune" else ""), cache_dir=self.wiz.cache_dir,
            data_summary=rep.summary() if rep else {}, label_map=dict(st.label_map.mapping) if st.label_map else {})
        return True


# ============================================================================ 4. Training
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
        self.epoch_text = _label()
        self.epoch_text.setStyleSheet("font-weight: bold;")
        self.status = _label("", NOTE_STYLE)
        self.split_text = _label("", NOTE_STYLE)
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

        def job(progress: Callable[[str, float, str], None], cancel: CancelToken, partial: Callable[[Any], None]) -> Any:
            outcome = R.run_retraining(
                plan, progress=lambda f, m: progress("train", f, m), cancel=cancel,
                on_epoch=lambda *a: partial(("epoch", a)), log=lambda line: partial(("log", line)),
                name="retrained", on_start=lambda split, fig: partial(("start", (split, fig))))
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
        total = self.wiz.state.plan.settings.epochs
        per_epoch = (self.epoch_times[-1] - self.t_first) / max(1, len(self.epoch_times))
        left = per_epoch * (total - epoch)
        self.epoch_text.setText(f"Epoch {epoch} of {total} · about {R.format_duration(left)} left at most"
                                if epoch < total else f"Epoch {epoch} of {total}")

    def _finish(self) -> None:
        self.runner = None
        self.stop.setEnabled(False)
        self.completeChanged.emit()

    def _done(self, outcome: R.RetrainOutcome) -> None:
        self.wiz.state.outcome = outcome
        res = outcome.result
        self.bar.setValue(1000)
        how = "stopped by you" if res.cancelled else (
            "stopped early: no gain for 5 epochs" if len(res.history) < self.wiz.state.plan.settings.epochs else "finished")
        self.epoch_text.setText(f"Done: {len(res.history)} epoch(s), {how}; best epoch {res.best_epoch} kept")
        self.status.setText(f"Took {R.format_duration(time.monotonic() - self.started)}. Press Next for the results.")
        self._finish()

    def _failed(self, reason: str) -> None:
        self.status.setText(f"Training failed: {reason} Go Back to change the data or settings.")
        self.status.setStyleSheet(ERROR_STYLE)
        self._finish()

    def _cancelled(self) -> None:
        if self.outcome is not None:  # stopped after an epoch: the best one was kept
            self._done(self.outcome)
            return
        self.status.setText("Stopped before the first epoch finished: there is nothing to keep. "
                            "Go Back to change the settings, or close the wizard.")
        self.status.setStyleSheet(ERROR_STYLE)
        self.epoch_text.setText("Stopped")
        self._finish()

    def isComplete(self) -> bool:  # noqa: N802 (Qt API)
        return self.runner is None and self.wiz.state.outcome is not None

    def cleanupPage(self) -> None:  # noqa: N802 (Qt API): Back
        if self.runner is not None:
            self.runner.cancel()
            self.runner.wait(30000)


# ============================================================================ 5. Results
class ResultsPage(QWizardPage):
    def __init__(self, wiz: RetrainWizard) -> None:
        super().__init__()
        self.wiz = wiz
        self.setTitle("Results")
        self.setSubTitle("How the new model does on the validation clips, next to the model it started from. "
                         "Name it to save it.")
        self.headline = _label()
        self.table = counts_table(["Figure", "New model", "Starting model"])
        self.table.setMinimumWidth(330)
        self.heat = ConfusionHeatmap()
        self.name = QLineEdit()
        self.name.setPlaceholderText("A name for the new model, e.g. “Year 7 classes, spring”")
        self.error = _label("", ERROR_STYLE)
        mid = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(QLabel("<b>Figures</b>"))
        left.addWidget(self.table, 1)
        right = QVBoxLayout()
        right.addWidget(QLabel("<b>Confusion matrix of the new model</b>"))
        right.addWidget(self.heat, 1)
        mid.addLayout(left, 4)
        mid.addLayout(right, 5)
        form = QFormLayout()
        form.addRow("Save as", self.name)
        lay = QVBoxLayout(self)
        lay.addWidget(self.headline)
        lay.addLayout(mid, 1)
        lay.addLayout(form)
        lay.addWidget(self.error)
        self.name.textChanged.connect(lambda _t: (self.error.setText(""), self.completeChanged.emit()))

    def initializePage(self) -> None:  # noqa: N802 (Qt API)
        st = self.wiz.state
        out = st.outcome
        assert out is not None
        fig, base = out.figures, out.base_figures
        text = f"Validation: {out.split}.<br><b>New model: UA {_pct(fig.ua)}, WA {_pct(fig.wa)}</b>"
        if base is not None:
            delta = 100 * (fig.ua - base.ua)
            text += f" — starting model: UA {_pct(base.ua)}, WA {_pct(base.wa)} (UA {delta:+.1f} points)"
        text += f"<br><span style='color:#555555'>Starting model: {out.base_note}.</span>"
        if out.ua_change is not None and out.ua_change < 0:
            text += ("<br><span style='color:#B00020'>The new model does worse than the starting model on these "
                     "clips: you can save it, but keep the starting model active (or retrain with other "
                     "settings or more data).</span>")
        if out.cancelled:
            text += (f"<br><span style='color:#B00020'>Training was stopped after epoch {len(out.result.history)}; "
                     f"the best epoch ({out.result.best_epoch}) was kept.</span>")
        self.headline.setText(text)
        rows = [("UA (mean recall)", _pct(fig.ua), _pct(base.ua) if base else "–"),
                ("WA (accuracy)", _pct(fig.wa), _pct(base.wa) if base else "–"),
                ("macro-F1", _pct(fig.macro_f1), _pct(base.macro_f1) if base else "–"),
                ("validation clips", fig.n, base.n if base else "–")]
        for lab in fig.labels:
            if lab in fig.recall:
                rows.append((f"recall: {lab}", _pct(fig.recall[lab]),
                             _pct(base.recall.get(lab)) if base and lab in base.recall else "–"))
        fill_rows(self.table, rows)
        present = [i for i, row in enumerate(fig.confusion) if sum(row) or sum(r[i] for r in fig.confusion)]
        self.heat.set_matrix([fig.labels[i] for i in present], [[fig.confusion[i][j] for j in present] for i in present])
        if not self.name.text():
            start = self.wiz.base.name if st.settings.start == "finetune" else "new model"
            self.name.setText(self.wiz.registry.unique_name(f"{start} retrained {datetime.now():%Y-%m-%d}"))

    def isComplete(self) -> bool:  # noqa: N802 (Qt API)
        return bool(self.name.text().strip())

    def validatePage(self) -> bool:  # noqa: N802 (Qt API)
        st = self.wiz.state
        reg = self.wiz.registry
        if st.saved is not None and st.saved.name == " ".join(self.name.text().split()):
            return True
        try:
            name = reg.check_name(self.name.text())
            path = R.save_outcome(st.outcome, st.plan, reg.new_model_path(name), name)
            st.saved = reg.register(path, name)
        except USER_ERRORS as exc:
            self.error.setText(str(exc))
            return False
        except OSError as exc:
            self.error.setText(f"Cannot save the model: {exc.strerror}.")
            return False
        self.wiz.modelSaved.emit(name)
        return True


# ============================================================================ 6. Activate
class ActivatePage(QWizardPage):
    def __init__(self, wiz: RetrainWizard) -> None:
        super().__init__()
        self.wiz = wiz
        self.setTitle("Activate")
        self.setSubTitle("Use the new model for this workspace, and optionally re-analyse lessons with it.")
        self.saved_text = _label()
        self.activate = QCheckBox()
        self.activate.setChecked(True)
        self.lessons = QListWidget()
        self.lessons.setToolTip("Tick the lessons to analyse again with the new model")
        self.all = QPushButton("Select all")
        self.none = QPushButton("Select none")
        self.note = _label("Re-analysis replaces the model's emotions, speakers and utterance boundaries; every "
                           "human label, note and correction is kept.", NOTE_STYLE)
        row = QHBoxLayout()
        row.addWidget(QLabel("<b>Re-analyse these lessons with the new model</b>"), 1)
        row.addWidget(self.all)
        row.addWidget(self.none)
        lay = QVBoxLayout(self)
        lay.addWidget(self.saved_text)
        lay.addWidget(self.activate)
        lay.addLayout(row)
        lay.addWidget(self.lessons, 1)
        lay.addWidget(self.note)
        self.activate.toggled.connect(self._toggle)
        self.all.clicked.connect(lambda: self._check_all(True))
        self.none.clicked.connect(lambda: self._check_all(False))

    def initializePage(self) -> None:  # noqa: N802 (Qt API)
        saved = self.wiz.state.saved
        assert saved is not None
        self.saved_text.setText(f"Saved “{saved.name}” ({', '.join(saved.labels)}) to {saved.path}.")
        self.activate.setText(f"Make “{saved.name}” the active model of this workspace (new analyses use it)")
        change = self.wiz.state.outcome.ua_change if self.wiz.state.outcome else None
        self.activate.setChecked(change is None or change >= 0)  # not by default when it did worse
        self.lessons.clear()
        for lesson in self.wiz.ws.lessons():
            item = QListWidgetItem(f"{lesson.name}  ·  {lesson.status.value}")
            item.setData(Qt.ItemDataRole.UserRole, int(lesson.id))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.lessons.addItem(item)
        if not self.lessons.count():
            self.lessons.addItem("No lessons in this workspace yet.")
        self._toggle(self.activate.isChecked())

    def _toggle(self, on: bool) -> None:
        for w in (self.lessons, self.all, self.none):
            w.setEnabled(on)

    def _check_all(self, on: bool) -> None:
        for i in range(self.lessons.count()):
            item = self.lessons.item(i)
            if item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def selected_lessons(self) -> list[int]:
        return [int(self.lessons.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.lessons.count())
                if self.lessons.item(i).checkState() == Qt.CheckState.Checked
                and self.lessons.item(i).data(Qt.ItemDataRole.UserRole) is not None]

    def validatePage(self) -> bool:  # noqa: N802 (Qt API): Finish
        saved = self.wiz.state.saved
        if saved is None or not self.activate.isChecked():
            return True
        try:
            self.wiz.registry.set_active(saved.name)
        except USER_ERRORS as exc:
            self.note.setText(str(exc))
            self.note.setStyleSheet(ERROR_STYLE)
            return False
        self.wiz.activeModelChanged.emit(saved.name)
        ids = self.selected_lessons()
        if ids:
            self.wiz.reanalyseRequested.emit(ids)
        return True


# ============================================================================ main window
def install(win: Any) -> None:
    """Add Tools ▸ Retrain Emotion Model… and Tools ▸ Emotion Models… to the main window
    (:class:`esergui.app.shell.window.MainWindow`): both need an open workspace; an activated
    model refreshes the window's model text and re-analysis goes to its analysis queue."""
    from PySide6.QtGui import QAction

    from esergui.app.retrain.models_dialog import ModelsDialog

    def need_workspace() -> Any:
        if getattr(win, "workspace", None) is None:
            win.errors.error("No workspace", "Open or create a workspace first (File ▸ Open Workspace).")
        return getattr(win, "workspace", None)

    def model_changed(_name: str = "") -> None:
        refresh = getattr(win, "refresh_model_status", None)  # the status bar's model text
        if callable(refresh):
            refresh()

    def open_wizard() -> None:
        ws = need_workspace()
        if ws is None:
            return
        device = getattr(win, "compute_device", "auto")  # a property of MainWindow
        device = str(device() if callable(device) else device)
        wiz = RetrainWizard(ws, win, device)
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
        ("retrain", "&Retrain Emotion Model…", "Fine-tune or train the emotion model on your own labelled audio",
         open_wizard),
        ("models", "Emotion &Models…", "List, switch, export and import emotion models", open_models),
    ):
        act = QAction(text, win)
        act.setObjectName(f"action_{key}")
        act.setStatusTip(tip)
        act.setToolTip(tip)
        act.triggered.connect(slot)
        menu.addAction(act)
        if hasattr(win, "actions_"):
            win.actions_[key] = act
