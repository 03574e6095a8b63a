"""Decoding real speech (EmoDB) converted with sox and PyAV into every supported format, rate,
channel layout and bit depth; anti-aliasing; bounded memory; the decode cache."""

from __future__ import annotations

import os
import subprocess
import tracemalloc
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from esergui.audio import ArrayAudio, WavAudio, as_source, decode_to_cache, iter_blocks, load_audio, probe
from esergui.progress import Cancelled, CancelToken

CLIPS = ("03a01Wa.wav", "08a02Ab.wav", "13a05Tc.wav")  # three speakers, ~7 s together


@pytest.fixture(scope="module")
def speech(emodb: Path) -> np.ndarray:
    """~7 s of real speech at 16 kHz, float32, peak 0.5 (room for resampler overshoot)."""
    parts = [sf.read(emodb / "wav" / name, dtype="float32")[0] for name in CLIPS]
    x = np.concatenate(parts)
    return (0.5 * x / np.max(np.abs(x))).astype(np.float32)


@pytest.fixture(scope="module")
def ref_wav(speech: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ref") / "speech16k.wav"
    sf.write(path, speech, 16000, subtype="PCM_16")
    return path


def sox(src: Path, dst: Path, *args: str, effects: tuple[str, ...] = ()) -> Path:
    """Convert with sox: ``args`` are output format options, ``effects`` come after the output."""
    subprocess.run(["sox", "-V1", str(src), *args, str(dst), *effects], check=True)
    return dst


def pyav_encode(
    x: np.ndarray, sr: int, path: Path, codec: str, fmt: str, channels: int = 1, options: dict | None = None
) -> Path:
    """Encode mono ``x`` (16 kHz) at ``sr`` with ``channels`` identical channels using FFmpeg."""
    import soxr

    y = soxr.resample(x, 16000, sr).astype(np.float32) if sr != 16000 else x
    layout = {1: "mono", 2: "stereo", 6: "5.1"}[channels]
    with av.open(str(path), "w", format=fmt, options=options or {}) as out:
        stream = out.add_stream(codec, rate=sr, layout=layout)
        planar = stream.codec_context.format.is_planar
        data = np.repeat(y[None, :], channels, axis=0) if planar else np.repeat(y, channels)[None, :]
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(data), format="fltp" if planar else "flt", layout=layout
        )
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def aligned_corr(ref: np.ndarray, got: np.ndarray, max_lag: int = 4000) -> tuple[float, int]:
    """Best correlation coefficient of ``got`` against ``ref`` over lags ``|lag| <= max_lag``."""
    n = min(ref.size, got.size) - max_lag
    best, best_lag = -1.0, 0
    spec = np.fft.rfft(ref[: n + max_lag], 2 * (n + max_lag))
    xc = np.fft.irfft(np.conj(spec) * np.fft.rfft(got[: n + max_lag], 2 * (n + max_lag)))
    lags = np.r_[0 : max_lag + 1, -max_lag:0]
    idx = np.r_[0 : max_lag + 1, xc.size - max_lag : xc.size]
    k = int(np.argmax(xc[idx]))
    best_lag = int(lags[k])
    a = ref[max_lag : max_lag + n - max_lag]
    b = got[max_lag + best_lag : max_lag + best_lag + n - max_lag]
    best = float(np.corrcoef(a, b)[0, 1])
    return best, best_lag


# (name, sox args or None for PyAV, expected format, bit depth, min correlation)
SOX_CASES = [
    ("u8_8k_mono.wav", ["-r", "8000", "-b", "8", "-e", "unsigned-integer"], "WAV", 8, 0.93),
    ("s16_22k_stereo.wav", ["-r", "22050", "-b", "16", "-c", "2"], "WAV", 16, 0.995),
    ("s24_44k_stereo.wav", ["-r", "44100", "-b", "24", "-c", "2"], "WAV", 24, 0.995),
    ("s32_48k_6ch.wav", ["-r", "48000", "-b", "32", "-c", "6"], "WAV", 32, 0.995),
    ("f32_44k_mono.wav", ["-r", "44100", "-b", "32", "-e", "floating-point"], "WAV", 32, 0.995),
    ("f64_48k_stereo.wav", ["-r", "48000", "-b", "64", "-e", "floating-point", "-c", "2"], "WAV", 64, 0.995),
    ("s16_16k_mono.flac", ["-b", "16"], "FLAC", 16, 0.9999),
    ("s24_48k_stereo.flac", ["-r", "48000", "-b", "24", "-c", "2"], "FLAC", 24, 0.995),
    ("s16_8k_mono.flac", ["-r", "8000", "-b", "16"], "FLAC", 16, 0.93),
    ("vorbis_44k_stereo.ogg", ["-r", "44100", "-c", "2", "-C", "5"], "OGG", None, 0.9),
    ("vorbis_22k_mono.ogg", ["-r", "22050", "-C", "3"], "OGG", None, 0.9),
    ("mp3_44k_stereo.mp3", ["-r", "44100", "-c", "2", "-C", "128"], "MP3", None, 0.9),
    ("mp3_22k_mono.mp3", ["-r", "22050", "-C", "64"], "MP3", None, 0.9),
]
PYAV_CASES = [
    ("aac_48k_stereo.m4a", 48000, "aac", "mp4", 2, "M4A"),
    ("aac_44k_mono.m4a", 44100, "aac", "mp4", 1, "M4A"),
    ("aac_22k_6ch.m4a", 22050, "aac", "mp4", 6, "M4A"),
    ("aac_8k_mono.aac", 8000, "aac", "adts", 1, "AAC"),
    ("mp3_48k_stereo_lame.mp3", 48000, "libmp3lame", "mp3", 2, "MP3"),
    ("opus_48k_stereo.opus", 48000, "libopus", "ogg", 2, "OGG"),
]


