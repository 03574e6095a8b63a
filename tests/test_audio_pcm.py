"""MappedPcm16, the RIFF walker every view and playback read the decode cache through: real
WAV files written with soundfile and wave, odd headers (extra and odd-sized chunks,
WAVE_FORMAT_EXTENSIBLE), layouts it must refuse, and files cut short."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from esergui.audio import SAMPLE_RATE, WavAudio, decode_to_cache
from esergui.audio.locked import LockedSource
from esergui.audio.pcm import MappedPcm16, open_cached_source


def speech_like(n: int = SAMPLE_RATE * 2, seed: int = 0) -> np.ndarray:
    """A chirp with noise, quantised to 16 bits (so a round trip is exact)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SAMPLE_RATE
    x = 0.4 * np.sin(2 * np.pi * (200 + 300 * t) * t) + 0.05 * rng.standard_normal(n)
    return (np.round(np.clip(x, -1, 1 - 1 / 32768) * 32768) / 32768).astype(np.float32)


def riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"WAVE" + b"".join(
        cid + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"") for cid, data in chunks
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_chunk(tag: int = 1, channels: int = 1, rate: int = SAMPLE_RATE, bits: int = 16) -> bytes:
    align = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)


def pcm16(x: np.ndarray) -> bytes:
    return (np.round(x * 32768).clip(-32768, 32767).astype("<i2")).tobytes()


def test_reads_a_soundfile_wav_exactly(tmp_path: Path) -> None:
    x = speech_like()
    path = tmp_path / "a.wav"
    sf.write(path, x, SAMPLE_RATE, subtype="PCM_16")
    m = MappedPcm16.open(path, len(x))
    assert m is not None and m.n_samples == len(x) and m.sample_rate == SAMPLE_RATE
    assert m.duration_s == pytest.approx(2.0)
    ref, _ = sf.read(path, dtype="float32")
    np.testing.assert_array_equal(m.read(0, len(x)), ref)
    np.testing.assert_array_equal(m.read(1000, 1500), ref[1000:1500])
    assert m.read(-50, 10).shape == (10,) and m.read(len(x) - 5, len(x) + 100).shape == (5,)
    assert m.read(500, 400).shape == (0,)
    win = m.gather(np.array([-3, 100, len(x) - 2]), 4)
    assert win.shape == (3, 4)
    np.testing.assert_array_equal(win[0], np.r_[np.zeros(3, np.float32), ref[:1]])
    np.testing.assert_array_equal(win[1], ref[100:104])
    np.testing.assert_array_equal(win[2], np.r_[ref[-2:], np.zeros(2, np.float32)])


