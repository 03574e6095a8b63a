"""Inter-annotator agreement dialog: pick another annotator's workspace or CSV for the current
lesson, see Cohen's kappa (emotion, role) with the confusion matrix and the disagreement list."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from esergui.agreement import AgreementReport, compare, from_utterances, read_other
from esergui.errors import USER_ERRORS
from esergui.formats.csvout import write_csv
from esergui.timefmt import format_time

if TYPE_CHECKING:
    from esergui.app.annotation.controller import AnnotationController


def _table(
    headers: list[str],
    rows: list[list[str]],
    right: set[int] | frozenset[int] = frozenset(),
    stretch: int | None = None,
) -> QTableWidget:
    """A read-only table; columns fit their contents, column ``stretch`` takes the rest."""
    t = QTableWidget(len(rows), len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setAlternatingRowColors(True)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if c in right:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            t.setItem(r, c, item)
    header = t.horizontalHeader()
    for c in range(len(headers)):
        header.setSectionResizeMode(
            c, QHeaderView.ResizeMode.Stretch if c == stretch else QHeaderView.ResizeMode.ResizeToContents
        )
    header.setStretchLastSection(False)
    return t


def _num(x: float, fmt: str) -> str:
    return "n/a" if math.isnan(x) else format(x, fmt)


class AgreementDialog(QDialog):
    """Shows an :class:`AgreementReport`; ``jump(utterance_id)`` is called on a double-click."""

    def __init__(
        self,
        report: AgreementReport,
        title: str,
        jump: Callable[[int], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Agreement — {title}")
        self.report = report
        self.jump = jump
        head = QLabel(
            f"<b>Compared with:</b> {report.source_b}<br>"
            f"{len(report.pairs)} utterances paired by time overlap; {len(report.unmatched_a)} only in this workspace, "
            f"{len(report.unmatched_b)} only in the other annotation (left out of kappa)."
        )
        head.setTextFormat(Qt.TextFormat.RichText)
        head.setWordWrap(True)
        rows = []
        for f in report.fields.values():
            rows.append(
                [
                    f.field,
                    str(f.n),
                    _num(f.observed, ".1%"),
                    _num(f.expected, ".1%"),
                    _num(f.kappa, ".3f"),
                    f.interpretation,
                    str(f.both_human),
                ]
            )
        self.kappa_table = _table(
            ["Field", "Pairs", "Agreement", "Chance", "Cohen's κ", "Strength", "Both by hand"],
            rows,
            right={1, 2, 3, 4, 6},
            stretch=5,
        )
        self.kappa_table.setToolTip(
            "Cohen's kappa over paired utterances; strength after Landis & Koch (1977). "
            "'Both by hand': pairs both annotators labelled themselves"
        )
        self.kappa_table.setFixedHeight(
            self.kappa_table.horizontalHeader().sizeHint().height()
            + sum(self.kappa_table.rowHeight(r) for r in range(len(rows)))
            + 4
        )
        tabs = QTabWidget()
        for f in report.fields.values():
            tabs.addTab(self._confusion(f), f"{f.field.capitalize()} confusion")
        dis_rows = [
            [
                format_time(d.start_s, 1),
                format_time(d.end_s, 1),
                d.field,
                d.a or "",
                d.b or "",
                "yes" if d.both_human else "",
            ]
            for d in report.disagreements
        ]
        self.dis_table = _table(
            ["Start", "End", "Field", "This workspace", "Other annotator", "Both by hand"],
            dis_rows,
            right={0, 1},
            stretch=4,
        )
        self.dis_table.setToolTip("Double-click to go to the utterance")
        self.dis_table.cellDoubleClicked.connect(self._go)
        tabs.insertTab(0, self.dis_table, f"Disagreements ({len(report.disagreements)})")
        tabs.setCurrentIndex(0)
        self.tabs = tabs
        save = QPushButton("Save disagreements as CSV…")
        save.setToolTip("Write the disagreement list (and the kappa figures) to a CSV file")
        save.clicked.connect(lambda: self.save_csv())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(save)
        row.addStretch(1)
        row.addWidget(buttons)
        lay = QVBoxLayout(self)
        lay.addWidget(head)
        lay.addWidget(self.kappa_table)
        lay.addWidget(tabs, 1)
        lay.addLayout(row)
        self.resize(760, 560)

    def _confusion(self, f) -> QTableWidget:
        labels = list(f.labels)
        rows = [[a] + [str(f.confusion.get((a, b), 0) or "") for b in labels] for a in labels]
        t = _table(["this ↓ / other →"] + labels, rows, right=set(range(1, len(labels) + 1)))
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        t.setToolTip("Rows: labels in this workspace; columns: the other annotator's; the diagonal agrees")
        return t

    def _go(self, row: int, _col: int) -> None:
        d = self.report.disagreements[row]
        if self.jump is not None and d.utterance_id is not None:
            self.jump(int(d.utterance_id))

    def save_csv(self, path: str | None = None) -> Path | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save disagreements", "disagreements.csv", "CSV files (*.csv)")
            if not path:
                return None
        frame = pd.DataFrame(
            [
                {
                    "start_s": round(d.start_s, 3),
                    "end_s": round(d.end_s, 3),
                    "field": d.field,
                    "this_annotator": d.a,
                    "other_annotator": d.b,
                    "both_human": int(d.both_human),
                    "utterance_id": d.utterance_id,
                }
                for d in self.report.disagreements
            ],
            columns=["start_s", "end_s", "field", "this_annotator", "other_annotator", "both_human", "utterance_id"],
        )
        return write_csv(frame, path)


def run_agreement(controller: AnnotationController, path: str | None = None) -> AgreementDialog | None:
    """Ask for the other annotation (unless ``path``), compare, show the dialog."""
    c = controller
    ws, lid = c.ws, c.lesson_id
    if ws is None or lid is None:
        c.message.emit("Open a lesson first.")
        return None
    if path is None:
        path, _ = QFileDialog.getOpenFileName(
            c.win,
            "Other annotator's work: an utterances CSV, or the workspace.sqlite of their workspace",
            "",
            "Annotations or workspace (*.csv *.sqlite *.eaf *.TextGrid *.rttm *.txt *.json);;All files (*)",
        )
        if not path:
            return None
    lesson = ws.lesson(lid)
    try:
        theirs = read_other(path, lesson.audio_sha256, lesson.name)
    except USER_ERRORS as exc:
        errors = getattr(c.win, "errors", None)
        if errors is not None:
            errors.error("Cannot compare annotations", str(exc))
        c.message.emit(str(exc))
        return None
    report = compare(from_utterances(ws.utterances(lid)), theirs, source_b=str(path))
    dialog = AgreementDialog(report, lesson.name, lambda uid: c.selection.select_ids([uid], dialog), c.win)
    dialog.open()
    return dialog
