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
4. **Training**: :func:`run_retraining` calls :func:`model.train.fine_tune` (or
   :func:`model.train.train_model` from scratch) with progress, a per-epoch callback and a
   cancel token; a cancelled run keeps the best epoch so far.
5. **Results**: :class:`RetrainOutcome` holds the new model's validation figures (UA, WA,
   per-class recall, confusion matrix) and the starting model's figures on the same
   validation clips; :func:`save_outcome` writes the model file (figures in its metadata).

Times are seconds; audio is mono float32 at 16 kHz.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from esergui.errors import EserError, WorkspaceError
from esergui.lesson import HUMAN
from esergui.progress import CancelToken, ProgressCallback, check, report, scaled
from model.data import SR, Item, csv_items, emodb_items, folder_items, load_waveforms, validation_split
from model.errors import ModelError

if TYPE_CHECKING:  # heavy imports (torch) stay inside the functions that need them
    from model.metrics import Figures
    from model.train import TrainResult
    from esergui.workspace import Workspace

SOURCE_KINDS = ("workspace", "folder", "csv", "emodb")
SOURCE_TITLES = {
    "workspace": "Human-labelled utterances of lessons in this workspace",
    "folder": "A folder with one sub-folder per label",
    "csv": "A CSV list (file,label[,speaker])",
    "emodb": "An EmoDB-style folder",
}
MIN_CLIP_S = 0.4        # shorter clips are left out (too short to carry an emotion)
FEW_EXAMPLES = 10       # labels with fewer examples get a warning
MIN_EXAMPLES = 2        # labels need at least this many to train and validate
#: Most epochs by start: fine-tuning converges in a few; from scratch needs many more.
DEFAULT_EPOCHS = {"finetune": 15, "scratch": 40}
EpochCallback = Callable[[int, float, float, float, float], None]


class RetrainError(EserError):
    """The retraining data or settings cannot be used (one sentence for the user)."""


# ----------------------------------------------------------------------------- data sources
@dataclass(frozen=True)
class DataSource:
    """Where training data comes from. ``kind`` is one of :data:`SOURCE_KINDS`; ``path`` is the
    folder or CSV file (not used for ``workspace``); ``lesson_ids`` picks lessons of the
    workspace (``None``: every lesson with human labels)."""

    kind: str
    path: str | None = None
    lesson_ids: tuple[int, ...] | None = None

    def describe(self) -> str:
        if self.kind == "workspace":
            n = "all lessons" if self.lesson_ids is None else f"{len(self.lesson_ids)} lesson(s)"
            return f"workspace annotations ({n})"
        return f"{self.kind}: {self.path}"


def human_label_counts(ws: "Workspace") -> dict[int, int]:
    """Lesson id -> number of its utterances with a human emotion label (lessons with none left out)."""
    out = {}
    for lesson in ws.lessons():
        n = sum(1 for u in ws.utterances(int(lesson.id)) if u.emotion_source == HUMAN)
        if n:
            out[int(lesson.id)] = n
    return out


def collect_items(source: DataSource, workspace: "Workspace | None" = None,
                  progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                  problems: list["Problem"] | None = None) -> list[Item]:
    """The labelled items of ``source`` (file paths are not opened yet, except lesson audio,
    which is cut into clips). Raises :class:`RetrainError` / :class:`model.errors.DatasetError`
    with a one-sentence message when the source is empty or malformed; lessons skipped because
    their audio is missing are appended to ``problems``."""
    if source.kind not in SOURCE_KINDS:
        raise RetrainError(f"Unknown data source {source.kind!r}; choose one of {', '.join(SOURCE_KINDS)}.")
    if source.kind == "workspace":
        if workspace is None:
            raise RetrainError("Open a workspace to train on its annotated lessons.")
        return workspace_items(workspace, source.lesson_ids, progress, cancel, problems)
    if not source.path:
        raise RetrainError("Choose a folder or file with the training data.")
    path = Path(source.path).expanduser()
    if source.kind == "csv":
        if not path.is_file():
            raise RetrainError(f"The CSV list {path} does not exist.")
        return csv_items(path)
    if not path.is_dir():
        raise RetrainError(f"The folder {path} does not exist.")
    return emodb_items(path) if source.kind == "emodb" else folder_items(path)


