"""Evaluation: one model on a labelled set (:func:`evaluate`), and cross-validation of a
network variant or the eGeMAPS+SVM baseline on the same folds (:func:`cross_validate`),
optionally with babble/room noise added to the test clips at given SNRs (robustness).

Cross-validation writes, into ``out_dir``: ``predictions.csv`` (one row per test clip and
condition), ``folds.csv`` (figures per fold and condition), ``models/fold<k>.safetensors``
(network variants) and, when all folds are done, ``summary.md`` / ``summary.csv`` (pooled and
mean-over-folds figures, per-class recall, confusion matrices). A run is resumable: folds
already in ``folds.csv`` are skipped.
"""

from __future__ import annotations

import csv
import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from model.augment import babble, mix_at_snr, room_noise
from model.bundle import ModelBundle
from model.calibration import fit_temperature
from model.config import VARIANTS, FeatureConfig, ModelConfig, TrainConfig
from model.data import Item, load_waveforms, make_folds, validation_split
from model.errors import DatasetError
from model.metrics import Figures, compute_figures
from model.network import predict_logits
from model.normalising import group_keys, normalise_features, raw_features, speaker_keys, speaker_stats
from model.train import TrainResult, train_model

Progress = Callable[[float, str], None]
METHODS = VARIANTS + ("baseline",)


@torch.no_grad()
def predict_waveforms(
    bundle: ModelBundle,
    wavs: Sequence[np.ndarray],
    batch_size: int = 32,
    keys: Sequence[Any] | None = None,
    context: Sequence[np.ndarray] = (),
    context_keys: Sequence[Any] = (),
) -> np.ndarray:
    """``(N, C)`` class probabilities of 16 kHz waveforms (chunked like at inference).
    ``keys``: the speaker of each waveform (used by speaker-normalised models; a speaker's
    statistics come from all of their waveforms given here, plus the unlabelled ``context``
    waveforms of the same speakers ``context_keys``, which are not classified)."""
    raw = raw_features(wavs, bundle)
    keys = group_keys(keys, len(raw))
    stats = None
    if bundle.feature_config.speaker_normalised and len(context):
        stats = speaker_stats(raw, keys, bundle)
        wanted = set(keys)
        mine = [(w, k) for w, k in zip(context, context_keys) if k in wanted]
        for f, (_, k) in zip(raw_features([w for w, _ in mine], bundle), mine):
            stats.add(k, f)
    feats = normalise_features(raw, bundle, keys, stats)
    return (
        predict_logits(
            bundle.net, feats, bundle.chunk_frames, batch_size, bundle.device, temperature=bundle.temperature
        )
        .exp()
        .numpy()
    )


def noisy(
    wavs: Sequence[np.ndarray], kind: str, snr_db: float, pool: Sequence[np.ndarray], seed: int
) -> list[np.ndarray]:
    """Copies of ``wavs`` with ``kind`` (``babble``/``room``) noise at ``snr_db``, reproducibly."""
    out = []
    for i, w in enumerate(wavs):
        rng = np.random.default_rng([seed, i, int(snr_db * 10), kind == "babble"])
        n = babble(len(w), rng, pool) if kind == "babble" else room_noise(len(w), rng)
        out.append(mix_at_snr(w, n, snr_db))
    return out


def evaluate(
    model: ModelBundle | str | Path,
    items: Sequence[Item],
    *,
    device: str = "cpu",
    audio: Mapping[str, np.ndarray] | None = None,
    noise: str | None = None,
    snr_db: float = 10.0,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    cancel: Any = None,
) -> Figures:
    """Figures (WA, UA, macro-F1, per-class recall, confusion) of a model on labelled items.
    Items whose label the model does not know raise :class:`DatasetError`. ``noise``
    (``babble``/``room``) adds noise at ``snr_db`` (babble made from the items themselves)."""
    from model.io import load_model

    bundle = model if isinstance(model, ModelBundle) else load_model(model, device)
    unknown = sorted({it.label for it in items} - set(bundle.labels))
    if unknown:
        raise DatasetError(f"Labels {unknown} are not among the model's labels {bundle.labels}.")
    wavs = [audio[it.path] for it in items] if audio else load_waveforms(items, cache_dir, progress, cancel)
    if noise:
        wavs = noisy(wavs, noise, snr_db, wavs, seed=0)
    probs = predict_waveforms(bundle, wavs, keys=speaker_keys(items))
    y = [bundle.labels.index(it.label) for it in items]
    return compute_figures(y, probs.argmax(1).tolist(), bundle.labels)


