"""Page 5, Results: figures of the new model on the validation clips, as far as they can be
measured (:mod:`esergui.retrain_evidence`: below the minimum size "too few to measure", else with
95 % intervals), compared with the starting model only on the same clips and only when both
are measurable; the confusion matrix; saving the model under a name."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWizardPage

from esergui import retrain as R
from esergui.app.retrain.common import ERROR_STYLE, percent, text_label
from esergui.app.retrain.widgets import ConfusionHeatmap, counts_table, fill_rows
from esergui.errors import USER_ERRORS
from esergui.retrain_evidence import Evidence, OutcomeEvidence, assess_outcome

TOO_FEW = "too few to measure"


def measured(ev: Evidence) -> str:
    """``"UA 71 % (95 % interval 62-79 %), WA 74 % (65-81 %), 120 clips"``, or why not."""
    if not ev.sufficient:
        return ev.reason
    return (
        f"UA {100 * ev.ua:.0f} % (95 % interval {ev.ua_interval.text()}), "
        f"WA {100 * ev.wa:.0f} % ({ev.wa_interval.text()}), {ev.n} clips"
    )


def figure(ev: Evidence | None, which: str) -> str:
    """One table cell: ``"71 % (62-79 %)"``, :data:`TOO_FEW`, or ``"–"`` without evidence."""
    if ev is None:
        return "–"
    if not ev.sufficient:
        return TOO_FEW
    value, interval = (ev.ua, ev.ua_interval) if which == "ua" else (ev.wa, ev.wa_interval)
    return f"{100 * value:.0f} % ({interval.text()})"


if TYPE_CHECKING:
    from esergui.app.retrain.wizard import RetrainWizard


class ResultsPage(QWizardPage):
    def __init__(self, wiz: RetrainWizard) -> None:
        super().__init__()
        self.wiz = wiz
        self.setTitle("Results")
        self.setSubTitle(
            "How the new model does on the validation clips (with 95 % intervals, once there are "
            "enough clips to measure), next to the model it started from on the same clips. Name it to save it."
        )
        self.headline = text_label()
        self.table = counts_table(["Figure", "New model", "Starting model"])
        self.table.setMinimumWidth(330)
        self.heat = ConfusionHeatmap()
        self.name = QLineEdit()
        self.name.setPlaceholderText("A name for the new model, e.g. “Year 7 classes, spring”")
        self.error = text_label("", ERROR_STYLE)
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
        self.name.textChanged.connect(self._name_edited)
        self.evidence: OutcomeEvidence | None = None  # of the run shown

    def initializePage(self) -> None:  # noqa: N802 (Qt API)
        st = self.wiz.state
        out = st.outcome
        assert out is not None
        fig = out.figures
        self.evidence = ev = assess_outcome(out)
        new = ev.new
        text = f"Validation: {out.split}.<br><b>New model: {measured(new)}</b>"
        if not new.sufficient:
            text += (
                "<br><span style='color:#B00020'>A percentage from so few clips would mostly show chance, so "
                "none is given: add validation clips to measure the model.</span>"
            )
        if ev.base is not None and ev.new_same is not None and ev.base.sufficient and ev.new_same.sufficient:
            text += f"<br>Starting model ({out.base_note}): {measured(ev.base)}"
        text += f"<br><span style='color:#555555'>{ev.decision.reason}</span>"
        if out.cancelled:
            text += (
                f"<br><span style='color:#B00020'>Training was stopped after epoch {len(out.result.history)}; "
                f"the best epoch ({out.result.best_epoch}) was kept.</span>"
            )
        self.headline.setText(text)
        same = ev.base is not None and ev.base.sufficient and ev.new_same is not None and ev.new_same.sufficient
        base = out.base_figures if same else None  # figures side by side only under one protocol, measurable
        base_ev = ev.base if same else None
        rows = [
            ("UA (mean recall)", figure(new, "ua"), figure(ev.base, "ua") if same else "–"),
            ("WA (accuracy)", figure(new, "wa"), figure(ev.base, "wa") if same else "–"),
            ("macro-F1", percent(fig.macro_f1) if new.sufficient else TOO_FEW, percent(base.macro_f1) if base else "–"),
            ("validation clips", fig.n, base.n if base else "–"),
        ]
        for lab in fig.labels:
            if lab in fig.recall:
                rows.append(
                    (
                        f"recall: {lab}",
                        f"{new.correct.get(lab, 0)} of {new.counts.get(lab, 0)}",
                        f"{base_ev.correct.get(lab, 0)} of {base_ev.counts.get(lab, 0)}"
                        if base_ev is not None and lab in base_ev.counts
                        else "–",
                    )
                )
        fill_rows(self.table, rows)
        present = [i for i, row in enumerate(fig.confusion) if sum(row) or sum(r[i] for r in fig.confusion)]
        self.heat.set_matrix(
            [fig.labels[i] for i in present], [[fig.confusion[i][j] for j in present] for i in present]
        )
        if not self.name.text():
            start = self.wiz.base.name if st.settings.start == "finetune" else "new model"
            self.name.setText(self.wiz.registry.unique_name(f"{start} retrained {datetime.now():%Y-%m-%d}"))

    def _name_edited(self, _text: str) -> None:
        self.error.setText("")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 (Qt API)
        return bool(self.name.text().strip())

    def validatePage(self) -> bool:  # noqa: N802 (Qt API)
        st = self.wiz.state
        reg = self.wiz.registry
        if st.saved is not None and st.saved.name == " ".join(self.name.text().split()):
            return True
        assert st.outcome is not None and st.plan is not None  # this page follows a finished run
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