def workspace_items(ws: "Workspace", lesson_ids: Sequence[int] | None = None,
                    progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                    problems: list["Problem"] | None = None) -> list[Item]:
    """Human-labelled utterances of the workspace's lessons, cut from each lesson's audio into
    16 kHz wav clips under ``<workspace>/cache/retrain/``. The speaker of an item is
    ``<lesson name>: <speaker name>`` (the same voice in two lessons counts as two speakers).
    A lesson whose audio is missing is skipped (a ``missing_audio`` warning in ``problems``);
    :class:`RetrainError` when no lesson is left."""
    import soundfile as sf

    counts = human_label_counts(ws)
    ids = [i for i in (lesson_ids if lesson_ids is not None else counts) if counts.get(int(i))]
    if not ids:
        raise RetrainError("No lesson in this workspace has utterances with a human emotion label yet.")
    out_dir = ws.cache_dir / "retrain"
    out_dir.mkdir(parents=True, exist_ok=True)
    items: list[Item] = []
    missing: list[str] = []
    for k, lesson_id in enumerate(ids):
        check(cancel)
        lesson = ws.lesson(int(lesson_id))
        report(progress, k / len(ids), f"cutting clips from {lesson.name}")
        try:
            audio = ws.find_audio(int(lesson_id))
        except WorkspaceError:
            missing.append(lesson.name)
            continue
        cached = ws.cache_file(lesson)
        reader = _SpanReader(cached if cached.is_file() else audio)
        names = {sp.label: sp.name for sp in ws.speakers(int(lesson_id))}
        for u in ws.utterances(int(lesson_id)):
            if u.emotion_source != HUMAN:
                continue
            clip = out_dir / f"{lesson.audio_sha256[:12]}_{u.id}_{int(u.start_s * 1000)}-{int(u.end_s * 1000)}.wav"
            if not clip.is_file():
                wav = reader.read(u.start_s, u.end_s)
                tmp = clip.with_suffix(".tmp.wav")
                sf.write(str(tmp), wav, SR, subtype="PCM_16")
                tmp.replace(clip)
            who = names.get(u.final_speaker or "", u.final_speaker or "unknown speaker")
            items.append(Item(str(clip), str(u.human_emotion), f"{lesson.name}: {who}"))
    if not items:
        raise RetrainError(f"The audio of the selected lessons is missing ({', '.join(missing)}); locate it first.")
    if missing and problems is not None:
        problems.append(Problem("warning", "missing_audio", f"The audio of {len(missing)} lesson(s) is missing, so "
                                f"their labels are left out: {', '.join(missing)}; locate the audio to use them."))
    report(progress, 1.0, f"{len(items)} clips from {len(ids) - len(missing)} lesson(s)")
    return items


