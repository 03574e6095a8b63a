"""Developer tool: re-create ``voice_encoder.safetensors`` from the Resemblyzer wheel.

The bundled speaker encoder is the pretrained GE2E voice encoder of Resemblyzer 0.1.4
(Apache-2.0, © Resemble AI / Corentin Jemine; see ``VOICE_ENCODER_LICENSE.txt``). Only the
network weights are kept (the optimiser state and the loss's scale/bias are dropped) and stored
as safetensors, so loading never unpickles anything. Run once by a developer, never at run time::

    pip download --no-deps resemblyzer==0.1.4 -d /tmp/rz
    python -m esergui.speakers.vendor /tmp/rz/Resemblyzer-0.1.4-py3-none-any.whl
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import torch
from safetensors.torch import save_file

WEIGHTS = Path(__file__).with_name("voice_encoder.safetensors")
#: SHA-256 of ``resemblyzer/pretrained.pt`` inside ``Resemblyzer-0.1.4-py3-none-any.whl``.
SOURCE_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"


def convert(wheel: Path, out: Path = WEIGHTS) -> Path:
    """Extract the LSTM + linear weights from the wheel into a float32 safetensors file."""
    import hashlib

    with zipfile.ZipFile(wheel) as zf:
        raw = zf.read("resemblyzer/pretrained.pt")
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(f"unexpected pretrained.pt (sha256 {digest}); expected Resemblyzer 0.1.4")
    checkpoint = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    state = {
        k: v.float().contiguous() for k, v in checkpoint["model_state"].items() if k.startswith(("lstm.", "linear."))
    }
    save_file(
        state,
        str(out),
        metadata={"source": "Resemblyzer 0.1.4 pretrained.pt", "sha256": digest, "license": "Apache-2.0"},
    )
    return out


if __name__ == "__main__":
    print(convert(Path(sys.argv[1])))
