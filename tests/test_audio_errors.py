"""Bad input gets one clear AudioError sentence, never a traceback from a decoder."""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from esergui.audio import decode_to_cache, iter_blocks, load_audio, probe
from esergui.errors import AudioError


@pytest.fixture(scope="module")
def clip(emodb: Path) -> np.ndarray:
    return sf.read(emodb / "wav" / "03a01Wa.wav", dtype="float32")[0]


def write_pyav(x: np.ndarray, path: Path, codec: str, fmt: str, options: dict | None = None) -> Path:
    with av.open(str(path), "w", format=fmt, options=options or {}) as out:
        stream = out.add_stream(codec, rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(x[None, :].astype(np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return path


def cut(path: Path, fraction: float = 0.5) -> Path:
    data = path.read_bytes()
    out = path.with_name("cut_" + path.name)
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


def expect_error(path: Path, *words: str) -> str:
    """Every entry point raises the same AudioError; its one-line message names the file and the problem."""
    messages = []
    for call in (
        lambda: probe(path),
        lambda: load_audio(path),
        lambda: list(iter_blocks(path)),
        lambda: decode_to_cache(path, path.parent / "cache" / f"{path.name}.16k.wav"),
    ):
        with pytest.raises(AudioError) as err:
            call()
        messages.append(str(err.value))
    msg = messages[0]
    assert "\n" not in msg and str(path) in msg
    for word in words:
        assert word in msg.lower(), msg
    assert not (path.parent / "cache").exists() or list((path.parent / "cache").glob("*.part")) == []
    return msg


def expect_decode_error(path: Path, *words: str) -> str:
    """Problems inside the body surface when decoding (the header may look fine)."""
    messages = []
    for call in (
        lambda: load_audio(path),
        lambda: list(iter_blocks(path)),
        lambda: decode_to_cache(path, path.parent / "cache" / f"{path.name}.16k.wav"),
    ):
        with pytest.raises(AudioError) as err:
            call()
        messages.append(str(err.value))
    for msg in messages:
        assert "\n" not in msg and str(path) in msg
        for word in words:
            assert word in msg.lower(), msg
    cache = path.parent / "cache" / f"{path.name}.16k.wav"
    assert not cache.exists() and list(cache.parent.glob("*.part")) == []  # no temporary file left
    return messages[0]


def test_missing_file(tmp_path):
    expect_error(tmp_path / "nope.wav", "not found")


def test_directory(tmp_path):
    folder = tmp_path / "lesson.wav"
    folder.mkdir()
    expect_error(folder, "folder")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.flac"
    path.touch()
    expect_error(path, "empty", "0 bytes")


def test_wav_with_header_but_no_samples(tmp_path):
    path = tmp_path / "header_only.wav"
    sf.write(path, np.zeros(0, np.float32), 16000, subtype="PCM_16")
    assert path.stat().st_size > 0
    expect_error(path, "no audio")


def test_truncated_wav(clip, tmp_path):
    path = tmp_path / "lesson.wav"
    sf.write(path, np.tile(clip, 2), 44100, subtype="PCM_24")
    msg = expect_error(cut(path), "truncated")
    assert "promises" in msg


def test_truncated_flac(clip, tmp_path):
    path = tmp_path / "lesson.flac"
    sf.write(path, np.tile(clip, 3), 16000, subtype="PCM_16")
    expect_decode_error(cut(path, 0.6), "truncated")


def test_truncated_ogg(clip, tmp_path):
    path = tmp_path / "lesson.ogg"
    sf.write(path, np.tile(clip, 3), 16000, format="OGG", subtype="VORBIS")
    expect_error(cut(path, 0.3), "truncated")


def test_truncated_mp3_with_length_header(clip, tmp_path):
    path = write_pyav(np.tile(clip, 3), tmp_path / "lesson.mp3", "libmp3lame", "mp3")
    assert probe(path).exact
    expect_decode_error(cut(path), "truncated", "promises")


def test_truncated_m4a(clip, tmp_path):
    normal = write_pyav(np.tile(clip, 3), tmp_path / "lesson.m4a", "aac", "mp4")
    expect_error(cut(normal), "corrupt")  # the index (moov) is at the end and was cut off
    fast = write_pyav(np.tile(clip, 3), tmp_path / "fast.m4a", "aac", "mp4", {"movflags": "faststart"})
    expect_decode_error(cut(fast), "truncated")


def test_corrupt_bytes_with_audio_extension(tmp_path):
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    expect_error(path, "corrupt", ".wav")


def test_corrupt_header_of_a_real_wav(clip, tmp_path):
    path = tmp_path / "bad_header.wav"
    sf.write(path, clip, 16000, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    data[8:16] = b"XXXXXXXX"  # "WAVEfmt " destroyed
    path.write_bytes(bytes(data))
    expect_error(path, "corrupt", "wav")


def test_text_file_is_unsupported(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Lesson notes, not audio.\n" * 20)
    expect_error(path, "unsupported")


def test_image_is_unsupported(tmp_path):
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00"))
        + chunk(b"IEND", b"")
    )
    path = tmp_path / "board.png"
    path.write_bytes(png)
    expect_error(path, "unsupported", "no audio")


def test_no_permission(clip):
    """Root reads any file, so as root the check runs with the effective user ``nobody``."""
    folder = Path(tempfile.mkdtemp(prefix="eser-perm-"))
    try:
        os.chmod(folder, 0o755)
        path = folder / "secret.wav"
        sf.write(path, clip, 16000)
        os.chmod(path, 0o000)
        if os.geteuid() != 0:
            expect_error(path, "permission")
            return
        os.seteuid(65534)
        try:
            with pytest.raises(AudioError) as err:
                probe(path)
            with pytest.raises(AudioError):
                load_audio(path)
        finally:
            os.seteuid(0)
        assert str(err.value) == f"No permission to read {path}"
    finally:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()