class _SpanReader:
    """Reads ``[start_s, end_s)`` of a file as 16 kHz mono: seeks with soundfile where it can,
    else decodes the whole file once (PyAV, via :func:`model.data.load_audio`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._whole: np.ndarray | None = None

    def read(self, start_s: float, end_s: float) -> np.ndarray:
        import soundfile as sf

        if self._whole is None:
            try:
                with sf.SoundFile(str(self.path)) as fh:
                    sr = fh.samplerate
                    fh.seek(max(0, int(round(start_s * sr))))
                    data = fh.read(max(1, int(round((end_s - start_s) * sr))), dtype="float32", always_2d=True)
                wav = data.mean(axis=1)
                if sr != SR:
                    import soxr

                    wav = soxr.resample(wav, sr, SR)
                return np.ascontiguousarray(wav, dtype=np.float32)
            except (sf.LibsndfileError, RuntimeError, OSError):
                from model.data import load_audio

                self._whole = load_audio(self.path)
        return self._whole[int(round(start_s * SR)): int(round(end_s * SR))]


# ----------------------------------------------------------------------------- data report
@dataclass(frozen=True)
class Problem:
    """Something wrong with the data. ``severity``: ``"error"`` (cannot go on) or
    ``"warning"``; ``kind``: ``unreadable``, ``too_short``, ``few_examples``, ``one_label``,
    ``one_speaker``, ``no_speakers``, ``missing_audio`` or ``empty``; ``files``: the files concerned."""

    severity: str
    kind: str
    message: str
    files: tuple[str, ...] = ()


@dataclass
class DataReport:
    """What :func:`inspect_items` found. ``usable``: readable items at least ``MIN_CLIP_S``
    long; counts and ``total_s`` (seconds of audio) are over the usable items."""

    items: list[Item]
    usable: list[Item]
    durations: dict[str, float]
    problems: list[Problem] = field(default_factory=list)
    source: str = ""

    @property
    def label_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(it.label for it in self.usable).items()))

    @property
    def speaker_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(it.speaker or "unknown" for it in self.usable).items()))

    @property
    def total_s(self) -> float:
        return float(sum(self.durations.get(it.path, 0.0) for it in self.usable))

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def summary(self) -> dict[str, Any]:
        """JSON-able summary stored with a trained model."""
        return {"source": self.source, "clips": len(self.usable), "labels": self.label_counts,
                "speakers": len({it.speaker for it in self.usable if it.speaker}),
                "duration_s": round(self.total_s, 1)}

    def text(self) -> str:
        """A plain-text report (for the CLI, logs and tests)."""
        lines = [f"{len(self.usable)} usable clips of {len(self.items)}, {self.total_s / 60:.1f} min of audio",
                 "labels: " + ", ".join(f"{k} {v}" for k, v in self.label_counts.items()),
                 "speakers: " + ", ".join(f"{k} {v}" for k, v in self.speaker_counts.items())]
        lines += [f"{p.severity}: {p.message}" for p in self.problems]
        return "\n".join(lines)


def inspect_items(items: Sequence[Item], cache_dir: str | Path | None = None, *, source: str = "",
                  min_clip_s: float = MIN_CLIP_S, problems: Sequence[Problem] = (),
                  progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> DataReport:
    """Decode every item once (filling the ``.npy`` audio cache in ``cache_dir`` that training
    reuses) and report counts and problems: unreadable files, clips shorter than
    ``min_clip_s``, labels with fewer than :data:`FEW_EXAMPLES` examples, one label only, one
    speaker only, no speaker information; ``problems`` found earlier (by :func:`collect_items`)
    come first."""
    items = list(items)
    durations: dict[str, float] = {}
    unreadable: list[str] = []
    short: list[str] = []
    for i, it in enumerate(items):
        check(cancel)
        try:
            wav = load_waveforms([it], cache_dir)[0]
        except (ModelError, OSError, ValueError):
            unreadable.append(it.path)
            continue
        durations[it.path] = len(wav) / SR
        if durations[it.path] < min_clip_s:
            short.append(it.path)
        if i % 8 == 0 or i == len(items) - 1:
            report(progress, (i + 1) / len(items), f"checking audio {i + 1}/{len(items)}")
    bad = set(unreadable) | set(short)
    usable = [it for it in items if it.path not in bad]
    rep = DataReport(items, usable, durations, list(problems), source=source)
    probs = rep.problems
    if unreadable:
        probs.append(Problem("warning", "unreadable", f"{len(unreadable)} file(s) cannot be read as audio and "
                             f"will be left out, e.g. {Path(unreadable[0]).name}.", tuple(unreadable)))
    if short:
        probs.append(Problem("warning", "too_short", f"{len(short)} clip(s) are shorter than {min_clip_s:g} s and "
                             f"will be left out, e.g. {Path(short[0]).name}.", tuple(short)))
    probs.extend(label_problems(usable))
    speakers = {it.speaker for it in usable if it.speaker}
    if usable and not speakers:
        probs.append(Problem("warning", "no_speakers", "The data names no speakers: validation uses a random "
                             "split, so its figures may be optimistic for new voices."))
    elif len(speakers) == 1:
        probs.append(Problem("warning", "one_speaker", f"All clips come from one speaker ({next(iter(speakers))}): "
                             "the model may not work for other voices, and validation cannot use new speakers."))
    report(progress, 1.0, f"{len(usable)} usable clips")
    return rep


def label_problems(items: Sequence[Item]) -> list[Problem]:
    """Problems of a label distribution: no data, one label only, labels with too few examples."""
    counts = Counter(it.label for it in items)
    if not counts:
        return [Problem("error", "empty", "No usable audio clips were found.")]
    out = []
    if len(counts) < 2:
        out.append(Problem("error", "one_label", f"Training needs at least two labels; the data has only "
                           f"{next(iter(counts))!r}."))
    rare = sorted(lab for lab, n in counts.items() if n < MIN_EXAMPLES)
    if rare:
        out.append(Problem("error", "few_examples", f"Label(s) {', '.join(rare)} have fewer than {MIN_EXAMPLES} "
                           "examples: merge or drop them on the Labels page."))
    few = sorted(lab for lab, n in counts.items() if MIN_EXAMPLES <= n < FEW_EXAMPLES)
    if few:
        out.append(Problem("warning", "few_examples", f"Label(s) {', '.join(few)} have fewer than {FEW_EXAMPLES} "
                           "examples: the model will learn them poorly."))
    return out


# ----------------------------------------------------------------------------- labels
_SYNONYMS = {
    "angry": "anger", "ang": "anger", "mad": "anger", "happy": "happiness", "hap": "happiness",
    "joy": "happiness", "exc": "happiness", "excited": "happiness", "sad": "sadness", "neu": "neutral",
    "calm": "neutral", "bored": "boredom", "disgusted": "disgust", "fearful": "fear", "afraid": "fear",
    "scared": "fear",
}


def suggest_mapping(source_labels: Sequence[str], model_labels: Sequence[str]) -> dict[str, str]:
    """Each source label onto the model label it names (case-insensitive, common synonyms such
    as ``angry`` -> ``anger``), else onto itself (a new label)."""
    by_lower = {lab.lower(): lab for lab in model_labels}
    out = {}
    for src in source_labels:
        key = src.strip().lower()
        key = key if key in by_lower else _SYNONYMS.get(key, key)
        out[src] = by_lower.get(key, src)
    return out


@dataclass
class LabelMap:
    """``mapping``: source label -> target label, or ``None`` to drop the label's clips. Two
    sources with one target merge. ``keep_model_labels``: keep the starting model's whole
    label list (targets must be among its labels) instead of a new set of just the targets."""

    mapping: dict[str, str | None]
    keep_model_labels: bool = True

    @classmethod
    def identity(cls, labels: Sequence[str]) -> "LabelMap":
        return cls({lab: lab for lab in labels}, keep_model_labels=False)

    def targets(self) -> list[str]:
        return sorted({t for t in self.mapping.values() if t})

    def apply(self, items: Sequence[Item]) -> list[Item]:
        """Relabelled items; dropped labels (and labels missing from the mapping) are left out."""
        return [dataclasses.replace(it, label=self.mapping[it.label]) for it in items if self.mapping.get(it.label)]

    def label_list(self, model_labels: Sequence[str] | None) -> list[str]:
        """The new model's labels: the model's list (when kept and it covers the targets), else
        the sorted targets. Raises :class:`RetrainError` when targets are not model labels but
        the model's list must be kept."""
        targets = self.targets()
        if self.keep_model_labels and model_labels:
            outside = [t for t in targets if t not in model_labels]
            if outside:
                raise RetrainError(f"Label(s) {', '.join(outside)} are not among the model's labels; map them "
                                   "onto model labels, drop them, or choose a new label set.")
            return list(model_labels)
        return targets


