"""Model files: safetensors with JSON metadata and a SHA-256 checksum.

Layout: tensors ``net.<param>`` (network weights) and ``features.mean`` / ``features.std``
(log-mel normalisation); safetensors metadata ``format = "eser-model"``,
``format_version``, ``meta`` (JSON: name, model/feature/train configuration, labels, training
metadata, evaluation figures) and ``sha256`` over the JSON and every tensor (name, dtype,
shape, bytes). Loading never unpickles anything; a missing, truncated, tampered or foreign file
raises :class:`model.errors.ModelFileError` with a one-sentence message, and so does a file
that passes its checksum but cannot run: :mod:`model.validate` bounds its size, metadata and
configuration, builds the network's shapes on the ``meta`` device before allocating it, checks
every tensor (floating point, finite) and runs the built model on a test sound.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from model import validate
from model.bundle import ModelBundle
from model.config import FeatureConfig, ModelConfig, TrainConfig
from model.errors import ModelFileError

FORMAT = "eser-model"
FORMAT_VERSION = "1"


def _checksum(meta_json: str, tensors: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256(meta_json.encode("utf-8"))
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def bundle_tensors(bundle: ModelBundle) -> dict[str, torch.Tensor]:
    tensors = {f"net.{k}": v.detach().cpu().contiguous().clone() for k, v in bundle.net.state_dict().items()}
    tensors["features.mean"] = bundle.features.mean.detach().cpu().clone()
    tensors["features.std"] = bundle.features.std.detach().cpu().clone()
    return tensors


def bundle_meta(bundle: ModelBundle) -> dict[str, Any]:
    return {
        "name": bundle.name,
        "labels": list(bundle.labels),
        "model_config": bundle.model_config.to_dict(),
        "feature_config": bundle.feature_config.to_dict(),
        "train_config": bundle.train_config.to_dict(),
        **{k: v for k, v in bundle.metadata.items() if k != "name"},
    }


def save_model(bundle: ModelBundle, path: str | Path) -> Path:
    """Write ``bundle`` to ``path`` (atomically: a temporary file is renamed into place)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = bundle_tensors(bundle)
    meta_json = json.dumps(bundle_meta(bundle), sort_keys=True, default=_json_default)
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "meta": meta_json,
        "sha256": _checksum(meta_json, tensors),
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, str(tmp), metadata=metadata)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # safetensors creates 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)  # no partial file is left behind (a full disk, a cancel)
        if isinstance(exc, OSError) or "No space left" in str(exc):
            raise ModelFileError(f"Cannot write {path}: {getattr(exc, 'strerror', None) or exc}.") from None
        raise
    return path


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_model_file(path: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Verified ``(meta, tensors)`` of a model file (no network is built)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"The model file {path} does not exist.")
    try:
        validate.check_file_size(path)
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            header = fh.metadata() or {}
            if header.get("format") != FORMAT:
                raise ModelFileError(f"{path.name} is not an ESER Studio model file.")
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except ModelFileError:
        raise
    except Exception:  # safetensors raises SafetensorError, OSError, ValueError... on bad files
        raise ModelFileError(f"{path.name} is not a readable model file (truncated or not safetensors).") from None
    if header.get("format") != FORMAT:
        raise ModelFileError(f"{path.name} is not an ESER Studio model file.")
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path.name} has model format version {header.get('format_version')!r}; "
            f"this program reads version {FORMAT_VERSION}."
        )
    meta_json = header.get("meta", "")
    if _checksum(meta_json, tensors) != header.get("sha256"):
        raise ModelFileError(f"{path.name} failed its checksum: the file was changed or damaged.")
    return validate.parse_meta(path.name, meta_json), tensors


def load_model(path: str | Path, device: str | torch.device = "cpu") -> ModelBundle:
    """Load and verify a model file into a :class:`ModelBundle` on ``device`` (the checks of
    :mod:`model.validate` first; nothing large is allocated for a file that fails them)."""
    from model.network import ESERNet

    path = Path(path)
    meta, tensors = read_model_file(path)
    name = path.name
    validate.check_config(name, meta)
    try:
        mcfg = ModelConfig.from_dict(meta["model_config"])
        fcfg = FeatureConfig.from_dict(meta["feature_config"])
        tcfg = TrainConfig.from_dict(meta.get("train_config", {}))
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise ModelFileError(
            f"{name} has a configuration this program cannot use: {str(exc).splitlines()[0]}"
        ) from None
    if len(meta["labels"]) != mcfg.n_classes:
        raise ModelFileError(f"{name} names {len(meta['labels'])} labels for {mcfg.n_classes} classes.")
    validate.check_budget(name, lambda: ESERNet(mcfg), tensors)
    validate.check_feature_stats(name, tensors, int(getattr(fcfg, "n_channels", fcfg.n_mels)))
    try:
        bundle = ModelBundle.create(mcfg, fcfg, list(meta["labels"]), tcfg)
        state = {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}
        bundle.net.load_state_dict(state, strict=True)
        bundle.features.mean.copy_(tensors["features.mean"])
        bundle.features.std.copy_(tensors["features.std"])
    except (KeyError, TypeError, ValueError, RuntimeError, ArithmeticError, AssertionError) as exc:
        raise ModelFileError(f"{name} does not match this program's network: {str(exc).splitlines()[0]}") from None
    bundle.metadata = {
        k: v for k, v in meta.items() if k not in ("labels", "model_config", "feature_config", "train_config")
    }
    bundle.net.eval()
    validate.smoke_test(name, bundle)
    return bundle.to(device)
