"""Page 2, Labels: map the data's labels onto the model's (or train a new label set)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QComboBox, QRadioButton, QVBoxLayout, QWizardPage

from esergui import retrain as R
from esergui.app.retrain.common import DROP, ERROR_STYLE, NOTE_STYLE, text_label
from esergui.app.retrain.widgets import counts_table, fill_rows
from esergui.errors import USER_ERRORS

if TYPE_CHECKING:
    from esergui.app.retrain.wizard import RetrainWizard


class LabelsPage(QWizardPage):
    def __init__(self, wiz: RetrainWizard) -> None:
        super().__init__()
        self.wiz = wiz
        self.setTitle("Labels")
        self.setSubTitle(
            "Map each label of the data onto a label of the model, merge labels (map two onto one), "
            "drop labels, or define a new label set."
        )
        base_labels = ", ".join(wiz.base.labels) or "none"
        self.keep = QRadioButton(f"Keep the labels of {wiz.base_label}: {base_labels}")
        self.new = QRadioButton("Use a new label set: exactly the labels in the “Becomes” column")
        self.keep.setEnabled(bool(wiz.base.labels))
        self.table = counts_table(["Label in the data", "Clips", "Becomes"])
        self.table.setSelectionMode(self.table.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(2, self.table.horizontalHeader().ResizeMode.Stretch)
        self.result = text_label()
        self.error = text_label("", ERROR_STYLE)
        self.combos: dict[str, QComboBox] = {}
        lay = QVBoxLayout(self)
        lay.addWidget(self.keep)
        lay.addWidget(self.new)
        lay.addWidget(self.table, 1)
        lay.addWidget(
            text_label(
                "Type a new name in “Becomes” to rename a label; pick the same target for several "
                "labels to merge them; pick “(drop)” to leave a label's clips out.",
                NOTE_STYLE,
            )
        )
        lay.addWidget(self.result)
        lay.addWidget(self.error)
        self.keep.toggled.connect(self._update)

    def initializePage(self) -> None:  # noqa: N802 (Qt API)
        rep = self.wiz.state.report
        assert rep is not None
        counts = rep.label_counts
        model_labels = list(self.wiz.base.labels)
        old = self.wiz.state.label_map
        mapping = (
            dict(old.mapping)
            if old and set(old.mapping) == set(counts)
            else R.suggest_mapping(list(counts), model_labels)
        )
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
        counts = R.mapping_counts(
            self.wiz.state.report.usable if self.wiz.state.report else [], self.label_map().mapping
        )
        if labels:
            parts = [f"{lab} ({counts.get(lab, 0)})" for lab in labels]
            self.result.setText(
                "<b>The new model will recognise:</b> "
                + ", ".join(parts)
                + (
                    " — labels with (0) keep what the starting model knows"
                    if any(counts.get(lab, 0) == 0 for lab in labels)
                    else ""
                )
            )
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
