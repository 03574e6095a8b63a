"""Issue 18, model files: a file with a valid checksum but a configuration or weights that
cannot run is refused with a one-line reason, before any large tensor is allocated, and the
registry never copies, registers or activates it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from esergui.models import ModelRegistry, ModelRegistryError, bundled_model_path
from esergui.workspace import Workspace
from model.errors import ModelFileError
from model.io import load_model, read_model_file
from tests.model_helpers import write_signed_model

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bundled() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    path = bundled_model_path()
    assert path is not None, "the bundled model file is missing from model/weights/"
    return read_model_file(path)


def _signed(path: Path, meta: dict[str, Any] | str, tensors: dict[str, torch.Tensor]) -> Path:
    """Write a model file whose checksum is valid for this metadata and these tensors."""
    meta_json = meta if isinstance(meta, str) else json.dumps(meta, sort_keys=True)
    write_signed_model(path, meta_json, tensors)
    return path


def _variant(bundled, tmp_path: Path, change: Callable[[dict, dict], Any]) -> Path:
    meta = json.loads(json.dumps(bundled[0]))
    tensors = {k: v.clone() for k, v in bundled[1].items()}
    out = change(meta, tensors)
    return _signed(tmp_path / "variant.safetensors", out if isinstance(out, str) else meta, tensors)


def _set(section: str, **values: Any) -> Callable[[dict, dict], None]:
    def change(meta: dict, tensors: dict) -> None:
        meta[section].update(values)

    return change


@pytest.mark.parametrize(
    "change, says",
    [
        (_set("model_config", heads=0), r"model_config\.heads = 0 is outside"),
        (_set("model_config", hop_ms=0), r"model_config\.hop_ms = 0 is outside"),
        (_set("model_config", dim=8192), r"model_config\.dim = 8192 is outside"),
        (_set("model_config", window_ms=[50, -1, 1000]), r"window_ms = -1 is outside"),
        (_set("feature_config", hop_length=0), r"feature_config\.hop_length = 0 is outside"),
        (_set("feature_config", n_fft=0), r"feature_config\.n_fft = 0 is outside"),
        (_set("feature_config", f_max=1e30), r"f_max = 1e\+30 is outside"),
        (_set("model_config", dim="64"), r"dim must be a number"),
        (_set("model_config", heads=5), r"fails on a test sound"),  # 64 is not divisible by 5: only running shows it
        (
            _set("model_config", st_layers=48, dim=1024, sformer_dims=[1024, 1024, 1024], variant="st"),
            r"million parameters, more than",
        ),
        (_set("model_config", dim=32), r"does not match its own configuration"),
        (_set("model_config", n_classes=6), r"7 labels for 6 classes"),
        (lambda m, t: m.update(labels=["anger"] * 7), r"no valid label list"),
        (
            lambda m, t: t.update({k: v.to(torch.int8) for k, v in t.items() if k.startswith("net.")}),
            r"int8, not floating",
        ),
        (lambda m, t: t["net.classifier.3.weight"].fill_(float("nan")), r"holds NaN or infinite values"),
        (lambda m, t: t["features.std"].fill_(0.0), r"features\.std holds values that are not positive"),
        (
            lambda m, t: (t["net.classifier.3.weight"].fill_(3e38), None)[1],
            r"NaN or infinite scores",
        ),  # finite, overflows
        (lambda m, t: json.dumps(m)[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}", r"nested more than 32"),
        (
            lambda m, t: json.dumps(
                {**m, "training": {"notes": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}
            ),
            r"nested more than 32",
        ),
    ],
)
def test_checksummed_file_that_cannot_run_is_refused(bundled, tmp_path: Path, change, says: str) -> None:
    path = _variant(bundled, tmp_path, change)  # signed: its checksum is valid
    with pytest.raises(ModelFileError, match=says) as info:
        load_model(path)
    assert "\n" not in str(info.value)


def test_unknown_new_config_fields_are_tolerated(bundled, tmp_path: Path) -> None:
    """A field of a newer recipe (unknown here) is ignored by the range checks; the file still loads."""
    path = _variant(bundled, tmp_path, _set("model_config", future_knob=3, future_list=[1.5, 2.0]))
    bundle = load_model(path)
    assert len(bundle.labels) == 7
    path = _variant(bundled, tmp_path, _set("model_config", future_knob=float("nan")))
    with pytest.raises(ModelFileError, match="future_knob is not a finite number"):
        load_model(path)


def test_oversized_config_is_refused_without_allocating(bundled, tmp_path: Path) -> None:
    """The issue's case: dim=8192 made the loader allocate 3.9 GB; now the peak stays at the
    interpreter's (measured in a fresh process)."""
    path = _variant(
        bundled,
        tmp_path,
        _set(
            "model_config",
            dim=1024,
            sformer_dims=[1024, 1024, 1024],
            classifier_hidden=8192,
            cue_layers=24,
            st_layers=48,
        ),
    )
    code = textwrap.dedent(f"""
        import resource, time
        import torch
        from model.errors import ModelFileError
        from model.io import load_model
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        try:
            load_model({str(path)!r})
        except ModelFileError as exc:
            print("refused:", exc)
        print("peak_mb", (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)
        print("seconds", time.perf_counter() - t0)
    """)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    assert "million parameters" in lines.get("refused:", ""), proc.stdout + proc.stderr
    assert float(lines["peak_mb"]) < 300, proc.stdout  # the network alone would take > 1.5 GB


def test_registry_refuses_and_keeps_nothing(bundled, tmp_path: Path) -> None:
    bad = _variant(bundled, tmp_path, _set("model_config", hop_ms=0))
    with Workspace.open(tmp_path / "ws") as ws:
        reg = ModelRegistry(ws)
        with pytest.raises(ModelRegistryError, match="hop_ms = 0"):
            reg.import_file(bad)
        assert [m.name for m in reg.models()] == ["bundled"]
        assert not (ws.folder / "models").exists() or list((ws.folder / "models").iterdir()) == []


def test_export_to_a_full_disk_leaves_no_partial_file(tmp_path: Path) -> None:
    from tests.workspace_support import small_disk

    with Workspace.open(tmp_path / "ws") as ws, small_disk(tmp_path / "disk", "1m") as disk:  # the model is 2 MB
        with pytest.raises(ModelRegistryError, match="the disk is full"):
            ModelRegistry(ws).export("bundled", disk)
        assert list(disk.iterdir()) == []


def test_odd_metadata_shapes_still_register(bundled, tmp_path: Path) -> None:
    """Metadata the registry only shows (training summary, figures) in unexpected shapes."""
    path = _variant(bundled, tmp_path, lambda m, t: m.update(training="x", retraining=[1, 2], evaluation=5))
    with Workspace.open(tmp_path / "ws") as ws:
        info = ModelRegistry(ws).import_file(path, "odd")
        assert info.figures == {} and info.data == ""
