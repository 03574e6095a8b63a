"""``esergui batch``: inputs (folders, manifests), failures, provenance, combined tables, resume
after a killed run, a Dask LocalCluster, and Qt-free workers. Lessons are a few seconds of the
real demo lesson, analysed by the real pipeline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from esergui.batch.inputs import BatchInputError, collect_inputs
from esergui.batch.provenance import PROVENANCE_COLUMNS
from esergui.cli import main
from esergui.workspace import Workspace
from tests.batch_support import ROOT, batch_command, cut_lessons, log_events, no_qt_env


@pytest.fixture(scope="module")
def lessons(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return cut_lessons(tmp_path_factory.mktemp("lessons"), 4)


def test_inputs_from_folders_and_manifests(tmp_path: Path) -> None:
    (tmp_path / "a" / "deep").mkdir(parents=True)
    for name in ("a/one.wav", "a/deep/two.FLAC", "a/notes.txt", "a/.hidden.wav"):
        (tmp_path / name).write_bytes(b"x")
    manifest = tmp_path / "m.csv"
    manifest.write_text("path;Teacher;date\na/one.wav;Ms A;2024-03-01\n/abs/three.mp3;Mr B;\n", encoding="utf-8-sig")
    found = collect_inputs([tmp_path / "a", manifest, tmp_path / "missing.wav"])
    assert [p.path.name for p in found] == ["one.wav", "two.FLAC", "three.mp3", "missing.wav"]
    three = found[2]
    assert three.path == Path("/abs/three.mp3") and three.metadata == {"teacher": "Mr B", "date": ""}
    # a file named by a folder and by the manifest is one lesson, with the manifest's metadata
    assert found[0].metadata == {"teacher": "Ms A", "date": "2024-03-01"}
    # a pattern no shell expanded (Windows): expanded here, audio files only
    assert sorted(p.path.name for p in collect_inputs([str(tmp_path / "a" / "**" / "*")])) == ["one.wav", "two.FLAC"]
    (tmp_path / "bad.csv").write_text("file_name,teacher\nx.wav,A\n")
    with pytest.raises(BatchInputError, match="no 'path' column"):
        collect_inputs([tmp_path / "bad.csv"])


def test_batch_manifest_folder_failure_and_resume(
    lessons: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    os.link(lessons[2], folder / "third.wav")
    (folder / "broken.wav").write_bytes(b"RIFF not really audio")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        f"path,teacher,class,date,subject\n{lessons[0]},Ms A,7a,2024-01-10,maths\n"
        f"{lessons[1]},Mr B,8b,2024-01-11,history\n"
    )
    out = tmp_path / "out"
    code = main(
        [
            "batch",
            str(manifest),
            str(folder),
            "--out",
            str(out),
            "--jobs",
            "2",
            "--threads",
            "1",
            "--device",
            "cpu",
            "--workspace",
            str(tmp_path / "ws"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "1 failed:" in err and "broken.wav" in err
    failures = pd.read_csv(out / "failures.csv")
    assert failures["path"].tolist() == [str(folder / "broken.wav")]
    summaries = pd.read_csv(out / "all_summaries.csv")
    assert sorted(summaries["lesson"]) == ["lesson0", "lesson1", "third"]
    row = summaries.set_index("lesson").loc["lesson1"]
    assert (row["teacher"], row["class"], row["date"], row["subject"]) == ("Mr B", "8b", "2024-01-11", "history")
    assert pd.isna(summaries.set_index("lesson").loc["third", "teacher"])
    utts = pd.read_parquet(out / "all_utterances.parquet")
    assert set(utts["lesson"]) == {"lesson0", "lesson1", "third"}
    assert (utts.groupby("lesson").size() == summaries.set_index("lesson")["utterances"]).all()
    for table in (summaries, utts):
        for column in PROVENANCE_COLUMNS:
            assert table[column].notna().all() and (table[column].astype(str) != "").all(), column
    assert utts["model_sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert (utts["program_version"] == __import__("esergui").__version__).all()
    ws = Workspace.open(tmp_path / "ws")  # the analysed lessons are in the workspace too
    try:
        stored = {lesson.name: len(ws.utterances(lesson.id)) for lesson in ws.lessons()}
    finally:
        ws.close()
    assert stored == summaries.set_index("lesson")["utterances"].to_dict()

    def strict(constant: str) -> None:
        raise AssertionError(f"{constant} in a JSON file")

    for path in out.glob("**/*.json"):  # strict JSON: a missing figure is null, never NaN
        json.loads(path.read_text(encoding="utf-8"), parse_constant=strict)

    # resumed: nothing is analysed again, the tables are whole, the failure is still listed
    code = main(["batch", str(manifest), str(folder), "--out", str(out), "--resume", "--jobs", "2", "--device", "cpu"])
    assert code == 1
    events = log_events(out)
    assert sum(e["event"] == "done" for e in events) == 3
    assert sum(e["event"] == "skipped" for e in events) == 3
    assert len(pd.read_csv(out / "all_summaries.csv")) == 3


def test_killed_run_resumes_without_loss_or_repeats(lessons: list[Path], tmp_path: Path) -> None:
    """SIGKILL the batch process once its first lesson is complete, then resume. Both runs
    happen where importing Qt fails, so the workers are proved headless as well."""
    env = no_qt_env(tmp_path / "noqt")
    out = tmp_path / "out"
    inputs = [str(p) for p in lessons]
    proc = subprocess.Popen(
        batch_command(*inputs, "--out", str(out), "--jobs", "1", "--device", "cpu", "--quiet"),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not list(out.glob("lessons/*/done.json")):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "no lesson finished in time"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        # the pool's worker notices its batch is gone and exits (no orphan finishes a lesson later);
        # within its half-second watch it may still complete, atomically, the lesson it was on
        deadline = time.monotonic() + 20
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _group_alive(proc.pid), "a worker outlived the killed batch"
        done_at_kill = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("lessons/*/done.json")}
        assert 1 <= len(done_at_kill) < len(lessons)
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)

    resumed = subprocess.run(
        batch_command(*inputs, "--out", str(out), "--jobs", "1", "--device", "cpu", "--resume", "--quiet"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "blocked" not in resumed.stderr
    done = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("lessons/*/done.json")}
    assert len(done) == len(lessons)
    assert all(done[name] == mtime for name, mtime in done_at_kill.items())  # not redone
    events = log_events(out)
    finished = [e["key"] for e in events if e["event"] == "done"]
    assert len(finished) == len(set(finished))  # nothing done twice
    assert sum(e["event"] == "skipped" for e in events) == len(done_at_kill)
    assert not list(out.glob("lessons/.*"))  # no partial folder left behind
    summaries = pd.read_csv(out / "all_summaries.csv")
    assert sorted(summaries["lesson"]) == [p.stem for p in lessons]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker process through /proc")
def test_a_killed_worker_costs_no_lesson(lessons: list[Path], tmp_path: Path) -> None:
    """SIGKILL the worker process (as the out-of-memory killer would) while it analyses: the
    lesson is run again alone in a fresh worker and the batch completes."""
    out = tmp_path / "out"
    proc = subprocess.Popen(
        batch_command(*map(str, lessons[:3]), "--out", str(out), "--jobs", "1", "--device", "cpu", "--quiet"),
        cwd=ROOT,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (workers := [pid for pid in _children(proc.pid) if _is_pool_worker(_cmdline(pid))]):
            assert time.monotonic() < deadline and proc.poll() is None, "no worker process appeared"
            time.sleep(0.05)
        time.sleep(1.0)
        os.kill(workers[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=300)
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    assert len(pd.read_csv(out / "all_summaries.csv")) == 3
    done = [e for e in log_events(out) if e["event"] == "done"]
    assert len({e["key"] for e in done}) == len(done) == 3
    assert str(workers[0]) not in {e["worker"].split(":")[1] for e in done}  # all done by fresh workers


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _is_pool_worker(cmdline: str) -> bool:
    """A multiprocessing ``spawn`` child that is not its resource tracker."""
    return "spawn_main" in cmdline and "resource_tracker" not in cmdline


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("workers", [2])
def test_batch_on_a_dask_local_cluster(lessons: list[Path], tmp_path: Path, workers: int) -> None:
    import distributed

    from esergui.batch.inputs import collect_inputs
    from esergui.batch.run import make_config, run_batch

    def qt_modules() -> list[str]:
        return sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph"))

    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"OMP_NUM_THREADS": "1"},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        config = make_config(tmp_path / "out", device="cpu", threads=1)
        result = run_batch(collect_inputs(lessons[:3]), config, scheduler=cluster.scheduler_address)
        assert client.run(qt_modules) == {addr: [] for addr in client.scheduler_info()["workers"]}
    assert result.failures == [] and result.analysed == 3
    assert {o.worker.split(":")[1] for o in result.outcomes}.isdisjoint({str(os.getpid())})
    assert all(o.peak_rss_mb and o.peak_rss_mb > 50 for o in result.outcomes)
    assert len(pd.read_csv(result.written["summaries"])) == 3


def test_a_worker_with_another_model_refuses(lessons: list[Path], tmp_path: Path) -> None:
    """A worker whose model file is not the batch's (another install) fails the lesson with
    the reason instead of writing rows whose provenance names the wrong model."""
    import dataclasses

    from esergui.batch.inputs import LessonInput
    from esergui.batch.plan import plan_batch
    from esergui.batch.run import make_config
    from esergui.batch.worker import analyse_lesson

    config = dataclasses.replace(make_config(tmp_path / "out", device="cpu", threads=1), model_sha256="0" * 64)
    [task] = plan_batch([LessonInput(lessons[0])], config).todo
    outcome = analyse_lesson(task)
    assert not outcome.ok and "is not the batch's" in outcome.reason
    assert not Path(task.folder).exists()
