"""The reference baseline: openSMILE eGeMAPS v02 functionals (88 features per utterance) +
an RBF-kernel SVM (standardised features, balanced class weights, C chosen on the validation
split of the training speakers). Needs the ``opensmile`` package (``pip install opensmile``,
the ``eval`` extra)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from model.errors import ModelError


def _smile():
    try:
        import opensmile
    except ImportError:
        raise ModelError("The baseline needs openSMILE: pip install opensmile (the 'eval' extra).") from None
    return opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=opensmile.FeatureLevel.Functionals
    )


def egemaps(wavs: Sequence[np.ndarray], sr: int = 16000, cancel=None) -> np.ndarray:
    """``(N, 88)`` eGeMAPS functionals of 16 kHz float32 waveforms."""
    smile = _smile()
    out = np.zeros((len(wavs), 88), dtype=np.float64)
    for i, w in enumerate(wavs):
        if cancel is not None and i % 16 == 0:
            cancel.raise_if_cancelled()
        out[i] = smile.process_signal(np.asarray(w, dtype=np.float32), sr).to_numpy()[0]
    return np.nan_to_num(out)


def speaker_standardise(
    x: np.ndarray, keys: Sequence, context: np.ndarray | None = None, context_keys: Sequence = ()
) -> np.ndarray:
    """``(N, F)`` functionals standardised per speaker (``keys[i]``: the speaker of row ``i``):
    each speaker's rows get zero mean and unit variance per feature, the speaker
    normalisation of the eGeMAPS paper (Eyben et al. 2016). ``context`` ``(M, F)`` (speakers
    ``context_keys``): further unlabelled rows of the same speakers that count towards their
    statistics but are not returned. A speaker with one row keeps zero-mean rows (std 1)."""
    out = np.array(x, dtype=np.float64, copy=True)
    row_keys = np.asarray([str(k) for k in keys])
    ctx = np.zeros((0, out.shape[1])) if context is None else np.asarray(context, dtype=np.float64)
    ctx_keys = np.asarray([str(k) for k in context_keys])
    for k in np.unique(row_keys):
        m = row_keys == k
        rows = np.concatenate([out[m], ctx[ctx_keys == k]]) if len(ctx) else out[m]
        sd = rows.std(axis=0) if len(rows) > 1 else np.ones(out.shape[1])
        out[m] = (out[m] - rows.mean(axis=0)) / np.where(sd > 1e-8, sd, 1.0)
    return out


class SvmBaseline:
    """StandardScaler + SVC(rbf, class_weight='balanced'); :meth:`fit` picks C on validation."""

    def __init__(self, c: float = 1.0) -> None:
        self.c = c
        self.model: Any = None  # the fitted sklearn pipeline (sklearn has no type information)

    def _make(self, c: float):
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        return make_pipeline(
            StandardScaler(),
            SVC(C=c, kernel="rbf", gamma="scale", class_weight="balanced", decision_function_shape="ovr"),
        )

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        grid: Sequence[float] = (0.1, 1.0, 10.0, 100.0),
    ) -> SvmBaseline:
        if x_val is not None and len(x_val):
            from sklearn.metrics import balanced_accuracy_score

            scores = []
            for c in grid:
                m = self._make(c).fit(x, y)
                scores.append(balanced_accuracy_score(y_val, m.predict(x_val)))
            self.c = float(grid[int(np.argmax(scores))])
            x, y = np.concatenate([x, x_val]), np.concatenate([y, y_val])
        self.model = self._make(self.c).fit(x, y)
        return self

    def predict_proba(self, x: np.ndarray, n_classes: int) -> np.ndarray:
        """Softmax of the one-vs-rest decision values ``(N, n_classes)`` (scores, not calibrated)."""
        d = np.asarray(self.model.decision_function(x), dtype=float)
        if d.ndim == 1:  # two classes
            d = np.stack([-d, d], axis=1)
        e = np.exp(d - d.max(axis=1, keepdims=True))
        out = np.zeros((len(x), n_classes))
        out[:, self.model.classes_] = e / e.sum(axis=1, keepdims=True)
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class indices from the SVM's decision (Platt probabilities can disagree with it)."""
        return self.model.predict(x)