# ----------------------------------------------------------------------------- settings
@dataclass
class RetrainSettings:
    """How to train. ``start``: ``"finetune"`` (from the starting model) or ``"scratch"``
    (then use ``epochs=DEFAULT_EPOCHS["scratch"]``);
    ``mode`` (fine-tune only): ``"full"`` network or ``"classifier"`` only; ``lr``: ``None``
    = the default for the start/mode (3e-4 full fine-tune, 1e-3 classifier or scratch);
    ``split``: validation on held-out ``"speaker"``\\ s (falls back to random without
    speakers) or ``"random"`` (stratified 15 %); ``device``: ``auto``/``cpu``/``cuda``/``mps``."""

    start: str = "finetune"
    mode: str = "full"
    epochs: int = DEFAULT_EPOCHS["finetune"]
    lr: float | None = None
    augment: bool = True
    split: str = "speaker"
    device: str = "auto"
    batch_size: int = 16
    patience: int = 5
    seed: int = 0

    @property
    def learning_rate(self) -> float:
        if self.lr is not None:
            return float(self.lr)
        return 3e-4 if self.start == "finetune" and self.mode == "full" else 1e-3

    @property
    def trainable(self) -> str:
        return "classifier" if self.start == "finetune" and self.mode == "classifier" else "all"

    def train_config(self, base: Any = None) -> Any:
        """The :class:`model.config.TrainConfig` (from ``base``'s when fine-tuning)."""
        from model.config import TrainConfig

        cfg = base if base is not None else TrainConfig()
        cfg = dataclasses.replace(cfg, epochs=int(self.epochs), lr=self.learning_rate, patience=int(self.patience),
                                  warmup_epochs=1 if self.start == "finetune" else min(cfg.warmup_epochs, 2),
                                  batch_size=int(self.batch_size), seed=int(self.seed), stop_after=0)
        if not self.augment:
            cfg = dataclasses.replace(cfg, p_noise=0.0, p_gain=0.0, p_speed=0.0, spec_time_masks=0, spec_freq_masks=0)
        return cfg


