"""Issue 18, fuzzing: random bytes written into copies of a workspace database and of a model
file (seeded, a bounded number of cases). Every case must end in success or in one clear
user-facing message (an ``EserError``/``ModelError`` subclass, one line): never another
exception, a traceback or a hang. The cases run in a child process under a time limit; run this
file directly to fuzz longer: ``python tests/test_hardening_fuzz.py workspace|model FOLDER SEED N``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

WORKSPACE_CASES = 120
MODEL_CASES = 24
SEED = 18


# ------------------------------------------------------------------------------ mutations


def mutate_bytes(path: Path, rng: random.Random) -> str:
    """Flip bytes, overwrite a block with random bytes, or cut the file; returns what was done."""
    data = bytearray(path.read_bytes())
    kind = rng.choice(["flip", "flip", "block", "cut"])
    if kind == "cut":
        at = rng.randrange(len(data))
        path.write_bytes(bytes(data[:at]))
        return f"cut at {at}"
    if kind == "flip":
        spots = [rng.randrange(len(data)) for _ in range(rng.randint(1, 6))]
        for at in spots:
            data[at] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))
        return f"flipped bits at {spots}"
    size = rng.randint(8, 512)
    at = rng.randrange(max(1, len(data) - size))
    data[at : at + size] = bytes(rng.randrange(256) for _ in range(size))
    path.write_bytes(bytes(data))
    return f"{size} random bytes at {at}"


_ODD_VALUES = [0, -1, 1, 7, 10**9, 0.5, 1e308, "x", "", None, [], {}, True, [0, 0, 0], {"a": 1}]


def mutate_signed_model(path: Path, rng: random.Random) -> str:
    """Change a configuration value or tensor bytes and sign the file again (valid checksum)."""
    import torch

    from model.io import read_model_file
    from tests.model_helpers import write_signed_model

    meta, tensors = read_model_file(path)
    if rng.random() < 0.75:  # (a file whose tensors still load is run on a test sound: slower)
        section = rng.choice(["model_config", "feature_config", "train_config", "labels"])
        if section == "labels":
            meta["labels"] = rng.choice(_ODD_VALUES + [["a"] * 7, ["a", "b"]])
            what = f"labels = {meta['labels']!r}"
        else:
            key = rng.choice(sorted(meta[section]) + ["new_field"])
            meta[section][key] = rng.choice(_ODD_VALUES)
            what = f"{section}.{key} = {meta[section][key]!r}"
    else:
        name = rng.choice(sorted(tensors))
        raw = bytearray(tensors[name].contiguous().view(torch.uint8).numpy().tobytes())
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        tensors[name] = torch.frombuffer(raw, dtype=tensors[name].dtype).reshape(tensors[name].shape).clone()
        what = f"bytes of tensor {name}"
    meta_json = json.dumps(meta, sort_keys=True)
    write_signed_model(path, meta_json, tensors)
    return f"re-signed with {what}"


# ------------------------------------------------------------------------------ what a user does


def use_workspace(folder: Path) -> None:
    """Open the workspace and do what the app and the CLI do with it: read every lesson, edit one."""
    from esergui.lesson import AnalysisRun, Utterance
    from esergui.workspace import Workspace

    with Workspace.open(folder, create=False) as ws:
        for lesson in ws.lessons():
            ws.utterances(lesson.id, include_deleted=True)
            ws.speakers(lesson.id)
            ws.edits(lesson.id)
            ws.labels(lesson.id)
            ws.review_progress(lesson.id)
            ws.disagreements(lesson.id)
            utts = ws.utterances(lesson.id)
            if utts:
                ws.set_note([utts[0].id], "fuzz")
            ws.store_analysis(
                lesson.id,
                AnalysisRun(labels=("anger", "neutral")),
                [
                    Utterance(
                        0.0,
                        1.0,
                        speaker="S1",
                        role="teacher",
                        emotion="anger",
                        confidence=0.9,
                        probabilities={"anger": 0.9, "neutral": 0.1},
                    )
                ],
            )
        ws.teacher_voices()
        ws.models()
        ws.get_setting("active_model")


def use_model(path: Path) -> None:
    from model.io import load_model

    load_model(path)


def run_cases(kind: str, pristine: Path, workdir: Path, seed: int, count: int) -> list[dict]:
    """Mutate copies of ``pristine`` ``count`` times; one result per case."""
    from esergui.errors import USER_ERRORS

    rng = random.Random(seed)
    results = []
    for case in range(count):
        target = workdir / f"case{case}"
        if kind == "workspace":
            shutil.copytree(pristine, target)
            what = mutate_bytes(target / "workspace.sqlite", rng)
            act = lambda target=target: use_workspace(target)  # noqa: E731
        else:
            target.mkdir()
            shutil.copyfile(pristine, target / "m.safetensors")
            mutate = mutate_signed_model if rng.random() < 0.5 else mutate_bytes
            what = mutate(target / "m.safetensors", rng)
            act = lambda target=target: use_model(target / "m.safetensors")  # noqa: E731
        t0 = time.perf_counter()
        try:
            act()
            outcome, message = "ok", ""
        except USER_ERRORS as exc:
            outcome, message = "message", str(exc)
        except Exception:  # noqa: BLE001 - exactly what the fuzzing looks for
            outcome, message = "BUG", traceback.format_exc()
        results.append(
            {
                "case": case,
                "mutation": what,
                "outcome": outcome,
                "message": message,
                "seconds": round(time.perf_counter() - t0, 3),
            }
        )
        shutil.rmtree(target, ignore_errors=True)
    return results


# ------------------------------------------------------------------------------ the tests


def _fuzz(kind: str, pristine: Path, tmp_path: Path, count: int, limit_s: float) -> list[dict]:
    work = tmp_path / "cases"
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, __file__, kind, str(pristine), str(work), str(SEED), str(count)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=limit_s,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout.splitlines()[-1])
    bugs = [r for r in results if r["outcome"] == "BUG"]
    assert not bugs, "\n\n".join(f"{b['mutation']}:\n{b['message']}" for b in bugs[:3])
    for r in results:
        if r["outcome"] == "message":
            assert r["message"].strip() and "\n" not in r["message"], r
            assert "Traceback" not in r["message"], r
    assert max(r["seconds"] for r in results) < 20, max(results, key=lambda r: r["seconds"])
    return results


@pytest.fixture()
def workspace_copy(tmp_path: Path, emodb: Path) -> Path:
    """A small but complete workspace: analysed lesson, edits, a teacher voice, a model row, a setting."""
    import numpy as np

    from esergui.lesson import AnalysisRun, Speaker, Utterance
    from esergui.workspace import Workspace

    folder = tmp_path / "pristine"
    with Workspace.open(folder) as ws:
        for k, name in enumerate(["03a01Fa.wav", "03a01Nc.wav"]):
            lesson = ws.add_lesson(emodb / "wav" / name, name=f"lesson {k}", duration_s=30.0)
            utts = [
                Utterance(
                    i * 2.5,
                    i * 2.5 + 2.0,
                    speaker=f"S{i % 2 + 1}",
                    role="teacher" if i % 2 else "student",
                    emotion="neutral",
                    confidence=0.7,
                    probabilities={"anger": 0.3, "neutral": 0.7},
                )
                for i in range(10)
            ]
            ws.store_analysis(
                lesson.id,
                AnalysisRun(labels=("anger", "neutral")),
                utts,
                [Speaker("S1", "student"), Speaker("S2", "teacher")],
            )
            ids = [u.id for u in ws.utterances(lesson.id)]
            ws.set_emotion(ids[:2], "anger")
            ws.set_note(ids[2:3], "a note")
            ws.set_codes(ids[3:4], ["question"])
            ws.rename_speaker(lesson.id, "S1", "Ms Weber")
        voice = ws.enrol_teacher("Ms Weber", emodb / "wav" / "03a01Fa.wav", np.ones(256, np.float32), "test")
        ws.set_lesson_teacher(1, voice.id)
        ws.register_model("school", str(tmp_path / "m.safetensors"), ["anger", "neutral"], {"figures": {"ua": 0.5}})
        ws.set_setting("vad", {"aggressiveness": 2})
    return folder


def test_fuzzed_workspace_gives_clear_messages(workspace_copy: Path, tmp_path: Path) -> None:
    results = _fuzz("workspace", workspace_copy, tmp_path, WORKSPACE_CASES, limit_s=240)
    outcomes = {o: sum(r["outcome"] == o for r in results) for o in ("ok", "message")}
    assert outcomes["message"] > 0  # the mutations do reach the checks


def test_fuzzed_model_file_gives_clear_messages(tmp_path: Path) -> None:
    from esergui.models import bundled_model_path

    path = bundled_model_path()
    assert path is not None, "the bundled model file is missing from model/weights/"
    results = _fuzz("model", path, tmp_path, MODEL_CASES, limit_s=300)
    assert sum(r["outcome"] == "message" for r in results) > MODEL_CASES // 2


if __name__ == "__main__":
    kind, pristine, workdir, seed, count = sys.argv[1:6]
    print(json.dumps(run_cases(kind, Path(pristine), Path(workdir), int(seed), int(count))))
