"""Model files: round trip, checksum, tampered / truncated / foreign / pickled files."""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

import pytest
import torch

from model.bundle import ModelBundle
from model.config import FeatureConfig
from model.errors import ModelFileError
from model.io import load_model, read_model_file, save_model
from tests.model_helpers import tiny_config

torch.set_num_threads(1)


def _bundle() -> ModelBundle:
    torch.manual_seed(0)
    b = ModelBundle.create(tiny_config(n_classes=3), FeatureConfig(n_mels=40), ["a", "b", "c"])
    b.features.mean.fill_(-3.0)
    b.features.std.fill_(2.0)
    b.metadata = {"name": "tiny", "evaluation": {"ua": 0.5}}
    return b


def test_round_trip(tmp_path: Path) -> None:
    b = _bundle()
    path = save_model(b, tmp_path / "m.safetensors")
    c = load_model(path)
    assert c.labels == ["a", "b", "c"] and c.name == "tiny"
    assert c.model_config == b.model_config and c.feature_config == b.feature_config
    assert c.metadata["evaluation"] == {"ua": 0.5}
    assert torch.equal(c.features.mean, b.features.mean)
    x = torch.randn(1, 90, 40)
    b.net.eval()
    with torch.no_grad():
        assert torch.equal(b.net(x, torch.tensor([90])).logits, c.net(x, torch.tensor([90])).logits)


def _header(path: Path) -> tuple[int, dict]:
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    return n, json.loads(raw[8 : 8 + n])


def _rewrite_header(path: Path, header: dict) -> None:
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    body = raw[8 + n :]
    new = json.dumps(header).encode()
    new += b" " * (-len(new) % 8)
    path.write_bytes(struct.pack("<Q", len(new)) + new + body)


def test_tampered_weights_fail_checksum(tmp_path: Path) -> None:
    path = save_model(_bundle(), tmp_path / "m.safetensors")
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF  # flip bits in the last tensor
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="checksum"):
        load_model(path)


def test_tampered_metadata_fails_checksum(tmp_path: Path) -> None:
    path = save_model(_bundle(), tmp_path / "m.safetensors")
    _, header = _header(path)
    meta = json.loads(header["__metadata__"]["meta"])
    meta["labels"] = ["x", "y", "z"]
    header["__metadata__"]["meta"] = json.dumps(meta, sort_keys=True)
    _rewrite_header(path, header)
    with pytest.raises(ModelFileError, match="checksum"):
        load_model(path)


def test_truncated_file(tmp_path: Path) -> None:
    path = save_model(_bundle(), tmp_path / "m.safetensors")
    raw = path.read_bytes()
    for cut in (4, 100, len(raw) // 2, len(raw) - 1):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(raw[:cut])
        with pytest.raises(ModelFileError):
            load_model(bad)


def test_foreign_and_pickled_files(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, str(foreign))
    with pytest.raises(ModelFileError, match="not an ESER"):
        load_model(foreign)

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    pickled = tmp_path / "evil.safetensors"
    pickled.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ModelFileError):
        load_model(pickled)
    torch_file = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, torch_file)
    with pytest.raises(ModelFileError):
        load_model(torch_file)
    assert not marker.exists()
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "missing.safetensors")


def test_wrong_architecture_in_consistent_file(tmp_path: Path) -> None:
    """A file whose config and weights disagree (re-signed) is refused, not crashed on."""

    from model.io import bundle_meta, bundle_tensors
    from tests.model_helpers import write_signed_model

    b = _bundle()
    tensors = bundle_tensors(b)
    meta = bundle_meta(b)
    meta["model_config"]["dim"] = 32
    meta_json = json.dumps(meta, sort_keys=True)
    path = tmp_path / "wrong.safetensors"
    write_signed_model(path, meta_json, tensors)
    read_model_file(path)  # the checksum is fine...
    with pytest.raises(ModelFileError, match="does not match"):
        load_model(path)  # ...but the weights do not fit the configuration
