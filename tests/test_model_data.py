"""Datasets and folds: EmoDB naming, CSV lists, folder per label, IEMOCAP layout, folds."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from model.data import (
    EMODB_LABELS,
    csv_items,
    emodb_items,
    folder_items,
    iemocap_items,
    load_audio,
    load_items,
    load_waveforms,
    make_folds,
    speaker_pairs,
    validation_split,
)
from model.errors import DatasetError


def test_emodb_loader_and_speaker_folds(emodb: Path) -> None:
    items = emodb_items(emodb)
    assert len(items) == 535
    assert {it.label for it in items} == set(EMODB_LABELS)
    assert load_items(emodb) == items
    pairs = speaker_pairs(items)
    assert len(pairs) == 5
    gender = {it.speaker: it.gender for it in items}
    assert all(sorted(gender[s] for s in p) == ["female", "male"] for p in pairs)
    folds = make_folds(items, "speaker-pairs")
    tests = [set(te) for _, te in folds]
    assert sum(len(t) for t in tests) == 535 and len(set().union(*tests)) == 535
    for tr, te in folds:
        assert not {items[i].speaker for i in tr} & {items[i].speaker for i in te}
        vtr, vva = validation_split(items, tr, seed=0)
        assert len({items[i].speaker for i in vva}) == 2
        assert not {items[i].speaker for i in vtr} & {items[i].speaker for i in vva}
        assert not set(vva) & set(te)
    assert len(make_folds(items, "loso")) == 10
    r10 = make_folds(items, "random10")
    assert len(r10) == 10 and sorted(i for _, te in r10 for i in te) == list(range(535))


def test_csv_and_folder_layouts(emodb: Path, tmp_path: Path) -> None:
    clips = sorted((emodb / "wav").glob("03a01*.wav"))[:3]
    lst = tmp_path / "list.csv"
    lst.write_text("file,label,speaker\n" + "".join(f"{c},x{i % 2},s{i}\n" for i, c in enumerate(clips)))
    items = load_items(lst)
    assert [it.label for it in items] == ["x0", "x1", "x0"] and items[1].speaker == "s1"
    rel = tmp_path / "rel.csv"
    shutil.copy(clips[0], tmp_path / "a.wav")
    rel.write_text("file,label\na.wav,calm\n")
    assert csv_items(rel)[0].path == str(tmp_path / "a.wav")
    bad = tmp_path / "bad.csv"
    bad.write_text("path,emotion\na.wav,calm\n")
    with pytest.raises(DatasetError, match="file,label"):
        csv_items(bad)
    root = tmp_path / "folders"
    for lab, c in zip(("calm", "angry"), clips):
        (root / lab).mkdir(parents=True)
        shutil.copy(c, root / lab / "clip.wav")
    f = load_items(root)
    assert sorted(it.label for it in f) == ["angry", "calm"] and folder_items(root) == f


def _fake_iemocap(emodb: Path, root: Path) -> None:
    """Two sessions in the IEMOCAP release layout, with EmoDB clips as the audio."""
    clips = sorted((emodb / "wav").glob("*.wav"))
    emos = ["neu", "ang", "sad", "hap", "exc", "fru", "xxx"]
    k = 0
    for s in (1, 2):
        dialog = f"Ses0{s}F_impro01"
        ev = root / f"Session{s}" / "dialog" / "EmoEvaluation"
        wav_dir = root / f"Session{s}" / "sentences" / "wav" / dialog
        ev.mkdir(parents=True)
        wav_dir.mkdir(parents=True)
        lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
        for i, emo in enumerate(emos):
            turn = f"{dialog}_{'F' if i % 2 == 0 else 'M'}{i:03d}"
            shutil.copy(clips[k], wav_dir / f"{turn}.wav")
            k += 1
            lines += [
                f"[{i * 3.0:.4f} - {i * 3.0 + 2.5:.4f}]\t{turn}\t{emo}\t[2.5000, 3.0000, 3.0000]",
                "C-E1:\tNeutral;\t()",
                "",
            ]
        (ev / f"{dialog}.txt").write_text("\n".join(lines))


def test_iemocap_layout(emodb: Path, tmp_path: Path) -> None:
    _fake_iemocap(emodb, tmp_path)
    items = load_items(tmp_path)
    assert items == iemocap_items(tmp_path)
    assert len(items) == 10  # 5 of the 7 emotions per session are kept (fru and xxx dropped)
    assert {it.label for it in items} == {"neutral", "anger", "sadness", "happiness"}
    assert sum(it.label == "happiness" for it in items) == 4  # hap + exc merged
    assert {it.speaker for it in items} == {"Ses01F", "Ses01M", "Ses02F", "Ses02M"}
    folds = make_folds(items, "sessions")
    assert [len(te) for _, te in folds] == [5, 5]
    assert all(Path(it.path).is_file() for it in items)
    assert len(load_waveforms(items)) == 10


def test_audio_loading_resamples_and_mixes_down(emodb: Path, tmp_path: Path) -> None:
    clip = load_audio(emodb / "wav" / "03a01Wa.wav")
    stereo = np.stack([clip, clip], axis=1)
    p = tmp_path / "st44.flac"
    import soxr

    sf.write(p, soxr.resample(stereo, 16000, 44100), 44100)
    back = load_audio(p)
    assert back.dtype == np.float32 and abs(len(back) - len(clip)) <= 2
    assert np.corrcoef(back[: len(clip) - 2], clip[: len(clip) - 2])[0, 1] > 0.99
    (tmp_path / "bad.wav").write_bytes(b"RIFF0000WAVEjunk")
    with pytest.raises(DatasetError):
        load_audio(tmp_path / "bad.wav")


def test_cache_round_trip(emodb: Path, tmp_path: Path) -> None:
    items = emodb_items(emodb)[:3]
    a = load_waveforms(items, tmp_path / "c")
    b = load_waveforms(items, tmp_path / "c")
    assert len(list((tmp_path / "c").glob("*.npy"))) == 3
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