# ----------------------------------------------------------------------------- cross-validation
def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _append_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    new = not path.is_file()
    with open(path, "a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
        if new:
            w.writeheader()
        w.writerows(rows)


def cross_validate(
    items: Sequence[Item],
    protocol: str,
    method: str,
    out_dir: str | Path,
    *,
    labels: Sequence[str] | None = None,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    feature_config: FeatureConfig | None = None,
    robustness: Sequence[tuple[str, float]] = (),
    folds: Sequence[int] | None = None,
    nested: bool = False,
    device: str = "cpu",
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    cancel: Any = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Figures]:
    """Cross-validate ``method`` (a variant of :data:`model.config.VARIANTS` or ``baseline``)
    with ``protocol`` (``speaker-pairs``, ``loso``, ``random10``, ``sessions``). Early stopping
    and the SVM's C use a validation split of the *training* speakers only. ``robustness``:
    extra test conditions such as ``[("babble", 20), ("room", 5)]``. Returns pooled figures per
    condition (``clean``, ``babble20``, ...) once every fold is done (else only what is done).
    ``feature_config.normalisation == "speaker"``: speaker-normalised features (for the
    baseline: functionals standardised per speaker), each test speaker's statistics taken
    from their test clips of the condition plus, where the protocol also trains on that
    speaker (``random10``), their training clips (clean; no labels used), just as the app
    takes a speaker's statistics from all their utterances in the lesson.

    ``nested=True`` (the second recipe's protocol): the epoch count (network) or C (SVM) and
    the confidence temperature are chosen on an inner split of the training speakers (two of
    them held out), then the fold's model is trained on *all* its training speakers with that
    epoch count, so the network and the baseline see exactly the same training data. Without
    it, the early-stopped model trained on the inner split is tested (the first recipe)."""
    if method not in METHODS:
        raise DatasetError(f"Unknown method {method!r}; choose from {METHODS}.")
    say = log or (lambda s: None)
    out = Path(out_dir)
    (out / "models").mkdir(parents=True, exist_ok=True)
    labels = list(labels) if labels is not None else sorted({it.label for it in items})
    all_folds = make_folds(items, protocol)
    todo = list(range(len(all_folds))) if folds is None else list(folds)
    done = {int(r["fold"]) for r in _read_csv(out / "folds.csv") if r["condition"] == "clean"}
    wavs = load_waveforms(items, cache_dir, cancel=cancel)
    audio = {it.path: w for it, w in zip(items, wavs)}
    feats_x = None
    by_speaker = feature_config is not None and feature_config.speaker_normalised
    keys = speaker_keys(items)
    if method == "baseline":
        feats_x = _egemaps_cached(items, wavs, cache_dir, cancel)
    conditions = [("clean", 0.0)] + [(k, float(s)) for k, s in robustness]
    for n_done, k in enumerate(todo):
        if k in done:
            say(f"fold {k}: already done, skipped")
            continue
        t0 = time.time()
        tr_all, te = all_folds[k]
        tr, va = validation_split(items, tr_all, seed=k)
        test_items = [items[i] for i in te]
        test_speakers = {keys[i] for i in te}
        context = [i for i in tr_all if keys[i] in test_speakers]  # empty when speaker-independent
        fold_info: dict[str, Any] = {"best_epoch": "", "c": "", "temperature": "", "inner_val_ua": ""}
        y_all = np.array([labels.index(it.label) for it in items])
        scale = (lambda f, m, k=k, n=n_done: progress((n + f) / len(todo), f"fold {k}: {m}")) if progress else None
        if method == "baseline":
            from model.baseline import SvmBaseline, egemaps, speaker_standardise

            assert feats_x is not None  # the functionals were extracted above for the baseline

            def part(x: np.ndarray, idx: Sequence[int], ctx: Sequence[int] = ()) -> np.ndarray:
                """Functionals of ``idx``; speaker-normalised within that part (train,
                validation or test, the test part with its speakers' training clips ``ctx``
                as unlabelled context), as the network's statistics are."""
                if not by_speaker:
                    return x
                return speaker_standardise(x, [keys[i] for i in idx], feats_x[list(ctx)], [keys[i] for i in ctx])

            y = y_all
            svm = SvmBaseline().fit(part(feats_x[tr], tr), y[tr], part(feats_x[va], va), y[va])
            fold_info["c"] = svm.c
            if nested:  # C from the inner split, the model from all training speakers
                svm = SvmBaseline(c=svm.c).fit(part(feats_x[tr_all], tr_all), y[tr_all])

            # predict() is called in this fold's iteration only, so the loop variables it reads
            # (te, context, svm; res below) are this fold's: B023 does not apply.
            def predict(ws: list[np.ndarray], clean: bool) -> tuple[np.ndarray, np.ndarray]:
                x = part(feats_x[te] if clean else egemaps(ws, cancel=cancel), te, context)  # noqa: B023
                return svm.predict_proba(x, len(labels)), svm.predict(x)  # noqa: B023
        else:
            cfg = dataclasses.replace(model_config or ModelConfig(), variant=method)

            def fit(train_idx: Sequence[int], val_idx: Sequence[int], tcfg: TrainConfig | None) -> TrainResult:
                """This fold's network trained on ``train_idx`` (early stopping on ``val_idx``)."""
                return train_model(
                    cfg,  # noqa: B023 (called in this fold's iteration only, as predict() below)
                    [items[i] for i in train_idx],
                    [items[i] for i in val_idx],
                    labels=labels,
                    train_config=tcfg,
                    feature_config=feature_config,
                    device=device,
                    audio=audio,
                    name=f"{method}-fold{k}",  # noqa: B023
                    progress=scale,  # noqa: B023
                    cancel=cancel,
                    log=log,
                )

            res = fit(tr, va, train_config)
            va_logp = np.log(
                np.clip(
                    predict_waveforms(res.bundle, [audio[items[i].path] for i in va], keys=[keys[i] for i in va]),
                    1e-12,
                    1.0,
                )
            )
            temperature = fit_temperature(va_logp, y_all[va])
            fold_info.update(
                best_epoch=res.best_epoch,
                temperature=round(temperature, 4),
                inner_val_ua=round(compute_figures(y_all[va].tolist(), va_logp.argmax(1).tolist(), labels).ua, 4),
            )
            if nested:  # the same epoch count, now on all training speakers
                tcfg = dataclasses.replace(train_config or TrainConfig(), stop_after=max(1, res.best_epoch))
                res = fit(tr_all, (), tcfg)
            res.bundle.metadata["temperature"] = temperature
            res.save(out / "models" / f"fold{k}.safetensors")

            def predict(ws: list[np.ndarray], clean: bool) -> tuple[np.ndarray, np.ndarray]:
                p = predict_waveforms(
                    res.bundle,  # noqa: B023 (see above)
                    ws,
                    keys=[keys[i] for i in te],  # noqa: B023
                    context=[audio[items[i].path] for i in context],  # noqa: B023
                    context_keys=[keys[i] for i in context],  # noqa: B023
                )
                return p, p.argmax(1)

        train_s = time.time() - t0
        clean_wavs = [audio[it.path] for it in test_items]
        pool = [audio[items[i].path] for i in tr_all]  # babble from training speakers only
        fold_rows, pred_rows = [], []
        for cond, snr in conditions:
            ws = clean_wavs if cond == "clean" else noisy(clean_wavs, cond, snr, pool, seed=k)
            probs, pred = predict(ws, cond == "clean")
            name = cond if cond == "clean" else f"{cond}{snr:g}"
            y_true = [labels.index(it.label) for it in test_items]
            fig = compute_figures(y_true, pred.tolist(), labels)
            fold_rows.append(
                {
                    "fold": k,
                    "condition": name,
                    "n": fig.n,
                    "wa": round(fig.wa, 4),
                    "ua": round(fig.ua, 4),
                    "macro_f1": round(fig.macro_f1, 4),
                    "test_speakers": " ".join(sorted({it.speaker or "" for it in test_items})),
                    "val_speakers": " ".join(sorted({items[i].speaker or "" for i in va})),
                    "best_epoch": fold_info["best_epoch"],
                    "svm_c": fold_info["c"],
                    "temperature": fold_info["temperature"],
                    "inner_val_ua": fold_info["inner_val_ua"],
                    "nested": int(nested),
                    "train_seconds": round(train_s, 1),
                }
            )
            for it, p, yp in zip(test_items, probs, pred):
                pred_rows.append(
                    {
                        "fold": k,
                        "condition": name,
                        "file": Path(it.path).name,
                        "speaker": it.speaker or "",
                        "true": it.label,
                        "pred": labels[int(yp)],
                        **{f"p_{lab}": round(float(p[j]), 5) for j, lab in enumerate(labels)},
                    }
                )
            say(f"fold {k} {name}: WA {fig.wa:.3f} UA {fig.ua:.3f} F1 {fig.macro_f1:.3f}")
        _append_csv(out / "predictions.csv", pred_rows)
        _append_csv(out / "folds.csv", fold_rows)
    return summarise(out, labels, n_folds=len(all_folds), title=f"{method}, {protocol}")


def summarise(
    out_dir: str | Path, labels: Sequence[str], n_folds: int | None = None, title: str = ""
) -> dict[str, Figures]:
    """Pooled figures per condition from ``predictions.csv``; writes ``summary.md``/``summary.csv``."""
    out = Path(out_dir)
    preds = _read_csv(out / "predictions.csv")
    fold_rows = _read_csv(out / "folds.csv")
    labels = list(labels)
    result: dict[str, Figures] = {}
    conds = list(dict.fromkeys(r["condition"] for r in preds))
    for cond in conds:
        rows = [r for r in preds if r["condition"] == cond]
        result[cond] = compute_figures(
            [labels.index(r["true"]) for r in rows], [labels.index(r["pred"]) for r in rows], labels
        )
    folds_done = sorted({int(r["fold"]) for r in fold_rows})
    md = [
        f"# Cross-validation: {title}",
        "",
        f"Folds done: {len(folds_done)}" + (f" of {n_folds}" if n_folds else ""),
        "",
    ]
    md += [
        "| condition | n | WA (pooled) | UA (pooled) | macro-F1 (pooled) | WA mean±sd over folds | UA mean±sd over folds |",
        "|---|---|---|---|---|---|---|",
    ]
    csv_rows = []
    for cond, fig in result.items():
        fr = [r for r in fold_rows if r["condition"] == cond]
        wa = np.array([float(r["wa"]) for r in fr])
        ua = np.array([float(r["ua"]) for r in fr])
        ddof = 1 if len(fr) > 1 else 0  # sample standard deviation over folds
        md.append(
            f"| {cond} | {fig.n} | {100 * fig.wa:.2f} | {100 * fig.ua:.2f} | {100 * fig.macro_f1:.2f} | "
            f"{100 * wa.mean():.2f} ± {100 * wa.std(ddof=ddof):.2f} | {100 * ua.mean():.2f} ± {100 * ua.std(ddof=ddof):.2f} |"
        )
        csv_rows.append(
            {
                "condition": cond,
                "n": fig.n,
                "wa": round(fig.wa, 4),
                "ua": round(fig.ua, 4),
                "macro_f1": round(fig.macro_f1, 4),
                "wa_fold_mean": round(float(wa.mean()), 4),
                "ua_fold_mean": round(float(ua.mean()), 4),
                "ua_fold_sd": round(float(ua.std(ddof=ddof)), 4),
                **{f"recall_{k}": round(v, 4) for k, v in fig.recall.items()},
            }
        )
    md += [
        "",
        "## Per fold",
        "",
        "| fold | condition | test speakers | n | WA | UA | macro-F1 | best epoch / SVM C | train s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in fold_rows:
        md.append(
            f"| {r['fold']} | {r['condition']} | {r['test_speakers']} | {r['n']} | {100 * float(r['wa']):.1f} | "
            f"{100 * float(r['ua']):.1f} | {100 * float(r['macro_f1']):.1f} | {r['best_epoch'] or r['svm_c']} | {r['train_seconds']} |"
        )
    for cond, fig in result.items():
        md += [
            "",
            f"## {cond}: per-class recall and confusion (pooled; rows true, columns predicted)",
            "",
            "| true \\ pred | " + " | ".join(labels) + " | recall |",
            "|---" * (len(labels) + 2) + "|",
        ]
        for i, lab in enumerate(labels):
            rec = fig.recall.get(lab, float("nan"))
            md.append(f"| {lab} | " + " | ".join(str(v) for v in fig.confusion[i]) + f" | {100 * rec:.1f} |")
    (out / "summary.md").write_text("\n".join(md) + "\n")
    if csv_rows:
        with open(out / "summary.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(csv_rows[0].keys()))
            w.writeheader()
            w.writerows(csv_rows)
    return result


def _egemaps_cached(
    items: Sequence[Item], wavs: Sequence[np.ndarray], cache_dir: str | Path | None, cancel: Any
) -> np.ndarray:
    from model.baseline import egemaps

    if cache_dir is None:
        return egemaps(wavs, cancel=cancel)
    import hashlib

    key = hashlib.sha1("|".join(it.path for it in items).encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"egemaps_{key}.npy"
    if path.is_file():
        return np.load(path)
    x = egemaps(wavs, cancel=cancel)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    return x
