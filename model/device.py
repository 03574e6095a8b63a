"""Where models run: the device an ``auto`` choice means and its name for people.

``auto`` is CUDA when a GPU is there, else Apple's MPS, else the CPU; the app, the CLI,
training and inference all choose through :func:`resolve_device`.
"""

from __future__ import annotations

import platform

import torch

__all__ = ["device_name", "resolve_device"]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` -> CUDA, else MPS, else CPU; otherwise ``torch.device(device)``."""
    if str(device) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(device)


def device_name(dev: torch.device) -> str:
    if dev.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(dev)}"
    if dev.type == "mps":
        return "MPS: Apple GPU"
    return f"CPU ({platform.processor() or platform.machine()})"
