"""Sanity checks that a model file must pass before any network tensor is allocated, and a
forward pass on a short clip after it is built.

A model file is untrusted input: its checksum proves only that it was not changed after it
was written, not that what was written can run. :mod:`model.io` calls, in order:

1. :func:`check_file_size` - at most :data:`MAX_FILE_BYTES` (before reading).
2. :func:`parse_meta` - the metadata JSON at most :data:`MAX_META_BYTES` long and
   :data:`MAX_META_DEPTH` deep (no ``RecursionError``); labels a list of distinct strings.
3. :func:`check_config` - every configuration field named in :data:`RANGES` within its range
   (``hop_ms=0``, ``heads=0``, ``n_fft=0``, ``dim=8192`` are refused), every number finite.
   Fields this module does not know (a newer recipe) are only checked to be finite JSON values.
4. :func:`check_budget` - the network is built on PyTorch's ``meta`` device (shapes only, no
   memory) and its parameter count must stay within :data:`MAX_PARAMETERS`; the file must hold
   exactly the tensors that network expects, with the same shapes, in a floating dtype, all
   finite (no NaN/inf, no int8 weights).
5. :func:`smoke_test` - the built model classifies half a second of a test sound and must give
   finite probabilities of the right shape.

Each failure raises :class:`~model.errors.ModelFileError` with a one-line reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from model.errors import ModelFileError

#: Largest model file read (the bundled one is 2 MB).
MAX_FILE_BYTES = 1 << 30
#: Longest and deepest metadata JSON accepted.
MAX_META_BYTES = 16 << 20
MAX_META_DEPTH = 32
#: Most network parameters accepted (the bundled model has 0.5 million): 200 MB of float32.
MAX_PARAMETERS = 50_000_000

#: ``{configuration: {field: (lowest, highest)}}``; a tuple-valued field is checked per item.
RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "model_config": {
        "n_classes": (2, 64),
        "n_mels": (8, 512),
        "dim": (4, 1024),
        "heads": (1, 64),
        "ffn_mult": (1, 16),
        "dropout": (0.0, 0.95),
        "cue_layers": (0, 24),
        "mask_rate": (0.0, 0.95),
        "mask_span": (1, 1000),
        "sformer_dims": (4, 1024),
        "sformer_layers": (0, 24),
        "window_ms": (1, 60_000),
        "merge_ms": (1, 60_000),
        "word_ms": (1, 60_000),
        "utterance_layers": (0, 24),
        "st_layers": (0, 48),
        "classifier_hidden": (1, 8192),
        "loss_pi": (0.0, 1.0),
        "hop_ms": (0.1, 1000.0),
    },
    "feature_config": {
        "sample_rate": (1000, 192_000),
        "n_fft": (16, 16_384),
        "win_length": (16, 16_384),
        "hop_length": (1, 16_384),
        "n_mels": (8, 512),
        "f_min": (0.0, 96_000.0),
        "f_max": (1.0, 96_000.0),
        "log_floor": (1e-30, 1.0),
        "speaker_prior_s": (1e-3, 1e5),
    },
    "train_config": {"crop_s": (0.1, 600.0)},
}

_FLOAT_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)
_CLIP_S = 0.5


def check_file_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ModelFileError(
            f"{path.name} is {size / 2**20:.0f} MB, larger than any model this program "
            f"reads ({MAX_FILE_BYTES / 2**20:.0f} MB)."
        )


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_META_DEPTH:
            return depth
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def parse_meta(name: str, meta_json: Any) -> dict[str, Any]:
    """The metadata dictionary of a model file, checked for size, depth and shape."""
    if not isinstance(meta_json, str) or len(meta_json) > MAX_META_BYTES:
        raise ModelFileError(f"{name} has missing or oversized metadata.")
    if meta_json.count("[") + meta_json.count("{") > 0 and _bracket_depth(meta_json) > MAX_META_DEPTH:
        raise ModelFileError(f"{name} has metadata nested more than {MAX_META_DEPTH} levels deep.")
    try:
        meta = json.loads(meta_json)
    except (ValueError, RecursionError):
        raise ModelFileError(f"{name} has unreadable metadata.") from None
    if not isinstance(meta, dict) or _depth(meta) > MAX_META_DEPTH:
        raise ModelFileError(f"{name} has unreadable metadata.")
    for key in ("model_config", "feature_config"):
        if not isinstance(meta.get(key), dict):
            raise ModelFileError(f"{name} lacks its {key.replace('_', ' ')}.")
    if not isinstance(meta.get("train_config", {}), dict):
        raise ModelFileError(f"{name} has an unreadable train config.")
    labels = meta.get("labels")
    if (
        not isinstance(labels, list)
        or not labels
        or not all(isinstance(x, str) and x.strip() for x in labels)
        or len(set(labels)) != len(labels)
    ):
        raise ModelFileError(f"{name} has no valid label list (distinct, non-empty names).")
    return meta


def _bracket_depth(text: str) -> int:
    """Deepest ``[``/``{`` nesting in JSON text (strings skipped), counted before parsing."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_META_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _numbers(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def check_config(name: str, meta: Mapping[str, Any]) -> None:
    """Every known field within :data:`RANGES`; every number anywhere in the configurations finite."""
    for section, ranges in RANGES.items():
        config = meta.get(section) or {}
        for key, value in config.items():
            for item in _numbers(value):
                if isinstance(item, float) and not math.isfinite(item):
                    raise ModelFileError(f"{name}: {section}.{key} is not a finite number ({item}).")
            if key not in ranges:
                continue  # a field of a newer recipe: built and smoke-tested below like the rest
            lo, hi = ranges[key]
            items = _numbers(value)
            if not items or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in items):
                raise ModelFileError(f"{name}: {section}.{key} must be a number, not {str(value)[:30]!r}.")
            bad = [x for x in items if not lo <= x <= hi]
            if bad:
                raise ModelFileError(
                    f"{name}: {section}.{key} = {bad[0]} is outside the range this program runs ({lo:g} to {hi:g})."
                )
    features = meta.get("feature_config") or {}
    win, fft = features.get("win_length"), features.get("n_fft")
    if isinstance(win, int) and isinstance(fft, int) and win > fft:
        raise ModelFileError(f"{name}: feature_config.win_length ({win}) is longer than n_fft ({fft}).")
    f_min, f_max, rate = features.get("f_min"), features.get("f_max"), features.get("sample_rate")
    if (
        isinstance(f_min, (int, float))
        and isinstance(f_max, (int, float))
        and isinstance(rate, (int, float))
        and not f_min < f_max <= rate / 2
    ):
        raise ModelFileError(f"{name}: the mel band {f_min:g}-{f_max:g} Hz does not fit a {rate} Hz signal.")


def check_budget(name: str, build_net: Any, tensors: Mapping[str, torch.Tensor]) -> None:
    """Build the network on the ``meta`` device (no memory), bound its size and compare the
    file's ``net.*`` tensors with it (names, shapes, floating dtypes, finite values)."""
    try:
        with torch.device("meta"):
            net = build_net()
    except Exception as exc:  # noqa: BLE001 - any configuration the network rejects
        raise ModelFileError(
            f"{name}: its network configuration cannot be built "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''})."
        ) from None
    expected = net.state_dict()
    count = sum(t.numel() for t in expected.values())
    if count > MAX_PARAMETERS:
        raise ModelFileError(
            f"{name}: its configuration makes a network of {count / 1e6:.0f} million parameters, "
            f"more than this program runs ({MAX_PARAMETERS / 1e6:.0f} million)."
        )
    given = {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}
    missing, extra = sorted(set(expected) - set(given)), sorted(set(given) - set(expected))
    if missing or extra:
        which = f"missing {missing[0]}" if missing else f"unexpected {extra[0]}"
        raise ModelFileError(f"{name} does not match its own configuration ({which}).")
    for key, want in expected.items():
        have = given[key]
        if tuple(have.shape) != tuple(want.shape):
            raise ModelFileError(
                f"{name} does not match its own configuration: tensor {key} has shape "
                f"{tuple(have.shape)}, the configuration needs {tuple(want.shape)}."
            )
        check_tensor(name, f"net.{key}", have, want.dtype)


