"""The neural speech detector: Silero VAD's packaged ONNX model, streamed in blocks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from esergui.vad_silero import FRAME, SileroVad, hysteresis, licence_text, model_path, to_grid


def test_model_comes_from_the_installed_package_under_mit():
    path = model_path()
    assert path.is_file() and path.parent.name == "data" and path.parent.parent.name == "silero_vad"
    assert "site-packages" in str(path) or "dist-packages" in str(path)
    text = licence_text()
    assert text is not None and text.startswith("MIT License")


def test_loading_neither_imports_silero_vad_nor_torch():
    """Importing silero_vad would set torch to one thread for the whole process."""
    code = (
        "import sys; from esergui.segment import segment_speech; import numpy as np; "
        "segment_speech(np.zeros(32000, np.float32)); "
        "print('silero_vad' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.stdout.split() == ["False", "False"]


def test_streaming_in_any_blocks_equals_one_pass(conversation: Path):
    audio, _ = sf.read(conversation / "sample.wav", dtype="float32")
    vad = SileroVad.shared()
    whole = vad.probabilities(audio)
    assert whole.size == -(-audio.size // FRAME)
    stream = vad.stream()
    cuts = [0, 1000, 1500, 16000 * 7 + 3, 16000 * 20, audio.size]
    parts = [stream.feed(audio[a:b]) for a, b in zip(cuts, cuts[1:])]
    np.testing.assert_allclose(np.concatenate([*parts, stream.finish()]), whole, atol=1e-6)
    # real speech is mostly sure, digital silence is not speech
    assert np.mean(whole > 0.5) > 0.5
    assert vad.probabilities(np.zeros(16000, np.float32)).max() < 0.1


def test_grid_and_hysteresis():
    probs = np.array([0.0, 0.2, 0.6, 0.2, 0.1, 0.25, 0.0], np.float32)
    grid = to_grid(probs, 22)  # 32 ms frames onto 10 ms frames
    assert grid.shape == (22,) and grid[7] == probs[2] and grid[-1] == probs[6]
    p = np.array([0.0, 0.2, 0.6, 0.2, 0.0, 0.25, 0.25, 0.0])
    assert hysteresis(p, 0.5, 0.15).tolist() == [False, True, True, True, False, False, False, False]
    assert not hysteresis(np.zeros(5), 0.5, 0.15).any()


def test_a_signal_during_the_onnxruntime_import_is_told_from_a_missing_package():
    """A Ctrl+C or SIGTERM that lands inside a library's import can come out as an ImportError
    (numpy and onnxruntime re-raise that way); it must stop the run (exit 130), not be reported
    as "needs onnxruntime" (seen: tests/test_hardening_workspace.py's SIGTERM test)."""
    from esergui.vad_silero import _interrupted

    def import_stopped_by_a_signal() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as ki:
            raise ImportError("import numpy failed") from ki

    with pytest.raises(ImportError) as info:
        import_stopped_by_a_signal()
    assert _interrupted(info.value)
    assert not _interrupted(ImportError("No module named 'onnxruntime'"))