@pytest.mark.parametrize("name,args,fmt,bits,min_corr", SOX_CASES, ids=[c[0] for c in SOX_CASES])
def test_sox_conversions_decode_to_the_same_speech(name, args, fmt, bits, min_corr, ref_wav, speech, tmp_path):
    path = sox(ref_wav, tmp_path / name, *args)
    info = probe(path)
    assert info.format.startswith(fmt), info
    assert info.bit_depth == bits
    want_rate = int(args[args.index("-r") + 1]) if "-r" in args else 16000
    assert info.sample_rate == want_rate
    assert info.channels == (int(args[args.index("-c") + 1]) if "-c" in args else 1)
    y = load_audio(path)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(y.size / 16000 - speech.size / 16000) < 0.1
    corr, lag = aligned_corr(speech, y)
    assert corr >= min_corr, f"{name}: correlation {corr:.4f} at lag {lag}"
    # Channels are averaged, not summed: identical channels keep the level.
    assert np.std(y) == pytest.approx(np.std(speech), rel=0.15)


@pytest.mark.parametrize("name,sr,codec,fmt,channels,kind", PYAV_CASES, ids=[c[0] for c in PYAV_CASES])
def test_pyav_encodings_decode_to_the_same_speech(name, sr, codec, fmt, channels, kind, speech, tmp_path):
    path = pyav_encode(speech, sr, tmp_path / name, codec, fmt, channels)
    info = probe(path)
    assert info.format == kind and info.sample_rate == sr and info.channels == channels
    assert info.bit_depth is None
    assert info.backend == ("soundfile" if codec == "libopus" else "pyav")  # libsndfile reads Ogg Opus
    y = load_audio(path)
    assert abs(y.size - speech.size) < (2 * 1024 / sr + 0.02) * 16000  # codec priming + padding
    corr, lag = aligned_corr(speech, y)
    assert corr >= (0.8 if sr == 8000 else 0.9), f"{name}: correlation {corr:.3f} at lag {lag}"
    assert abs(lag) < (1024 / sr + 0.01) * 16000


def test_lame_mp3_is_gapless_and_exact(speech, tmp_path):
    path = pyav_encode(speech, 16000, tmp_path / "gapless.mp3", "libmp3lame", "mp3")
    info = probe(path)
    assert info.exact  # the LAME/Xing header states the length
    y = load_audio(path)
    assert y.size == speech.size  # encoder delay and padding removed
    assert aligned_corr(speech, y)[1] == 0


def test_channels_are_averaged(speech, tmp_path):
    stereo = np.stack([speech, np.zeros_like(speech)], axis=1)
    path = tmp_path / "left_only.wav"
    sf.write(path, stereo, 16000, subtype="FLOAT")
    y = load_audio(path)
    np.testing.assert_allclose(y, speech / 2, atol=1e-6)


@pytest.mark.parametrize("rate,tone_hz", [(48000, 12000.0), (44100, 10000.0), (22050, 9000.0)])
def test_resampling_is_anti_aliased(speech, tmp_path, rate, tone_hz):
    """A tone above 8 kHz must vanish, not fold back into the speech band."""
    import soxr

    up = soxr.resample(speech, 16000, rate).astype(np.float32)
    t = np.arange(up.size) / rate
    tone = 0.3 * np.sin(2 * np.pi * tone_hz * t).astype(np.float32)
    clean, noisy = tmp_path / "clean.wav", tmp_path / "tone.wav"
    sf.write(clean, up, rate, subtype="FLOAT")
    sf.write(noisy, up + tone, rate, subtype="FLOAT")
    diff = load_audio(noisy) - load_audio(clean)
    alias_db = 20 * np.log10(np.std(diff[1000:-1000]) / np.std(tone) + 1e-12)
    assert alias_db < -60, f"{tone_hz} Hz tone leaks at {alias_db:.1f} dB after resampling from {rate} Hz"