def test_reads_a_wave_module_wav_and_the_extensible_header(tmp_path: Path) -> None:
    x = speech_like(8000, seed=1)
    plain = tmp_path / "wave.wav"
    with wave.open(str(plain), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(pcm16(x))
    m = MappedPcm16.open(plain, len(x))
    assert m is not None and m.sample_rate == 22050
    np.testing.assert_array_equal(m.read(0, len(x)), x)
    ext = tmp_path / "ext.wav"
    sf.write(ext, x, SAMPLE_RATE, subtype="PCM_16", format="WAVEX")
    assert sf.info(ext).format == "WAVEX"
    m = MappedPcm16.open(ext, len(x))
    assert m is not None
    np.testing.assert_array_equal(m.read(0, len(x)), x)


def test_skips_extra_and_odd_sized_chunks(tmp_path: Path) -> None:
    x = speech_like(4000, seed=2)
    path = tmp_path / "odd.wav"
    path.write_bytes(
        riff([(b"fmt ", fmt_chunk()), (b"LIST", b"INFOISFT\x05\0\0\0eser\0"), (b"junk", b"abc"), (b"data", pcm16(x))])
    )
    assert sf.info(path).frames == len(x)  # a real reader agrees on the layout
    m = MappedPcm16.open(path, len(x))
    assert m is not None
    np.testing.assert_array_equal(m.read(0, len(x)), x)


@pytest.mark.parametrize(
    "chunks",
    [
        [(b"fmt ", fmt_chunk(channels=2))],  # stereo
        [(b"fmt ", fmt_chunk(bits=24))],  # 24 bit
        [(b"fmt ", fmt_chunk(tag=3, bits=32))],  # float
        [(b"fmt ", fmt_chunk(rate=0))],  # no rate
        [],  # data before any fmt chunk
    ],
    ids=["stereo", "24bit", "float", "rate0", "no-fmt"],
)
def test_refuses_other_layouts(tmp_path: Path, chunks: list[tuple[bytes, bytes]]) -> None:
    path = tmp_path / "other.wav"
    path.write_bytes(riff(chunks + [(b"data", b"\0\0" * 64)]))
    assert MappedPcm16.open(path, 64) is None


def test_refuses_non_wav_and_broken_headers(tmp_path: Path) -> None:
    cases = {
        "flac": None,
        "empty": b"",
        "short": b"RIFF\0\0",
        "rifx": b"RIFX" + b"\0" * 40,
        "no-data": riff([(b"fmt ", fmt_chunk())]),
        "short-fmt": riff([(b"fmt ", b"\1\0\1\0"), (b"data", b"\0\0")]),
        "header-only": riff([(b"fmt ", fmt_chunk()), (b"data", b"")]),
    }
    for name, data in cases.items():
        path = tmp_path / f"{name}.wav"
        if data is None:
            sf.write(path, speech_like(1600), SAMPLE_RATE, format="FLAC")
        else:
            path.write_bytes(data)
        assert MappedPcm16.open(path, 1600) is None, name
    assert MappedPcm16.open(tmp_path / "missing.wav", 10) is None


def test_a_truncated_file_maps_what_is_there(tmp_path: Path) -> None:
    x = speech_like()
    path = tmp_path / "cut.wav"
    sf.write(path, x, SAMPLE_RATE, subtype="PCM_16")
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(size - 2 * 5000 - 1)  # the header still claims every sample; half a sample dangles
    m = MappedPcm16.open(path, len(x))
    assert m is not None and m.n_samples == len(x) - 5001
    np.testing.assert_array_equal(m.read(0, len(x)), x[: len(x) - 5001])
    assert m.gather(np.array([m.n_samples - 1]), 3)[0, 1:].tolist() == [0.0, 0.0]


def test_open_cached_source_over_a_real_decode_cache(tmp_path: Path) -> None:
    x = speech_like()
    src = tmp_path / "lesson.flac"
    sf.write(src, x, 44100 // 2, format="FLAC")  # another rate: decoded (resampled) to 16 kHz
    cache = tmp_path / "cache.wav"
    decode_to_cache(src, cache).close()
    locked = open_cached_source(cache)
    assert isinstance(locked, LockedSource) and isinstance(locked.source, MappedPcm16)
    with WavAudio(cache) as wav:
        assert locked.n_samples == wav.n_samples and locked.sample_rate == SAMPLE_RATE
        np.testing.assert_array_equal(locked.read(0, wav.n_samples), wav.read(0, wav.n_samples))
    other = tmp_path / "8k.wav"
    sf.write(other, x[:8000], 8000, subtype="PCM_16")
    assert open_cached_source(other) is None  # not a 16 kHz cache
    assert open_cached_source(tmp_path / "not-decoded-yet.wav") is None
    stereo = tmp_path / "stereo.wav"
    sf.write(stereo, np.stack([x, x], axis=1), SAMPLE_RATE, subtype="PCM_16")
    fallback = open_cached_source(stereo)  # another layout: read through WavAudio instead
    assert fallback is not None and isinstance(fallback.source, WavAudio)
    np.testing.assert_allclose(fallback.read(0, 100), x[:100], atol=1e-4)