def available_devices() -> list[str]:
    """``auto`` and ``cpu``, plus ``cuda`` / ``mps`` where torch sees them."""
    import torch

    out = ["auto", "cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        out.append("mps")
    return out


def split_items(items: Sequence[Item], how: str = "speaker", seed: int = 0) -> tuple[list[Item], list[Item]]:
    """(train, validation): by ``speaker`` (a held-out speaker pair, see
    :func:`model.data.validation_split`; random without speaker names) or ``random``
    (stratified 15 %). Raises :class:`RetrainError` when either side would be unusable."""
    items = list(items)
    if how not in ("speaker", "random"):
        raise RetrainError(f"Unknown validation split {how!r} (speaker or random).")
    source = items if how == "speaker" else [dataclasses.replace(it, speaker=None) for it in items]
    tr, va = validation_split(source, list(range(len(items))), seed=seed)
    train, val = [items[i] for i in tr], [items[i] for i in va]
    if not val:
        raise RetrainError("Too little data to keep any clips back for validation; add clips.")
    if len({it.label for it in train}) < 2:
        raise RetrainError("After holding clips back for validation, fewer than two labels are left to train on.")
    return train, val


def describe_split(train: Sequence[Item], val: Sequence[Item]) -> str:
    """``"train 438 clips (8 speakers), validation 97 clips (speakers 03, 08)"``."""
    def who(items: Sequence[Item]) -> str:
        spk = sorted({it.speaker for it in items if it.speaker})
        if not spk:
            return "speakers unknown"
        return f"speakers {', '.join(spk)}" if len(spk) <= 4 else f"{len(spk)} speakers"
    return f"train {len(train)} clips ({who(train)}), validation {len(val)} clips ({who(val)})"


# ----------------------------------------------------------------------------- time estimate
@dataclass(frozen=True)
class SpeedMeasurement:
    """Measured on this machine: seconds per training clip-epoch (augmentation, forward,
    backward, update) and per validation clip (inference), with the device and CPU threads."""

    train_s_per_clip: float
    val_s_per_clip: float
    device: str
    threads: int


def measure_speed(items: Sequence[Item], labels: Sequence[str], settings: RetrainSettings,
                  base_model: str | Path | None, cache_dir: str | Path | None = None,
                  cancel: CancelToken | None = None, sample: int = 32) -> SpeedMeasurement:
    """Time two real training epochs on up to ``sample`` clips (the second epoch, without
    warm-up costs, is used) and inference on up to 16 clips, with the same network, mode and
    device as the real run. Takes a few seconds."""
    import torch

    from model.evaluate import predict_waveforms
    from model.train import device_name, resolve_device

    rng = np.random.default_rng(settings.seed)
    items = list(items)
    picked = [items[i] for i in sorted(rng.choice(len(items), min(sample, len(items)), replace=False))]
    if len({it.label for it in picked}) < 2:  # the trainer needs two classes
        picked = picked + [next(it for it in items if it.label != picked[0].label)]
    probe = dataclasses.replace(settings, epochs=2, patience=99)
    res = _train(picked, None, list(labels), probe, base_model, cache_dir, None, cancel, None, None, "speed-probe")
    train_s = res.history[-1].seconds / len(picked)
    wavs = load_waveforms(picked[:16], cache_dir)
    t0 = time.perf_counter()
    predict_waveforms(res.bundle, wavs)
    val_s = (time.perf_counter() - t0) / len(wavs)
    return SpeedMeasurement(train_s, val_s, device_name(resolve_device(settings.device)), torch.get_num_threads())


def estimate_seconds(n_train: int, n_val: int, epochs: int, speed: SpeedMeasurement) -> float:
    """Upper estimate of a run: every epoch (early stopping can end it sooner) plus the
    validation after each epoch and the two final evaluations."""
    return epochs * (n_train * speed.train_s_per_clip + n_val * speed.val_s_per_clip) \
        + 2 * n_val * speed.val_s_per_clip + 3.0


def format_duration(seconds: float) -> str:
    """``"45 s"``, ``"3 min"``, ``"1 h 05 min"``."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{int(seconds // 3600)} h {round((seconds % 3600) / 60):02d} min"


# ----------------------------------------------------------------------------- run
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

    result: "TrainResult"
    train_items: list[Item]
    val_items: list[Item]
    figures: "Figures"
    base_figures: "Figures | None"
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


def _train(train: list[Item], val: list[Item] | None, labels: list[str], settings: RetrainSettings,
           base_model: str | Path | None, cache_dir: str | Path | None, progress: ProgressCallback | None,
           cancel: Any, on_epoch: EpochCallback | None, log: Callable[[str], None] | None, name: str) -> "TrainResult":
    from model.config import ModelConfig
    from model.io import read_model_file
    from model.train import fine_tune, train_model

    if settings.start == "finetune":
        if base_model is None:
            raise RetrainError("Fine-tuning needs a starting model; choose one or train from scratch.")
        from model.config import TrainConfig

        meta, _ = read_model_file(base_model)
        tcfg = settings.train_config(TrainConfig.from_dict(meta.get("train_config", {})))
        return fine_tune(base_model, train, labels, settings.mode, val_items=val, train_config=tcfg,
                         device=settings.device, name=name, cache_dir=cache_dir, progress=progress,
                         cancel=cancel, on_epoch=on_epoch, log=log)
    if settings.start != "scratch":
        raise RetrainError(f"Unknown start {settings.start!r} (finetune or scratch).")
    return train_model(ModelConfig(), train, val, labels=labels, train_config=settings.train_config(),
                       device=settings.device, cache_dir=cache_dir, name=name, progress=progress,
                       cancel=cancel, on_epoch=on_epoch, log=log)


def base_figures(base_model: str | Path, val: Sequence[Item], cache_dir: str | Path | None = None,
                 cancel: Any = None) -> tuple["Figures | None", str]:
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


def run_retraining(plan: RetrainPlan, progress: ProgressCallback | None = None, cancel: Any = None,
                   on_epoch: EpochCallback | None = None, log: Callable[[str], None] | None = None,
                   name: str = "retrained", on_start: Callable[[str, "Figures | None"], None] | None = None,
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
    result = _train(train, val, plan.labels, s, plan.base_model, plan.cache_dir, scaled(progress, 0.05, 0.95),
                    cancel, on_epoch, log, name)
    report(progress, 0.95, "scoring the new model on the validation clips")
    figures = evaluate(result.bundle, val, cache_dir=plan.cache_dir)
    report(progress, 1.0, "cancelled: kept the best epoch so far" if result.cancelled else "finished")
    return RetrainOutcome(result, train, val, figures, base_fig, note, describe_split(train, val))


def save_outcome(outcome: RetrainOutcome, plan: RetrainPlan, path: str | Path, name: str) -> Path:
    """Write the new model file with its figures and data summary in the metadata
    (``metadata["retraining"]``: data, label map, settings, split, validation figures,
    starting model's figures)."""
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
    }
    return save_model(bundle, path)


def slug(name: str) -> str:
    """A file-name-safe form of a model name (with a short hash so distinct names stay distinct)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-.")[:48] or "model"
    return f"{base}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"


def mapping_counts(items: Sequence[Item], label_map: Mapping[str, str | None]) -> dict[str, int]:
    """Clips per target label after mapping (dropped labels left out)."""
    return dict(sorted(Counter(label_map[it.label] for it in items if label_map.get(it.label)).items()))
