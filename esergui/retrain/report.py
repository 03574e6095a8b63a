"""What the data looks like before training: :func:`inspect_items` decodes every clip once and
returns a :class:`DataReport` (counts per label and speaker, total duration, problems).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from esergui.progress import CancelToken, ProgressCallback, check, report
from esergui.retrain.sources import MIN_CLIP_S, Problem
from model.data import SR, Item, load_waveforms
from model.errors import ModelError

FEW_EXAMPLES = 10  # labels with fewer examples get a warning
MIN_EXAMPLES = 2  # labels need at least this many to train and validate


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
        return {
            "source": self.source,
            "clips": len(self.usable),
            "labels": self.label_counts,
            "speakers": len({it.speaker for it in self.usable if it.speaker}),
            "duration_s": round(self.total_s, 1),
        }

    def text(self) -> str:
        """A plain-text report (for the CLI, logs and tests)."""
        lines = [
            f"{len(self.usable)} usable clips of {len(self.items)}, {self.total_s / 60:.1f} min of audio",
            "labels: " + ", ".join(f"{k} {v}" for k, v in self.label_counts.items()),
            "speakers: " + ", ".join(f"{k} {v}" for k, v in self.speaker_counts.items()),
        ]
        lines += [f"{p.severity}: {p.message}" for p in self.problems]
        return "\n".join(lines)


def inspect_items(
    items: Sequence[Item],
    cache_dir: str | Path | None = None,
    *,
    source: str = "",
    min_clip_s: float = MIN_CLIP_S,
    problems: Sequence[Problem] = (),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> DataReport:
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
        probs.append(
            Problem(
                "warning",
                "unreadable",
                f"{len(unreadable)} file(s) cannot be read as audio and "
                f"will be left out, e.g. {Path(unreadable[0]).name}.",
                tuple(unreadable),
            )
        )
    if short:
        probs.append(
            Problem(
                "warning",
                "too_short",
                f"{len(short)} clip(s) are shorter than {min_clip_s:g} s and "
                f"will be left out, e.g. {Path(short[0]).name}.",
                tuple(short),
            )
        )
    probs.extend(label_problems(usable))
    speakers = {it.speaker for it in usable if it.speaker}
    if usable and not speakers:
        probs.append(
            Problem(
                "warning",
                "no_speakers",
                "The data names no speakers: validation uses a random "
                "split, so its figures may be optimistic for new voices.",
            )
        )
    elif len(speakers) == 1:
        probs.append(
            Problem(
                "warning",
                "one_speaker",
                f"All clips come from one speaker ({next(iter(speakers))}): "
                "the model may not work for other voices, and validation cannot use new speakers.",
            )
        )
    report(progress, 1.0, f"{len(usable)} usable clips")
    return rep


def label_problems(items: Sequence[Item]) -> list[Problem]:
    """Problems of a label distribution: no data, one label only, labels with too few examples."""
    counts = Counter(it.label for it in items)
    if not counts:
        return [Problem("error", "empty", "No usable audio clips were found.")]
    out = []
    if len(counts) < 2:
        out.append(
            Problem(
                "error", "one_label", f"Training needs at least two labels; the data has only {next(iter(counts))!r}."
            )
        )
    rare = sorted(lab for lab, n in counts.items() if n < MIN_EXAMPLES)
    if rare:
        out.append(
            Problem(
                "error",
                "few_examples",
                f"Label(s) {', '.join(rare)} have fewer than {MIN_EXAMPLES} "
                "examples: merge or drop them on the Labels page.",
            )
        )
    few = sorted(lab for lab, n in counts.items() if MIN_EXAMPLES <= n < FEW_EXAMPLES)
    if few:
        out.append(
            Problem(
                "warning",
                "few_examples",
                f"Label(s) {', '.join(few)} have fewer than {FEW_EXAMPLES} examples: the model will learn them poorly.",
            )
        )
    return out
