"""GUI benchmark: time to open an analysed 45-minute lesson, and frame times while zooming and
scrolling a 3-hour lesson with 3,000 utterances, in the real main window (offscreen Qt).

Lessons are built from real EmoDB speech (``bench/synth.py``, 10-minute pieces streamed to
disk, so three hours never sit in memory) and stored in a workspace as if analysed: the
utterances with speakers, roles and emotion probabilities (drawn at random: the model is not
what is measured here). Run::

    nice -n 10 .venv/bin/python bench/gui_bench.py [--out bench/out/gui] [--markdown FILE]

A frame is one view change (zoom, scroll) with everything it causes on the GUI thread: the
range change, the waveform decimation, the spectrogram image assembled from cached tiles, and
the repaints of the overview and detail views (the pending events processed twice). Tiles
missing at that moment are computed in a background thread and do not count, but they do
compete for the CPU while frames are measured.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LABELS = ("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral")
PIECE_S = 600.0


def build_audio(path: Path, minutes: float, seed: int) -> list:
    """Stream ``minutes`` of synthetic lesson (10-minute pieces) to a 16 kHz WAV; its truth."""
    from bench.synth import build_lesson

    truth = []
    with sf.SoundFile(str(path), "w", samplerate=16000, channels=1, subtype="PCM_16") as out:
        offset = 0.0
        k = 0
        while offset < minutes * 60 - 1:
            dur = min(PIECE_S, minutes * 60 - offset)
            piece = build_lesson(seed=seed + k, duration_s=dur, noise="room", snr_db=25.0)
            out.write(np.clip(piece.audio, -1, 1))
            truth += [(t.start_s + offset, t.end_s + offset, t.speaker, t.role) for t in piece.truth]
            offset += len(piece.audio) / 16000
            k += 1
    return truth


def store_lesson(ws, audio: Path, truth: list, n_utts: int | None, seed: int) -> int:
    """Add ``audio`` to ``ws`` and store ``truth`` as an analysis (random emotions)."""
    from esergui.audio import decode_to_cache
    from esergui.lesson import AnalysisRun, Speaker, Utterance

    rng = np.random.default_rng(seed)
    if n_utts is not None and len(truth) > n_utts:
        keep = np.sort(rng.choice(len(truth), n_utts, replace=False))
        truth = [truth[i] for i in keep]
    lesson = ws.add_lesson(audio)
    src = decode_to_cache(audio, ws.cache_file(lesson))
    utts = []
    for a, b, speaker, role in truth:
        p = rng.dirichlet(np.full(len(LABELS), 0.6))
        k = int(np.argmax(p))
        utts.append(
            Utterance(
                a,
                b,
                speaker=speaker,
                role=role,
                role_confidence=0.9,
                emotion=LABELS[k],
                confidence=float(p[k]),
                probabilities=dict(zip(LABELS, map(float, p))),
            )
        )
    speakers = [Speaker(s, r) for s, r in sorted({(u.speaker, u.role) for u in utts})]
    run = AnalysisRun(labels=LABELS, model_name="benchmark (random emotions)", device="none")
    ws.store_analysis(int(lesson.id), run, utts, speakers, duration_s=src.n_samples / src.sample_rate)
    return int(lesson.id)


def wait_until(app, condition, timeout: float) -> float:
    t0 = time.perf_counter()
    while not condition():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"waited {timeout} s")
        app.processEvents()
        time.sleep(0.002)
    return time.perf_counter() - t0


def open_times(app, settings_path: Path, folder: Path, lesson_id: int) -> dict[str, float]:
    """Open the lesson in a fresh window: views ready (synchronous), then waveform and
    spectrogram (background)."""
    from PySide6.QtCore import QSettings

    from esergui.app.shell.window import MainWindow

    win = MainWindow(QSettings(str(settings_path), QSettings.Format.IniFormat))
    win.resize(1600, 1000)
    win.show()
    app.processEvents()
    win.open_workspace(folder)
    app.processEvents()
    t0 = time.perf_counter()
    win.open_lesson(lesson_id)
    win.central.repaint()
    t_views = time.perf_counter() - t0
    t_wave = wait_until(app, lambda: win.detail.envelope is not None, 120) + t_views
    win.detail.set_range(0, 60)

    def spec_ready() -> bool:
        img = win.detail.spec_image.image
        return img is not None and np.isfinite(img).mean() > 0.9

    t_spec = wait_until(app, spec_ready, 60) + t_wave
    n = len(win.lesson_data)
    win.shutdown()
    win.deleteLater()
    app.processEvents()
    return {"views_s": t_views, "waveform_s": t_wave, "spectrogram_s": t_spec, "utterances": n}


def frame_times(app, settings_path: Path, folder: Path, lesson_id: int) -> dict[str, list[float]]:
    """Zoom from the whole lesson to 1 s and back, scroll at several zooms; ms per frame."""
    from PySide6.QtCore import QSettings

    from esergui.app.shell.window import MainWindow

    win = MainWindow(QSettings(str(settings_path), QSettings.Format.IniFormat))
    win.resize(1600, 1000)
    win.show()
    win.open_workspace(folder)
    win.open_lesson(lesson_id)
    wait_until(app, lambda: win.detail.envelope is not None, 300)
    d = win.detail
    dur = win.lesson_data.duration_s
    centre = dur * 0.37

    def frame(action, spectrogram: bool = False) -> tuple[float, float]:
        """(wall ms, GUI-thread CPU ms) of one interaction and the repaint it causes."""
        w0, c0 = time.perf_counter(), time.thread_time()
        action()
        if spectrogram:
            d._refresh_spec()
        app.processEvents()  # range signals, waveform refresh (0 ms timer), repaint
        return (time.perf_counter() - w0) * 1000, (time.thread_time() - c0) * 1000

    out: dict[str, list[tuple[float, float]]] = {}
    d.show_all()
    app.processEvents()
    spans = dur * 0.8 ** np.arange(0, 60)
    spans = spans[spans >= 1.0]
    out["zoom in (whole -> 1 s), one wheel step per frame"] = [
        frame(lambda s=s: d.set_range(centre - s / 2, centre + s / 2)) for s in spans
    ]
    out["zoom out (1 s -> whole)"] = [
        frame(lambda s=s: d.set_range(centre - s / 2, centre + s / 2)) for s in spans[::-1]
    ]
    for span in (10.0, 120.0, 1800.0):
        d.set_range(centre, centre + span)
        app.processEvents()
        out[f"scroll at {span:g} s view"] = [frame(lambda: d.scroll(0.1)) for _ in range(40)]
    d.set_range(centre, centre + 60)
    out["spectrogram image update after a pause (60 s view, scrolling)"] = [
        frame(lambda: d.scroll(0.2), spectrogram=True) for _ in range(20)
    ]
    win.selection.select_rows([0])
    rows = list(range(0, len(win.lesson_data), max(1, len(win.lesson_data) // 40)))
    out["select utterance in table (timeline follows)"] = [
        frame(lambda r=r: win.table.view.selectRow(win.table.proxy.mapFromSource(win.table.model.index(r, 0)).row()))
        for r in rows
    ]
    win.shutdown()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "gui"), help="work folder (audio, workspace)")
    parser.add_argument("--markdown", help="also write the tables to this Markdown file")
    parser.add_argument("--short-min", type=float, default=45.0)
    parser.add_argument("--long-min", type=float, default=180.0)
    parser.add_argument("--utterances", type=int, default=3000)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from PySide6.QtWidgets import QApplication

    from esergui.app.shell.main import configure_app
    from esergui.workspace import Workspace

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = out / "workspace"
    app = QApplication.instance() or QApplication([])
    configure_app(app)
    ids = {}
    with Workspace.open(folder) as ws:
        known = {Path(lesson.audio_path).name: int(lesson.id) for lesson in ws.lessons()}
        for name, minutes, n_utts, seed in (
            ("lesson45.wav", args.short_min, None, 100),
            ("lesson180.wav", args.long_min, args.utterances, 200),
        ):
            if name in known:
                ids[name] = known[name]
                continue
            t0 = time.perf_counter()
            audio = out / name
            truth = build_audio(audio, minutes, seed)
            ids[name] = store_lesson(ws, audio, truth, n_utts, seed)
            print(
                f"built {name}: {minutes:g} min, {len(ws.utterances(ids[name]))} utterances in {time.perf_counter() - t0:.0f} s",
                flush=True,
            )
    settings = out / "settings.ini"
    lines = ["| measurement | value |", "|---|---|"]
    cold = open_times(app, settings, folder, ids["lesson45.wav"])
    warm = open_times(app, settings, folder, ids["lesson45.wav"])
    for label, r in (("first open (waveform envelope computed)", cold), ("second open (envelope cached)", warm)):
        lines.append(f"| 45-min lesson, {r['utterances']} utterances, {label}: views ready | {r['views_s']:.2f} s |")
        lines.append(f"| … waveform shown | {r['waveform_s']:.2f} s |")
        lines.append(f"| … spectrogram of the first minute shown | {r['spectrogram_s']:.2f} s |")
    frames = frame_times(app, settings, folder, ids["lesson180.wav"])
    lines += [
        "",
        "| 3-hour lesson, 3,000 utterances: interaction | frames | wall median ms | wall 95th pct ms | wall max ms | GUI-thread CPU median ms | CPU 95th pct ms |",
        "|---|---|---|---|---|---|---|",
    ]
    every = []
    for name, pairs in frames.items():
        every += pairs
        wall, cpu = np.array(pairs).T
        lines.append(
            f"| {name} | {len(wall)} | {np.median(wall):.1f} | {np.percentile(wall, 95):.1f} | {wall.max():.1f} | {np.median(cpu):.1f} | {np.percentile(cpu, 95):.1f} |"
        )
    wall, cpu = np.array(every).T
    lines.append(
        f"| all | {len(wall)} | {np.median(wall):.1f} | {np.percentile(wall, 95):.1f} | {wall.max():.1f} | {np.median(cpu):.1f} | {np.percentile(cpu, 95):.1f} |"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines.append(
        f"\nMachine: {os.cpu_count()} CPU cores, load average {load:.1f} when the frames were measured; "
        f"Qt platform {os.environ.get('QT_QPA_PLATFORM')}."
    )
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
