"""Speaker embeddings compared (``bench/speaker_bench.py --embeddings``): pairwise EER of the
bundled GE2E encoder (as the speaker stage uses it, and raw) and of classical MFCC statistics on
all of EmoDB under lesson-like conditions (short, far-field), with their speed; and the EER
helper other benches use."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench.synth import SR, load_emodb_index, read_clip, voiced_span


def mfcc_stats_embed(clips: Sequence[np.ndarray]) -> np.ndarray:
    """Classical baseline: mean and std of 20 MFCCs plus std of their deltas (25 ms / 10 ms,
    40 mel bands), z-scored over the clip set, L2-normalised: ``(N, 60)``."""
    import scipy.fft
    import torch
    import torchaudio.functional as AF

    fbank = AF.melscale_fbanks(201, 0.0, 8000.0, 40, SR)
    feats = []
    for clip in clips:
        x = torch.from_numpy(np.asarray(clip, np.float32))
        power = torch.stft(x, 400, 160, window=torch.hann_window(400), return_complex=True).abs() ** 2
        logmel = torch.log(power.T @ fbank + 1e-8).numpy()
        mfcc = scipy.fft.dct(logmel, type=2, norm="ortho", axis=1)[:, 1:21]
        delta = np.diff(mfcc, axis=0, prepend=mfcc[:1])
        feats.append(np.concatenate([mfcc.mean(0), mfcc.std(0), delta.std(0)]))
    f = np.asarray(feats)
    f = (f - f.mean(0)) / (f.std(0) + 1e-9)
    return f / np.linalg.norm(f, axis=1, keepdims=True)


def eer(a: np.ndarray, b: np.ndarray | None, labels: np.ndarray) -> float:
    """Equal error rate (%) of cosine scores: all pairs within ``a`` (``b is None``) or ``a`` x ``b``."""
    if b is None:
        iu = np.triu_indices(len(a), 1)
        scores, same = (a @ a.T)[iu], (labels[:, None] == labels[None, :])[iu]
    else:
        scores, same = (a @ b.T).ravel(), (labels[:, None] == labels[None, :]).ravel()
    order = np.argsort(-scores, kind="stable")
    same = same[order]
    far = np.cumsum(~same) / max(1, int((~same).sum()))  # impostors accepted at each cut
    frr = 1 - np.cumsum(same) / max(1, int(same.sum()))  # targets rejected
    k = int(np.argmin(np.abs(far - frr)))
    return float(100 * (far[k] + frr[k]) / 2)


def encoder_comparison(seed: int = 5) -> None:
    """EER of speaker embeddings on all 535 EmoDB clips (10 speakers, none seen by either
    method's training), under lesson-like conditions, and the embedding speed."""
    import torch

    from bench.synth import reverb, room_noise
    from esergui.speakers.encoder import VoiceEncoder

    rng = np.random.default_rng(seed)
    rows = load_emodb_index()
    labels = np.array([r["speaker"] for r in rows])
    voiced = []
    for r in rows:
        clip = read_clip(r["file"])
        a, b = voiced_span(clip)
        voiced.append(clip[a:b])

    def middle(c: np.ndarray, s: float = 1.5) -> np.ndarray:
        m, h = len(c) // 2, int(s * SR / 2)
        return c[max(0, m - h) : m + h]

    def far(c: np.ndarray) -> np.ndarray:
        c = c / np.sqrt(np.mean(c**2)) * 10 ** ((-24 - rng.uniform(6, 12)) / 20)
        c = reverb(c, rng)
        return (c + room_noise(len(c), rng) * 10 ** (-44 / 20)).astype(np.float32)

    conds = {
        "clean 1.5 s": [middle(c) for c in voiced],
        "short 0.5-1 s": [c[: int(rng.uniform(0.5, 1.0) * SR)] for c in voiced],
        "far 1.5 s": [far(middle(c)) for c in voiced],
        "far short": [far(c[: int(rng.uniform(0.5, 1.0) * SR)]) for c in voiced],
    }
    enc = VoiceEncoder.shared()

    def ge2e(raw: bool) -> Callable[[Sequence[np.ndarray]], np.ndarray]:
        from esergui.speakers.windows import MIN_EMBED_S

        def run(clips: Sequence[np.ndarray]) -> np.ndarray:
            if raw:  # Resemblyzer's own use: no per-clip level normalisation, no repetition
                return _embed_unnormalised(enc, clips)
            return enc.embed(
                [np.tile(c, int(np.ceil(MIN_EMBED_S * SR / len(c)))) if len(c) < MIN_EMBED_S * SR else c for c in clips]
            )

        return run

    methods = {
        "GE2E (bundled), level-normalised, short clips repeated to 1 s": ge2e(False),
        "GE2E, raw level, no repetition": ge2e(True),
        "MFCC statistics (classical)": mfcc_stats_embed,
    }
    torch.set_num_threads(1)
    print("\n### Speaker embeddings: EER % on EmoDB (535 clips, 10 speakers, all emotions)\n")
    print("| method | " + " | ".join(conds) + " | clean vs far (enrol vs lesson) | s per audio hour (1 thread) |")
    print("|---|" + "---|" * (len(conds) + 2))
    for name, fn in methods.items():
        t0 = time.process_time()
        emb = {k: fn(v) for k, v in conds.items()}
        secs = sum(len(c) for v in conds.values() for c in v) / SR
        per_hour = (time.process_time() - t0) / secs * 3600
        cells = [f"{eer(emb[k], None, labels):.1f}" for k in conds]
        cross = eer(emb["clean 1.5 s"], emb["far 1.5 s"], labels)
        print(f"| {name} | " + " | ".join(cells) + f" | {cross:.1f} | {per_hour:.0f} |")


def _embed_unnormalised(enc: Any, clips: Sequence[np.ndarray]) -> np.ndarray:
    import torch

    out = []
    with torch.inference_mode():
        for c in clips:
            mel = enc.mel(torch.from_numpy(np.asarray(c, np.float32))[None])
            out.append(enc.net(mel, torch.tensor([mel.shape[1]])).numpy()[0])
    return np.asarray(out)
