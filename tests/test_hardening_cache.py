"""Issue 18, the decode cache: a cut, replaced or foreign cache is never trusted, and parallel
decodes of one lesson (two analyses at once) never share a half-written file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from esergui.audio import decode_to_cache, load_audio
from esergui.audio.decode import CACHE_RECORD_SUFFIX

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def source(conversation: Path) -> Path:
    return conversation / "sample.wav"


@pytest.fixture()
def fresh(source: Path) -> np.ndarray:
    return load_audio(source)


def _decoded_again(cache: Path, source: Path) -> bool:
    steps: list[str] = []
    decode_to_cache(source, cache, progress=lambda f, m="": steps.append(m)).close()
    return "decoded (cached)" not in steps


def test_intact_cache_is_reused(tmp_path: Path, source: Path) -> None:
    cache = tmp_path / "cache" / "x_16k.wav"
    assert _decoded_again(cache, source)
    assert cache.with_name(cache.name + CACHE_RECORD_SUFFIX).is_file()
    assert not _decoded_again(cache, source)


def test_cache_cut_to_half_is_decoded_again(tmp_path: Path, source: Path, fresh: np.ndarray) -> None:
    cache = tmp_path / "x_16k.wav"
    decode_to_cache(source, cache).close()
    data, sr = sf.read(cache, dtype="int16")
    sf.write(cache, data[: len(data) // 2], sr, subtype="PCM_16")  # a valid WAV, half as long
    assert _decoded_again(cache, source)
    with sf.SoundFile(cache) as fh:
        assert fh.frames == fresh.size


def test_cache_replaced_by_another_valid_wav_is_decoded_again(
    tmp_path: Path, source: Path, fresh: np.ndarray, emodb: Path
) -> None:
    cache = tmp_path / "x_16k.wav"
    decode_to_cache(source, cache).close()
    other = load_audio(emodb / "wav" / "03a01Fa.wav")
    sf.write(cache, np.resize(other, fresh.size), 16000, subtype="PCM_16")  # same length, other content
    assert _decoded_again(cache, source)
    np.testing.assert_allclose(sf.read(cache, dtype="float32")[0], np.clip(fresh, -1, 1), atol=2 / 32768)


def test_cache_without_its_record_is_decoded_again(tmp_path: Path, source: Path) -> None:
    cache = tmp_path / "x_16k.wav"
    decode_to_cache(source, cache).close()
    cache.with_name(cache.name + CACHE_RECORD_SUFFIX).unlink()  # e.g. a cache from an older version
    assert _decoded_again(cache, source)
    assert not _decoded_again(cache, source)


def test_flipped_byte_in_the_cache_head_is_decoded_again(tmp_path: Path, source: Path) -> None:
    cache = tmp_path / "x_16k.wav"
    decode_to_cache(source, cache).close()
    raw = bytearray(cache.read_bytes())
    raw[1000] ^= 0xFF
    cache.write_bytes(bytes(raw))
    assert _decoded_again(cache, source)


def test_same_lesson_decoded_by_four_processes_at_once(tmp_path: Path, source: Path, fresh: np.ndarray) -> None:
    cache = tmp_path / "cache" / "x_16k.wav"
    code = textwrap.dedent(f"""
        import sys
        from esergui.audio import decode_to_cache
        sys.stdin.readline()
        src = decode_to_cache({str(source)!r}, {str(cache)!r})
        print(src.n_samples)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [r[1][-400:] for r in results]
    assert {int(r[0]) for r in results} == {fresh.size}
    assert sorted(p.name for p in cache.parent.iterdir()) == ["x_16k.wav", "x_16k.wav" + CACHE_RECORD_SUFFIX]
    assert not _decoded_again(cache, source)
