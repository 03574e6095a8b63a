"""Datasets: labelled audio items, loaders (EmoDB, CSV, folder-per-label, IEMOCAP release layout),
audio decoding with an on-disk cache, and the cross-validation folds.

An :class:`Item` is one utterance: a file path, a label and (when known) a speaker, the
speaker's gender and a group (IEMOCAP session). Audio is mono float32 at 16 kHz.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.errors import DatasetError

SR = 16000

#: EmoDB emotion letters (German initials) and the bundled model's label order.
EMODB_CODES = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}
EMODB_LABELS = ["anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral"]
#: EmoDB speaker genders (from the corpus documentation).
EMODB_GENDER = {
    "03": "male",
    "08": "female",
    "09": "female",
    "10": "male",
    "11": "male",
    "12": "male",
    "13": "female",
    "14": "female",
    "15": "male",
    "16": "female",
}
_EMODB_NAME = re.compile(r"^(\d\d)([abc]\d\d)([WLEAFTN])([a-z])\.wav$")

#: IEMOCAP: the usual four classes, *excited* merged into *happy*.
IEMOCAP_MAP = {"neu": "neutral", "ang": "anger", "sad": "sadness", "hap": "happiness", "exc": "happiness"}
IEMOCAP_LABELS = ["anger", "happiness", "neutral", "sadness"]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".opus")


@dataclass(frozen=True)
class Item:
    path: str
    label: str
    speaker: str | None = None
    gender: str | None = None
    group: str | None = None  # e.g. the IEMOCAP session


# ----------------------------------------------------------------------------- loaders
def emodb_items(root: str | Path) -> list[Item]:
    """EmoDB: ``root/wav/*.wav`` (or ``root/*.wav``) named ``SStttEv.wav`` (speaker, text,
    emotion letter, version); ``labels.csv`` is not required."""
    root = Path(root)
    wav_dir = root / "wav" if (root / "wav").is_dir() else root
    items = []
    for p in sorted(wav_dir.glob("*.wav")):
        m = _EMODB_NAME.match(p.name)
        if m:
            spk = m.group(1)
            items.append(Item(str(p), EMODB_CODES[m.group(3)], spk, EMODB_GENDER.get(spk)))
    if not items:
        raise DatasetError(f"No EmoDB-named wav files (like 03a01Wa.wav) were found in {wav_dir}.")
    return items


def csv_items(path: str | Path) -> list[Item]:
    """A CSV with a header ``file,label[,speaker]``; relative paths are relative to the CSV."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"Cannot read the list {path}: {exc}.") from None
    if not rows or "file" not in rows[0] or "label" not in rows[0]:
        raise DatasetError(f"{path} needs a header with the columns file,label (and optionally speaker).")
    items = []
    for i, row in enumerate(rows, start=2):
        f, lab = (row.get("file") or "").strip(), (row.get("label") or "").strip()
        if not f or not lab:
            raise DatasetError(f"{path}, line {i}: the file or the label is empty.")
        p = Path(f) if Path(f).is_absolute() else path.parent / f
        items.append(
            Item(str(p), lab, (row.get("speaker") or "").strip() or None, (row.get("gender") or "").strip() or None)
        )
    return items


def folder_items(root: str | Path) -> list[Item]:
    """Folder per label: ``root/<label>/*.wav|flac|...`` (sub-folders below a label folder are
    searched too; the speaker is unknown)."""
    root = Path(root)
    items = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(sub.rglob("*")):
            if f.suffix.lower() in AUDIO_EXTENSIONS:
                items.append(Item(str(f), sub.name))
    if not items:
        raise DatasetError(f"No audio files in label folders under {root}.")
    return items


def iemocap_items(root: str | Path, merge_excited: bool = True) -> list[Item]:
    """IEMOCAP release layout: ``SessionN/dialog/EmoEvaluation/*.txt`` with lines
    ``[start - end]<TAB>TURN<TAB>emo<TAB>[V, A, D]`` and audio in
    ``SessionN/sentences/wav/<dialog>/<TURN>.wav``. Keeps the four usual classes (excited
    merged into happy); the speaker is ``Ses01F``-style (session + gender of the turn)."""
    root = Path(root)
    mapping = dict(IEMOCAP_MAP)
    if not merge_excited:
        mapping.pop("exc")
    line_re = re.compile(r"^\[[\d.]+ - [\d.]+\]\t(\S+)\t(\w+)\t")
    items = []
    for session in sorted(root.glob("Session[1-5]")):
        for txt in sorted((session / "dialog" / "EmoEvaluation").glob("*.txt")):
            for line in txt.read_text(encoding="utf-8", errors="replace").splitlines():
                m = line_re.match(line)
                if not m or m.group(2) not in mapping:
                    continue
                turn = m.group(1)
                dialog = turn.rsplit("_", 1)[0]
                wav = session / "sentences" / "wav" / dialog / f"{turn}.wav"
                gender = "female" if turn.rsplit("_", 1)[1].startswith("F") else "male"
                items.append(
                    Item(str(wav), mapping[m.group(2)], f"{turn[:5]}{gender[0].upper()}", gender, session.name)
                )
    if not items:
        raise DatasetError(f"No IEMOCAP evaluation files (SessionN/dialog/EmoEvaluation/*.txt) under {root}.")
    return items


def load_items(source: str | Path) -> list[Item]:
    """Items from a CSV list, an EmoDB folder, an IEMOCAP release folder or a folder per label."""
    source = Path(source)
    if source.is_file():
        return csv_items(source)
    if not source.is_dir():
        raise DatasetError(f"The data source {source} does not exist.")
    if any(source.glob("Session[1-5]")):
        return iemocap_items(source)
    wav_dir = source / "wav" if (source / "wav").is_dir() else source
    if any(_EMODB_NAME.match(p.name) for p in wav_dir.glob("*.wav")):
        return emodb_items(source)
    return folder_items(source)


def check_items(items: Sequence[Item], labels: Sequence[str] | None = None) -> list[str]:
    """Validate a training set; returns the label list (given, or sorted labels found)."""
    if not items:
        raise DatasetError("The training data is empty.")
    found = sorted({it.label for it in items})
    labels = list(labels) if labels is not None else found
    unknown = sorted(set(found) - set(labels))
    if unknown:
        raise DatasetError(f"Labels {unknown} are not in the model's label list {labels}.")
    if len(found) < 2:
        raise DatasetError(f"Training needs at least two classes; the data has only {found}.")
    missing = [it.path for it in items if not os.path.isfile(it.path)]
    if missing:
        raise DatasetError(f"{len(missing)} audio files are missing, e.g. {missing[0]}.")
    return labels


# ----------------------------------------------------------------------------- audio
def load_audio(path: str | Path, sr: int = SR) -> np.ndarray:
    """Decode a file to mono float32 at ``sr`` (soundfile, resampled with soxr)."""
    import soundfile as sf

    try:
        audio, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises several types for unreadable files
        try:
            audio, file_sr = _load_with_av(path)
        except Exception:
            raise DatasetError(f"Cannot read the audio file {path}: {exc}.") from None
    audio = audio.mean(axis=1) if audio.ndim == 2 else audio
    if file_sr != sr:
        import soxr

        audio = soxr.resample(audio, file_sr, sr)
    if audio.size == 0:
        raise DatasetError(f"The audio file {path} is empty.")
    return np.ascontiguousarray(audio, dtype=np.float32)


def _load_with_av(path: str | Path) -> tuple[np.ndarray, int]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [fr.to_ndarray().astype(np.float32) for fr in container.decode(stream)]
        sr = stream.rate
    data = np.concatenate(chunks, axis=1)
    if data.shape[0] > 8:  # packed layout
        data = data.reshape(-1, 1)
    return data.T, int(sr)


def load_waveforms(
    items: Sequence[Item],
    cache_dir: str | Path | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancel=None,
) -> list[np.ndarray]:
    """Decoded audio of every item; with ``cache_dir`` each file is cached as ``.npy`` keyed by
    its path, size and modification time."""
    out = []
    folder = Path(cache_dir) if cache_dir else None
    if folder:
        folder.mkdir(parents=True, exist_ok=True)
    for i, it in enumerate(items):
        if cancel is not None and i % 16 == 0:
            cancel.raise_if_cancelled()
        wav = None
        if folder:
            try:
                st = os.stat(it.path)
            except OSError:
                raise DatasetError(f"The audio file {it.path} is missing.") from None
            key = hashlib.sha1(f"{os.path.abspath(it.path)}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
            cached = folder / f"{key}.npy"
            if cached.is_file():
                try:
                    wav = np.load(cached, allow_pickle=False)
                except (OSError, ValueError):
                    wav = None
            if wav is None:
                wav = load_audio(it.path)
                tmp = cached.with_suffix(f".{os.getpid()}.tmp.npy")
                np.save(tmp, wav)
                os.replace(tmp, cached)
        else:
            wav = load_audio(it.path)
        out.append(wav)
        if progress is not None and (i % 32 == 0 or i == len(items) - 1):
            progress((i + 1) / len(items), f"reading audio {i + 1}/{len(items)}")
    return out


# ----------------------------------------------------------------------------- folds
Fold = tuple[list[int], list[int]]  # (train indices, test indices)


def speaker_pairs(items: Sequence[Item]) -> list[list[str]]:
    """Speakers grouped in pairs of one male and one female (sorted ids, paired in order);
    without genders, pairs of consecutive speaker ids."""
    speakers = sorted({it.speaker for it in items if it.speaker})
    gender = {it.speaker: it.gender for it in items if it.speaker}
    males = [s for s in speakers if gender.get(s) == "male"]
    females = [s for s in speakers if gender.get(s) == "female"]
    if males and len(males) == len(females) and len(males) + len(females) == len(speakers):
        return [[m, f] for m, f in zip(males, females)]
    return [speakers[i : i + 2] for i in range(0, len(speakers), 2)]


def speaker_pair_folds(items: Sequence[Item]) -> list[Fold]:
    """Speaker-independent folds: each fold tests one (male, female) speaker pair."""
    _need_speakers(items)
    return [_group_fold(items, set(pair)) for pair in speaker_pairs(items)]


def loso_folds(items: Sequence[Item]) -> list[Fold]:
    """Leave-one-speaker-out folds."""
    _need_speakers(items)
    return [_group_fold(items, {s}) for s in sorted({it.speaker for it in items if it.speaker is not None})]


def session_folds(items: Sequence[Item]) -> list[Fold]:
    """Leave-one-group-out (IEMOCAP: leave-one-session-out)."""
    groups = sorted({it.group for it in items if it.group})
    if len(groups) < 2:
        raise DatasetError("Leave-one-session-out needs items from at least two sessions.")
    return [
        ([i for i, it in enumerate(items) if it.group != g], [i for i, it in enumerate(items) if it.group == g])
        for g in groups
    ]


def random_folds(items: Sequence[Item], k: int = 10, seed: int = 0) -> list[Fold]:
    """Random stratified k-fold (speakers are shared between train and test)."""
    from sklearn.model_selection import StratifiedKFold

    y = [it.label for it in items]
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(list(map(int, tr)), list(map(int, te))) for tr, te in skf.split(np.zeros(len(y)), y)]


def make_folds(items: Sequence[Item], protocol: str, seed: int = 0) -> list[Fold]:
    """``protocol``: ``speaker-pairs``, ``loso``, ``random10``, ``sessions``."""
    if protocol == "speaker-pairs":
        return speaker_pair_folds(items)
    if protocol == "loso":
        return loso_folds(items)
    if protocol == "random10":
        return random_folds(items, 10, seed)
    if protocol == "sessions":
        return session_folds(items)
    raise DatasetError(f"Unknown protocol {protocol!r} (speaker-pairs, loso, random10, sessions).")


def validation_split(items: Sequence[Item], indices: Sequence[int], seed: int = 0) -> tuple[list[int], list[int]]:
    """Split training ``indices`` into (train, validation) **by speaker**: one speaker pair
    (about a fifth of the speakers) is held out for early stopping. Without speaker
    information, a stratified 15 % of the items."""
    sub = [items[i] for i in indices]
    speakers = sorted({it.speaker for it in sub if it.speaker})
    rng = np.random.default_rng(seed)
    if len(speakers) >= 3 and all(it.speaker for it in sub):
        pairs = speaker_pairs(sub)
        held = (
            set(pairs[int(rng.integers(len(pairs)))])
            if len(pairs) >= 3
            else {speakers[int(rng.integers(len(speakers)))]}
        )
        tr = [i for i in indices if items[i].speaker not in held]
        va = [i for i in indices if items[i].speaker in held]
        return tr, va
    by_label: dict[str, list[int]] = defaultdict(list)
    for i in indices:
        by_label[items[i].label].append(i)
    va = []
    for _label, idx in sorted(by_label.items()):
        idx = list(idx)
        rng.shuffle(idx)
        va.extend(idx[: max(1, round(0.15 * len(idx)))] if len(idx) > 2 else [])
    vs = set(va)
    return [i for i in indices if i not in vs], sorted(va)


def _group_fold(items: Sequence[Item], test_speakers: set) -> Fold:
    return (
        [i for i, it in enumerate(items) if it.speaker not in test_speakers],
        [i for i, it in enumerate(items) if it.speaker in test_speakers],
    )


def _need_speakers(items: Iterable[Item]) -> None:
    items = list(items)
    if any(not it.speaker for it in items):
        raise DatasetError("A speaker-independent protocol needs a speaker for every item.")
    if len({it.speaker for it in items}) < 2:
        raise DatasetError("A speaker-independent protocol needs at least two speakers.")


def label_counts(items: Sequence[Item]) -> dict[str, int]:
    return dict(Counter(it.label for it in items))