def check_tensor(name: str, key: str, tensor: torch.Tensor, dtype: torch.dtype = torch.float32) -> None:
    """A stored tensor must be floating point (when ``dtype`` is) and hold only finite values."""
    if dtype.is_floating_point:
        if tensor.dtype not in _FLOAT_DTYPES:
            raise ModelFileError(
                f"{name}: tensor {key} is stored as {str(tensor.dtype).replace('torch.', '')}, not floating point."
            )
        if tensor.numel() and not bool(torch.isfinite(tensor).all()):
            raise ModelFileError(f"{name}: tensor {key} holds NaN or infinite values.")
    elif tensor.dtype != dtype:
        raise ModelFileError(f"{name}: tensor {key} is stored as {tensor.dtype}, expected {dtype}.")


def check_feature_stats(name: str, tensors: Mapping[str, torch.Tensor], channels: int) -> None:
    for key in ("features.mean", "features.std"):
        t = tensors.get(key)
        if t is None or tuple(t.shape) != (channels,):
            raise ModelFileError(f"{name}: {key} is missing or not {channels} values.")
        check_tensor(name, key, t)
    if bool((tensors["features.std"] <= 0).any()):
        raise ModelFileError(f"{name}: features.std holds values that are not positive.")


def probe_clip(sample_rate: int, seconds: float = _CLIP_S) -> torch.Tensor:
    """``(1, samples)``: a rising tone with a little deterministic noise, for :func:`smoke_test`."""
    t = torch.arange(int(sample_rate * seconds), dtype=torch.float32) / sample_rate
    gen = torch.Generator().manual_seed(0)
    tone = 0.3 * torch.sin(2 * math.pi * (150 + 200 * t) * t)
    return (tone + 0.01 * torch.randn(t.shape, generator=gen)).unsqueeze(0)


def smoke_test(name: str, bundle: Any) -> None:
    """The built model must turn half a second of sound into finite scores for every class."""
    try:
        with torch.inference_mode():
            feats = bundle.features(probe_clip(bundle.feature_config.sample_rate))
            out = bundle.net(feats, torch.tensor([feats.shape[1]]))
            logits = getattr(out, "logits", out)
    except Exception as exc:  # noqa: BLE001 - whatever a broken configuration raises
        raise ModelFileError(
            f"{name} fails on a test sound ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:120] if str(exc) else ''})."
        ) from None
    if tuple(logits.shape) != (1, len(bundle.labels)):
        raise ModelFileError(f"{name} gives {tuple(logits.shape)} scores for a test sound, not {len(bundle.labels)}.")
    if not bool(torch.isfinite(logits).all()):
        raise ModelFileError(f"{name} gives NaN or infinite scores for a test sound.")
