"""Running a retraining: :func:`run_retraining` trains (``model.fine_tune.fine_tune`` or
``train_model``) with progress, per-epoch callback and cancel; :class:`RetrainOutcome` holds
the new and the base model's validation figures; :func:`save_outcome` writes the model file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esergui.progress import ProgressCallback, check, report, scaled
from esergui.retrain.plan import EpochCallback, RetrainSettings, describe_split, split_items, train_with_settings
from esergui.retrain.report import label_problems
from esergui.retrain.sources import RetrainError
from esergui.retrain_evidence import assess_outcome
from model.data import Item

if TYPE_CHECKING:  # heavy imports (torch) stay inside the functions that need them
    from model.metrics import Figures
    from model.train import TrainResult


@dataclass
class RetrainPlan:
    """Everything a run needs. ``items``: relabelled usable items; ``labels``: the new model's
    label list; ``base_model``: the starting model file (``None`` with ``start="scratch"``)."""

    items: list[Item]
    labels: list[str]
    settings: RetrainSettings = field(default_factory=RetrainSettings)
    base_model: Path | None = None
    base_name: str = ""
    cache_dir: Path | None = None
    data_summary: dict[str, Any] = field(default_factory=dict)
    label_map: dict[str, str | None] = field(default_factory=dict)


@dataclass
class RetrainOutcome:
    """A finished (or cancelled) run. ``figures``: the new model on the validation clips;
    ``base_figures``: the starting model on the validation clips whose labels it knows
    (``None`` from scratch or when it knows none of them), described by ``base_note``."""

    result: TrainResult
    train_items: list[Item]
    val_items: list[Item]
    figures: Figures
    base_figures: Figures | None
    base_note: str
    split: str

    @property
    def bundle(self) -> Any:
        return self.result.bundle

    @property
    def cancelled(self) -> bool:
        return self.result.cancelled

    @property
    def ua_change(self) -> float | None:
        """New minus starting model's UA on the same validation clips (``None`` without one)."""
        if self.base_figures is None or not self.base_figures.n:
            return None
        return float(self.figures.ua - self.base_figures.ua)


def base_figures(
    base_model: str | Path, val: Sequence[Item], cache_dir: str | Path | None = None, cancel: Any = None
) -> tuple[Figures | None, str]:
    """The starting model's figures on the validation clips whose labels it knows, and a note
    saying on what they were computed."""
    from model.evaluate import evaluate
    from model.io import load_model

    bundle = load_model(base_model, "cpu")
    known = [it for it in val if it.label in bundle.labels]
    if not known:
        return None, f"{bundle.name} knows none of the validation labels"
    note = f"{bundle.name} on the same {len(known)} validation clips"
    if len(known) < len(val):
        note += f" ({len(val) - len(known)} with labels it does not know left out)"
    return evaluate(bundle, known, cache_dir=cache_dir, cancel=cancel), note


def run_retraining(
    plan: RetrainPlan,
    progress: ProgressCallback | None = None,
    cancel: Any = None,
    on_epoch: EpochCallback | None = None,
    log: Callable[[str], None] | None = None,
    name: str = "retrained",
    on_start: Callable[[str, Figures | None], None] | None = None,
) -> RetrainOutcome:
    """Split, score the starting model on the validation clips, train (fine-tune or from
    scratch), score the new model. Progress: 0-5 % starting model, 5-95 % training, the rest
    the final evaluation. ``on_start(split description, starting model's figures)`` is called
    before the first epoch. On cancel the best epoch so far is kept (``outcome.cancelled``);
    :class:`esergui.progress.Cancelled` propagates only when no epoch had finished."""
    from model.evaluate import evaluate

    s = plan.settings
    if s.start == "finetune" and plan.base_model is None:
        raise RetrainError("Fine-tuning needs a starting model; choose one or train from scratch.")
    problems = [p for p in label_problems(plan.items) if p.severity == "error"]
    if problems:
        raise RetrainError(problems[0].message)
    train, val = split_items(plan.items, s.split, s.seed)
    check(cancel)
    report(progress, 0.0, "scoring the starting model on the validation clips")
    base_fig, note = (None, "trained from scratch: no starting model")
    if plan.base_model is not None and s.start == "finetune":
        base_fig, note = base_figures(plan.base_model, val, plan.cache_dir, cancel)
    if on_start is not None:
        on_start(describe_split(train, val), base_fig)
    result = train_with_settings(
        train,
        val,
        plan.labels,
        s,
        plan.base_model,
        plan.cache_dir,
        scaled(progress, 0.05, 0.95),
        cancel,
        on_epoch,
        log,
        name,
    )
    report(progress, 0.95, "scoring the new model on the validation clips")
    figures = evaluate(result.bundle, val, cache_dir=plan.cache_dir)
    report(progress, 1.0, "cancelled: kept the best epoch so far" if result.cancelled else "finished")
    return RetrainOutcome(result, train, val, figures, base_fig, note, describe_split(train, val))


def save_outcome(outcome: RetrainOutcome, plan: RetrainPlan, path: str | Path, name: str) -> Path:
    """Write the new model file with its figures and data summary in the metadata
    (``metadata["retraining"]``: data, label map, settings, split, validation figures,
    starting model's figures, and their evidence: :func:`esergui.retrain_evidence.assess_outcome`)."""
    from model.io import save_model

    bundle = outcome.bundle
    bundle.metadata["name"] = name
    bundle.metadata["retraining"] = {
        "data": plan.data_summary,
        "label_map": plan.label_map,
        "settings": dataclasses.asdict(plan.settings),
        "base": plan.base_name or None,
        "split": outcome.split,
        "validation": outcome.figures.to_dict(),
        "base_validation": outcome.base_figures.to_dict() if outcome.base_figures else None,
        "base_note": outcome.base_note,
        "cancelled": outcome.cancelled,
        "evidence": assess_outcome(outcome).to_dict(),  # esergui.retrain_evidence: sizes, intervals, protocols
    }
    return save_model(bundle, path)


def slug(name: str) -> str:
    """A file-name-safe form of a model name (with a short hash so distinct names stay distinct)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-.")[:48] or "model"
    return f"{base}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"
