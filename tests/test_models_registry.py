"""The model registry: bundled + workspace models, switching, export, verified import; tampered,
truncated and foreign (pickle) files are refused with a clear message and nothing is executed."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest
from retrain_support import tiny_model

from esergui.errors import USER_ERRORS
from esergui.models import BUNDLED, ModelRegistry, ModelRegistryError, active_model_path, bundled_model_path
from esergui.workspace import Workspace
from model.data import EMODB_LABELS


@pytest.fixture()
def model_file(emodb: Path) -> Path:
    return tiny_model(emodb)


@pytest.fixture()
def ws(tmp_path: Path):
    with Workspace.open(tmp_path / "ws") as w:
        yield w


def test_bundled_first_and_active_by_default(ws: Workspace) -> None:
    reg = ModelRegistry(ws)
    infos = reg.models()
    assert infos[0].name == BUNDLED and infos[0].bundled and infos[0].active
    assert reg.active().bundled
    assert reg.active_path() == bundled_model_path() is not None
    assert set(infos[0].labels) == set(EMODB_LABELS)
    with pytest.raises(ModelRegistryError, match="cannot be removed"):
        reg.remove(BUNDLED)


def test_import_switch_export_roundtrip(ws: Workspace, model_file: Path, tmp_path: Path) -> None:
    reg = ModelRegistry(ws)
    info = reg.import_file(model_file)
    assert info.name == "tiny-emodb"  # the name stored in the file
    assert info.labels == tuple(EMODB_LABELS)
    assert info.path is not None and info.path.parent == ws.folder / "models"
    assert info.path.read_bytes() == model_file.read_bytes()
    assert info.data.endswith("clips, 2 speakers")  # training data summary from the metadata
    again = reg.import_file(model_file)
    assert again.name == "tiny-emodb (2)"

    reg.set_active(info.name)
    assert ws.active_model is not None and ws.active_model.name == info.name
    assert reg.active().name == info.name and active_model_path(ws) == info.path

    out = reg.export(info.name, tmp_path / "share")  # a new file name without suffix gets one
    assert out == tmp_path / "share.safetensors" and out.read_bytes() == model_file.read_bytes()
    folder = tmp_path / "outbox"
    folder.mkdir()
    assert reg.export(info.name, folder).parent == folder

    with Workspace.open(tmp_path / "colleague") as other:
        got = ModelRegistry(other).import_file(out, name="from a colleague")
        assert got.name == "from a colleague" and got.labels == info.labels

    reg.remove(info.name)  # the active one: back to the bundled model, file deleted
    assert reg.active().bundled and not info.path.exists()
    assert [i.name for i in reg.models()] == [BUNDLED, "tiny-emodb (2)"]


def test_names_are_checked(ws: Workspace, model_file: Path) -> None:
    reg = ModelRegistry(ws)
    reg.import_file(model_file, name="school A")
    for bad, msg in (("", "name"), ("  ", "name"), ("Bundled", "reserved"), ("school  a", "already exists")):
        with pytest.raises(ModelRegistryError, match=msg):
            reg.import_file(model_file, name=bad)
    assert reg.unique_name("school A") == "school A (2)"


def _refused(reg: ModelRegistry, path: Path, match: str) -> str:
    with pytest.raises(ModelRegistryError, match=match) as err:
        reg.import_file(path)
    assert isinstance(err.value, USER_ERRORS)
    assert len(str(err.value).splitlines()) == 1
    assert [i.name for i in reg.models()] == [BUNDLED]
    models_dir = reg.models_dir
    assert not models_dir.exists() or not any(models_dir.iterdir())
    return str(err.value)


def test_tampered_truncated_and_foreign_files_are_refused(ws: Workspace, model_file: Path, tmp_path: Path) -> None:
    reg = ModelRegistry(ws)
    data = bytearray(model_file.read_bytes())
    tampered = tmp_path / "tampered.safetensors"
    data[-100] ^= 0x01  # one bit of a weight
    tampered.write_bytes(bytes(data))
    _refused(reg, tampered, "checksum")

    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(model_file.read_bytes()[: len(data) // 2])
    _refused(reg, truncated, "not a readable model file")

    text = tmp_path / "notes.safetensors"
    text.write_text("hello, this is not a model\n")
    _refused(reg, text, "not a readable model file")

    # a pickle whose loading would run code: refused, and the code never runs
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"weights": Payload()}))
    _refused(reg, evil, "model file")
    assert not marker.exists()

    # a genuine safetensors file of another program
    import torch
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, str(foreign), metadata={"format": "pt"})
    _refused(reg, foreign, "not an ESER Studio model file")

    with pytest.raises(ModelRegistryError, match="does not exist"):
        reg.import_file(tmp_path / "missing.safetensors")


def test_a_file_damaged_after_import_is_not_activated_or_exported(
    ws: Workspace, model_file: Path, tmp_path: Path
) -> None:
    reg = ModelRegistry(ws)
    info = reg.import_file(model_file, name="fragile")
    data = bytearray(info.path.read_bytes())
    data[-50] ^= 0x10
    info.path.write_bytes(bytes(data))
    with pytest.raises(ModelRegistryError, match="checksum"):
        reg.set_active("fragile")
    assert reg.active().bundled
    with pytest.raises(ModelRegistryError, match="checksum"):
        reg.export("fragile", tmp_path)


def test_moved_workspace_finds_its_models(ws: Workspace, model_file: Path, tmp_path: Path) -> None:
    reg = ModelRegistry(ws)
    reg.set_active(reg.import_file(model_file, name="mine").name)
    ws.close()
    moved = tmp_path / "moved"
    shutil.move(str(ws.folder), moved)
    with Workspace.open(moved, create=False) as w2:
        path = ModelRegistry(w2).active_path()
        assert path is not None and path.is_file() and path.parent == moved / "models"


def test_bundled_model_shows_its_own_recipes_figures() -> None:
    """The bundled model (recipe 2) names its recipe: its headline is that recipe's speaker-independent
    UA (seed 0), never the first recipe's or the baseline's."""
    from esergui.models import bundled_model_path, summarise_meta, verify_model_file

    meta = verify_model_file(bundled_model_path())
    s = summarise_meta(meta)
    assert meta["normalisation"] == "speaker" and meta["recipe"] == "esernet2"
    assert s["figures"]["entry"] == "esernet2/speaker-pairs-s0"
    assert s["figures"]["on"] == "cross-validated on unseen speakers, 5 folds of speaker pairs; clean speech"
    assert s["figures"]["ua"] == meta["evaluation"]["esernet2/speaker-pairs-s0"]["clean"]["ua"]


def test_headline_figures_from_model_metadata() -> None:
    from esergui.models import summarise_meta

    bundled_like = {
        "training": {"n_train": 535, "n_val": 0, "train_speakers": ["03", "08"], "date": "2026-11-25"},
        "evaluation": {
            "note": "pooled",
            "baseline/random10": {"clean": {"n": 535, "wa": 0.7, "ua": 0.7}},
            "esernet/random10": {"clean": {"n": 535, "wa": 0.9, "ua": 0.9}},
            "esernet/speaker-pairs": {
                "folds_done": 5,
                "clean": {"n": 535, "wa": 0.8, "ua": 0.78},
                "babble10": {"n": 535, "wa": 0.5, "ua": 0.5},
            },
        },
    }
    s = summarise_meta(bundled_like)  # its own variant, speaker-independent, clean; never the baseline's
    assert s["figures"] == {
        "ua": 0.78,
        "wa": 0.8,
        "n": 535,
        "entry": "esernet/speaker-pairs",
        "on": "cross-validated on unseen speakers, 5 folds of speaker pairs; clean speech",
    }
    # a speaker-normalised model shows its own recipe's figures, not the global variant's
    speaker_model = {
        **bundled_like,
        "normalisation": "speaker",
        "evaluation": {
            **bundled_like["evaluation"],
            "esernet-spknorm/speaker-pairs": {"clean": {"n": 535, "wa": 0.67, "ua": 0.65}},
        },
    }
    assert summarise_meta(speaker_model)["figures"]["entry"] == "esernet-spknorm/speaker-pairs"
    assert summarise_meta({**bundled_like, "normalisation": "speaker"})["figures"] == {}
    only_baseline = {"evaluation": {"baseline/random10": {"clean": {"n": 535, "wa": 0.7, "ua": 0.7}}}}
    assert summarise_meta(only_baseline)["figures"] == {}
    assert s["data"] == "535 clips, 2 speakers" and s["date"] == "2026-11-25"
    retrained = {
        "retraining": {
            "validation": {"ua": 0.5, "wa": 0.6, "n": 20},
            "split": "train 80 clips",
            "base_validation": {"ua": 0.4, "wa": 0.45},
            "base": "bundled",
            "data": {"clips": 100, "speakers": 5, "labels": {"a": 50, "b": 50}, "source": "csv"},
        }
    }
    s = summarise_meta(retrained)
    assert s["figures"]["ua"] == 0.5 and s["figures"]["base_ua"] == 0.4 and s["base"] == "bundled"
    assert s["data"] == "100 clips, 5 speakers, 2 labels (csv)"
