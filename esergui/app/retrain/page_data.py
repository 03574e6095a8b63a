"""Page 1, Data: choose where the labelled clips come from (workspace lessons, a folder, a CSV,
EmoDB) and check them in the background (durations, labels, speakers, problems)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QStyle,
    QVBoxLayout,
    QWizardPage,
)

from esergui import retrain as R
from esergui.app.common.workers import TaskRunner
from esergui.app.retrain.common import ERROR_STYLE, NOTE_STYLE, text_label
from esergui.app.retrain.widgets import counts_table, fill_counts
from esergui.progress import CancelToken

if TYPE_CHECKING:
    from esergui.app.retrain.wizard import RetrainWizard


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
        self.status = text_label("Choose a source, then press “Check data”.", NOTE_STYLE)
        self.summary = text_label()
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
        for col, (title, widget) in enumerate(
            (
                ("Clips per label", self.label_table),
                ("Clips per speaker", self.speaker_table),
                ("Problems", self.problems),
            )
        ):
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

        self.group.idToggled.connect(self._source_toggled)
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
            ids = tuple(
                self.lessons.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.lessons.count())
                if self.lessons.item(i).checkState() == Qt.CheckState.Checked
            )
            return R.DataSource("workspace", lesson_ids=ids)
        return R.DataSource(kind, self.path.text().strip() or None)

    def _source_toggled(self, _id: int, on: bool) -> None:
        if on:
            self._source_changed()

    def _source_changed(self, *_: Any) -> None:
        kind = self.kind()
        self.path.setVisible(kind != "workspace")
        self.browse.setVisible(kind != "workspace")
        self.lessons.setVisible(kind == "workspace")
        self.path.setPlaceholderText(
            "CSV file with the columns file,label[,speaker]" if kind == "csv" else "Folder with the labelled audio"
        )
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
            items = R.collect_items(source, ws, lambda f, m="": progress("data", 0.2 * f, m), cancel, found)
            return source, R.inspect_items(
                items,
                cache,
                source=source.describe(),
                problems=found,
                progress=lambda f, m="": progress("data", 0.2 + 0.8 * f, m),
                cancel=cancel,
            )

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
        self.summary.setText(
            f"{len(rep.usable)} usable clips of {len(rep.items)} · {rep.total_s / 60:.1f} min of audio · "
            f"{len(rep.label_counts)} labels · {who}"
        )
        fill_counts(self.label_table, rep.label_counts)
        fill_counts(self.speaker_table, rep.speaker_counts)
        self.problems.clear()
        style = self.style()
        for p in rep.problems:
            icon = style.standardIcon(
                QStyle.StandardPixmap.SP_MessageBoxCritical
                if p.severity == "error"
                else QStyle.StandardPixmap.SP_MessageBoxWarning
            )
            item = QListWidgetItem(icon, p.message)
            if p.files:
                item.setToolTip("\n".join(p.files[:20]) + ("\n…" if len(p.files) > 20 else ""))
            self.problems.addItem(item)
        if not rep.problems:
            self.problems.addItem(
                QListWidgetItem(style.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton), "No problems found.")
            )
        if rep.ok:
            self.status.setText("Data checked. Press Next to map the labels.")
            self.status.setStyleSheet(NOTE_STYLE)
        elif self.isComplete():
            self.status.setText(
                "Merge or drop the labels marked ✖ on the next page (Labels), or fix the data and check it again."
            )
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
