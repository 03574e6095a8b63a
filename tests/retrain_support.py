"""Shared pieces of the retraining and model-registry tests: a tiny ESERNet model file trained
for real on a few EmoDB clips (standing in for the bundled model until it exists, and kept
small so the tests stay fast), and small EmoDB subsets laid out the ways users bring data."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from model.config import FeatureConfig, ModelConfig, TrainConfig
from model.data import EMODB_LABELS, Item, emodb_items

#: A small network of the full ESERNet variant (both pathways), 40 mel bins.
TINY = ModelConfig(dim=32, heads=2, sformer_dims=(32, 32, 32), classifier_hidden=32, cue_layers=1, n_mels=40)
_CACHE: dict[str, Path] = {}
_TMP = Path(tempfile.mkdtemp(prefix="eser-retrain-tests-"))
atexit.register(shutil.rmtree, _TMP, True)


def subset(emodb: Path, labels: tuple[str, ...], speakers: tuple[str, ...], per: int) -> list[Item]:
    """Up to ``per`` clips of each (speaker, label), in EmoDB's file order."""
    out: list[Item] = []
    count: dict[tuple[str, str], int] = {}
    for it in emodb_items(emodb):
        key = (str(it.speaker), it.label)
        if it.label in labels and it.speaker in speakers and count.get(key, 0) < per:
            count[key] = count.get(key, 0) + 1
            out.append(it)
    return out


def tiny_model(emodb: Path) -> Path:
    """A real, tiny model file with EmoDB's seven labels (one epoch on 13 clips; made once
    per test session). Its figures are meaningless; it exercises every code path."""
    if "tiny" not in _CACHE:
        import torch

        from model.train import train_model

        torch.set_num_threads(1)
        items = subset(emodb, tuple(EMODB_LABELS), ("03", "08"), 1)
        res = train_model(
            TINY,
            items,
            None,
            labels=EMODB_LABELS,
            feature_config=FeatureConfig(n_mels=40),
            train_config=TrainConfig(epochs=1, crop_s=1.5),
            device="cpu",
            name="tiny-emodb",
        )
        _CACHE["tiny"] = res.save(_TMP / "tiny-emodb.safetensors")
    return _CACHE["tiny"]


def starting_model(emodb: Path) -> Path:
    """The bundled model when it is installed, else :func:`tiny_model`."""
    from esergui.models import bundled_model_path

    return bundled_model_path() or tiny_model(emodb)


def label_folder(items: list[Item], root: Path) -> Path:
    """Lay ``items`` out as ``root/<label>/<file>`` (symbolic links to the EmoDB files)."""
    for it in items:
        dst = root / it.label / Path(it.path).name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.symlink_to(it.path)
    return root


def annotated_lesson(ws, emodb: Path, folder: Path, speakers: tuple[str, ...] = ("03", "08"), per: int = 2):
    """A lesson made of EmoDB clips (anger, sadness) with 0.5 s gaps, each clip a human-created
    utterance with its EmoDB emotion and one workspace speaker per EmoDB speaker. Returns
    ``(lesson id, clips, waveforms, {EmoDB speaker: workspace speaker label})``."""
    import numpy as np
    import soundfile as sf

    from model.data import load_audio

    clips = subset(emodb, ("anger", "sadness"), speakers, per)
    wavs = [load_audio(it.path) for it in clips]
    gap = np.zeros(8000, dtype=np.float32)
    audio = folder / f"lesson_{'_'.join(speakers)}.flac"
    sf.write(str(audio), np.concatenate([np.concatenate([w, gap]) for w in wavs]), 16000)
    lid = int(ws.add_lesson(audio).id)
    voices = {spk: ws.add_speaker(lid, f"speaker {spk}").label for spk in speakers}
    t = 0.0
    for it, w in zip(clips, wavs):
        ws.create_utterance(lid, t, t + len(w) / 16000, speaker=voices[str(it.speaker)], emotion=it.label)
        t += (len(w) + len(gap)) / 16000
    return lid, clips, wavs, voices
