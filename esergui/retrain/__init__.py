"""Retraining, headless: the logic behind the retraining wizard (``esergui.app.retrain.wizard``).

The steps mirror the wizard's pages:

1. **Data**: :func:`collect_items` turns a :class:`DataSource` into :class:`model.data.Item`\\ s
   (human-labelled utterances of workspace lessons are cut into 16 kHz clips under the
   workspace's ``cache/retrain/``); :func:`inspect_items` decodes every clip once (into the
   ``.npy`` audio cache the training reuses) and returns a :class:`DataReport`: counts per label
   and per speaker, total duration and the problems found.
2. **Labels**: :class:`LabelMap` maps, merges (two sources onto one target) or drops (target
   ``None``) labels; :func:`suggest_mapping` matches source labels to the model's labels.
3. **Settings**: :class:`RetrainSettings` (defaults: fine-tune the whole active model for up
   to 15 epochs, lr 3e-4, augmentation on, validation on held-out speakers);
   :func:`measure_speed` times two real training epochs on a sample of the data on this
   machine, and :func:`estimate_seconds` turns that into a time estimate.
4. **Training**: :func:`run_retraining` calls :func:`model.fine_tune.fine_tune` (or
   :func:`model.train.train_model` from scratch) with progress, a per-epoch callback and a
   cancel token; a cancelled run keeps the best epoch so far.
5. **Results**: :class:`RetrainOutcome` holds the new model's validation figures (UA, WA,
   per-class recall, confusion matrix) and the starting model's figures on the same
   validation clips; :func:`save_outcome` writes the model file (figures in its metadata).

Modules: :mod:`.sources` (1), :mod:`.report` (1), :mod:`.labels` (2), :mod:`.plan` (3), :mod:`.run`
(4, 5); this package re-exports their public names (``from esergui import retrain as R``).
Times are seconds; audio is mono float32 at 16 kHz.
"""

from esergui.retrain.labels import LabelMap, mapping_counts, suggest_mapping
from esergui.retrain.plan import (
    DEFAULT_EPOCHS,
    EpochCallback,
    RetrainSettings,
    SpeedMeasurement,
    available_devices,
    describe_split,
    estimate_seconds,
    measure_speed,
    split_items,
    train_with_settings,
)
from esergui.retrain.report import FEW_EXAMPLES, MIN_EXAMPLES, DataReport, inspect_items, label_problems
from esergui.retrain.run import RetrainOutcome, RetrainPlan, base_figures, run_retraining, save_outcome, slug
from esergui.retrain.sources import (
    MIN_CLIP_S,
    SOURCE_KINDS,
    SOURCE_TITLES,
    DataSource,
    Problem,
    RetrainError,
    collect_items,
    human_label_counts,
    workspace_items,
)

__all__ = [
    "LabelMap",
    "mapping_counts",
    "suggest_mapping",
    "DEFAULT_EPOCHS",
    "EpochCallback",
    "RetrainSettings",
    "SpeedMeasurement",
    "available_devices",
    "describe_split",
    "estimate_seconds",
    "measure_speed",
    "split_items",
    "train_with_settings",
    "FEW_EXAMPLES",
    "MIN_EXAMPLES",
    "DataReport",
    "inspect_items",
    "label_problems",
    "RetrainOutcome",
    "RetrainPlan",
    "base_figures",
    "run_retraining",
    "save_outcome",
    "slug",
    "MIN_CLIP_S",
    "SOURCE_KINDS",
    "SOURCE_TITLES",
    "DataSource",
    "Problem",
    "RetrainError",
    "collect_items",
    "human_label_counts",
    "workspace_items",
]