def test_16k_pcm_passes_through_unchanged(ref_wav, speech):
    y = load_audio(ref_wav)
    np.testing.assert_allclose(y, speech, atol=1 / 32768 + 1e-7)


def test_blocks_have_fixed_size_and_cover_the_file(ref_wav, speech, tmp_path):
    path = sox(ref_wav, tmp_path / "s16_44k.wav", "-r", "44100")
    blocks = list(iter_blocks(path, sr=16000, block_s=1.5))
    assert all(b.size == 24000 for b in blocks[:-1]) and 0 < blocks[-1].size <= 24000
    joined = np.concatenate(blocks)
    np.testing.assert_allclose(joined, load_audio(path), atol=1e-6)
    eight = np.concatenate(list(iter_blocks(path, sr=8000, block_s=2.0)))
    assert abs(eight.size - speech.size // 2) <= 2


def test_iter_blocks_bounded_memory(speech, tmp_path):
    """Ten minutes of 48 kHz stereo (230 MB as float32, 38 MB decoded) stream in a few MB."""
    import soxr

    unit = soxr.resample(speech, 16000, 48000).astype(np.float32)
    path = tmp_path / "ten_minutes.wav"
    reps = int(np.ceil(600 * 48000 / unit.size))
    with sf.SoundFile(path, "w", 48000, 2, "PCM_16") as fh:
        block = np.stack([unit, -unit], axis=1)
        for _ in range(reps):
            fh.write(block)
    tracemalloc.start()
    try:
        total = 0
        for b in iter_blocks(path, block_s=10.0):
            total += b.size
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total >= 600 * 16000
    assert peak < 8 * 2**20, f"peak traced allocation {peak / 2**20:.1f} MB"


def test_progress_and_cancel(ref_wav, tmp_path):
    long = sox(ref_wav, tmp_path / "long.flac", effects=("repeat", "8"))  # ~60 s
    seen: list[float] = []
    load_audio(long, progress=lambda f, m="": seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 3

    token = CancelToken()

    def stop_at_first(fraction: float, message: str = "") -> None:
        if fraction > 0:
            token.cancel()

    with pytest.raises(Cancelled):
        load_audio(long, progress=stop_at_first, cancel=token)
    cache = tmp_path / "cache" / "long.wav"
    token = CancelToken()
    with pytest.raises(Cancelled):
        decode_to_cache(long, cache, progress=stop_at_first, cancel=token)
    assert not cache.exists() and list(cache.parent.glob("*.part")) == []  # no temporary file left


def test_decode_to_cache_random_access_and_reuse(ref_wav, speech, tmp_path):
    src = sox(ref_wav, tmp_path / "in.ogg", "-r", "44100", "-c", "2")
    cache = tmp_path / "cache" / "lesson_16k.wav"
    steps: list[float] = []
    source = decode_to_cache(src, cache, progress=lambda f, m="": steps.append(f))
    assert isinstance(source, WavAudio) and steps[-1] == 1.0
    info = sf.info(str(cache))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    whole = load_audio(src)
    assert source.n_samples == whole.size and source.sample_rate == 16000
    assert source.duration_s == pytest.approx(whole.size / 16000)
    for a, b in [(0, 100), (5000, 23456), (whole.size - 50, whole.size + 500), (-10, 10)]:
        np.testing.assert_allclose(source.read(a, b), whole[max(0, a) : min(b, whole.size)], atol=2 / 32768)
    assert source.read(10, 5).size == 0
    stamp = cache.stat().st_mtime_ns
    again = decode_to_cache(src, cache)
    assert cache.stat().st_mtime_ns == stamp  # reused, not re-decoded
    np.testing.assert_array_equal(again.read(0, 1000), source.read(0, 1000))
    source.close()
    again.close()


def test_array_audio_and_as_source(speech):
    src = ArrayAudio(speech)
    assert src.n_samples == speech.size and src.sample_rate == 16000
    np.testing.assert_array_equal(src.read(-5, 10), speech[:10])
    assert as_source(src) is src
    assert as_source(speech).n_samples == speech.size
    with pytest.raises(ValueError):
        ArrayAudio(np.zeros((2, 100)))


def test_probe_reports_truthful_header(ref_wav, tmp_path):
    path = sox(ref_wav, tmp_path / "x.flac", "-r", "44100", "-b", "24", "-c", "2")
    info = probe(path)
    assert (info.format, info.codec, info.sample_rate, info.channels, info.bit_depth) == (
        "FLAC",
        "PCM_24",
        44100,
        2,
        24,
    )
    assert info.exact and info.duration_s == pytest.approx(sf.info(str(path)).duration)
    assert "44100 Hz" in info.describe() and os.fspath(info.path) == os.fspath(path)
