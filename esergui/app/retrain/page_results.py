"""Page 5, Results: figures of the new model against the base model on the validation clips,
the confusion matrix, and saving the model under a name."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWizardPage

from esergui import retrain as R
from esergui.app.retrain.common import ERROR_STYLE, percent, text_label
from esergui.app.retrain.widgets import ConfusionHeatmap, counts_table, fill_rows
from esergui.errors import USER_ERRORS

if TYPE_CHECKING:
    from esergui.app.retrain.wizard import RetrainWizard


class ResultsPage(QWizardPage):
    def __init__(self, wiz: RetrainWizard) -> None:
        super().__init__()
        self.wiz = wiz
        self.setTitle("Results")
        self.setSubTitle("How the new model does on the validation clips, next to the model it started from. "
                         "Name it to save it.")
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
        self.name.textChanged.connect(lambda _t: (self.error.setText(""), self.completeChanged.emit()))

    def initializePage(self) -> None:  # noqa: N802 (Qt API)
        st = self.wiz.state
        out = st.outcome
        assert out is not None
        fig, base = out.figures, out.base_figures
        text = f"Validation: {out.split}.<br><b>New model: UA {percent(fig.ua)}, WA {percent(fig.wa)}</b>"
        if base is not None:
            delta = 100 * (fig.ua - base.ua)
            text += f" — starting model: UA {percent(base.ua)}, WA {percent(base.wa)} (UA {delta:+.1f} points)"
        text += f"<br><span style='color:#555555'>Starting model: {out.base_note}.</span>"
        if out.ua_change is not None and out.ua_change < 0:
            text += ("<br><span style='color:#B00020'>The new model does worse than the starting model on these "
                     "clips: you can save it, but keep the starting model active (or retrain with other "
                     "settings or more data).</span>")
        if out.cancelled:
            text += (f"<br><span style='color:#B00020'>Training was stopped after epoch {len(out.result.history)}; "
                     f"the best epoch ({out.result.best_epoch}) was kept.</span>")
        self.headline.setText(text)
        rows = [("UA (mean recall)", percent(fig.ua), percent(base.ua) if base else "–"),
                ("WA (accuracy)", percent(fig.wa), percent(base.wa) if base else "–"),
                ("macro-F1", percent(fig.macro_f1), percent(base.macro_f1) if base else "–"),
                ("validation clips", fig.n, base.n if base else "–")]
        for lab in fig.labels:
            if lab in fig.recall:
                rows.append((f"recall: {lab}", percent(fig.recall[lab]),
                             percent(base.recall.get(lab)) if base and lab in base.recall else "–"))
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
