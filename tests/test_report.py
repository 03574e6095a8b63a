"""The one-page lesson report and the paper figure, on the demo lesson analysed for real
(once per module), read back with poppler's ``pdftotext``/``pdfinfo`` and as images."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from esergui.cli import main
from esergui.lesson import UNCERTAIN, Lesson, Utterance
from esergui.pipeline import Pipeline, PipelineSettings, analyze_into_workspace
from esergui.report import (
    FigureSize,
    ReportError,
    ReportLesson,
    figure_export,
    from_analysis,
    from_workspace,
    lesson_report,
    parse_time,
    render_report,
)
from esergui.report.page import FOOTER_TOP
from esergui.report.palette import UNCERTAIN_COLOUR, label_colours
from esergui.report.timeline import block_colour, lanes, tick_step
from esergui.report.wording import clock, key_figures, model_caveat
from esergui.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo" / "demo_lesson.ogg"


def poppler(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed (poppler-utils; bash packaging/setup.sh --dev installs it)")
    return exe


def pdf_text(path: Path) -> str:
    """The PDF's words with line breaks and runs of spaces folded to single spaces."""
    out = subprocess.run([poppler("pdftotext"), str(path), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(out.split())


def pdf_pages(path: Path) -> int:
    info = subprocess.run([poppler("pdfinfo"), str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory):
    """The demo lesson analysed once into a workspace: ``(workspace folder, AnalysisResult)``."""
    folder = tmp_path_factory.mktemp("report_ws")
    with Workspace.open(folder) as ws:
        lesson = ws.add_lesson(DEMO, name="demo_lesson")
        result, _ = analyze_into_workspace(ws, lesson.id, Pipeline(PipelineSettings(device="cpu")))
    return folder, result


@pytest.fixture(scope="module")
def demo(analysed) -> ReportLesson:
    folder, _ = analysed
    with Workspace.open(folder, create=False) as ws:
        return from_workspace(ws, "demo_lesson")


def test_report_pdf_is_one_page_with_the_lesson_and_every_figure_in_words(demo, tmp_path):
    row = demo.summary()
    out = lesson_report(demo, row, tmp_path / "report.pdf")
    assert pdf_pages(out) == 1
    text = pdf_text(out)
    assert "Lesson report demo_lesson" in text
    assert f"Length {clock(row['duration_s'])}" in text
    for figure in key_figures(row):
        assert figure.title in text
        assert figure.meaning.split(". ")[0] in text  # what it means ...
        assert figure.meaning.split(". ")[-1].rstrip(".") in text  # ... and its limits
    assert f"{row['student_turns_per_min']:.1f} per minute" in text
    assert f"{row['emotion_uncertain_pct']:.0f} % of the speech time" in text
    assert "uncertain (< 50 %)" in text  # the legend entry of the hatched blocks
    assert f"Emotions recognised by {demo.model_name}" in text
    for entry in model_caveat():  # the model card's limits, every bullet
        assert entry.split(". ")[0] in text
    assert render_report(demo, row).scale >= 0.9  # an ordinary lesson is barely compacted
    assert "never as a judgement about a person" in text


def test_report_png_is_an_a4_page(demo, tmp_path):
    out = lesson_report(demo, None, tmp_path / "report.png")
    image = mpimg.imread(out)
    assert image.shape[:2] == (1753, 1240)  # A4 at 150 dpi
    ink = (image[..., :3] < 0.5).any(axis=2)
    assert ink[: image.shape[0] // 10].any() and ink[-image.shape[0] // 4 :].any()  # title on top, model at the bottom
    assert ink.mean() < 0.2


def test_report_from_an_analysed_file_matches_the_workspace(analysed, demo):
    _, result = analysed
    fresh = from_analysis(result, "demo_lesson")
    a, b = fresh.summary(), demo.summary()
    for column in (
        "utterances",
        "teacher_talk_s",
        "student_turns_per_min",
        "longest_teacher_monologue_s",
        "wait_proxy_teacher_to_student_median_s",
        "emotion_uncertain_pct",
    ):
        assert a[column] == pytest.approx(b[column]), column
    assert fresh.date and fresh.date_source == "file modified"


def test_cli_report_and_figure_from_a_workspace_lesson(analysed, tmp_path, capsys):
    folder, _ = analysed
    pdf, svg = tmp_path / "r.pdf", tmp_path / "fig.svg"
    assert (
        main(
            [
                "report",
                "--workspace",
                str(folder),
                "--lesson",
                "demo_lesson",
                "--out",
                str(pdf),
                "--figure",
                str(svg),
                "--from",
                "1:00",
                "--to",
                "2:00",
                "--figure-size",
                "180x60mm",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.split() == [str(pdf), str(svg)]
    assert pdf_pages(pdf) == 1
    drawing = svg.read_text()
    assert "demo_lesson: emotion by role, 1:00-2:00" in drawing  # title kept as text
    assert 'width="510.236' in drawing  # 180 mm = 510.24 pt
    assert "time in the lesson (min:s)" in drawing


def test_cli_refuses_bad_requests_with_one_line(analysed, tmp_path, capsys):
    folder, _ = analysed
    cases = [
        (["--workspace", str(folder), "--lesson", "nope", "--out", str(tmp_path / "a.pdf")], "no lesson 'nope'"),
        (["--workspace", str(folder), "--lesson", "1", "--out", str(tmp_path / "a.docx")], "output format"),
        (
            ["--workspace", str(tmp_path / "none"), "--lesson", "1", "--out", str(tmp_path / "a.pdf")],
            "no workspace here",
        ),
        (["--workspace", str(folder), "--lesson", "1"], "nothing to write"),
        (
            ["--workspace", str(folder), "--lesson", "1", "--figure", str(tmp_path / "f.png"), "--figure-size", "big"],
            "cannot read the size",
        ),
        (
            ["--workspace", str(folder), "--lesson", "1", "--figure", str(tmp_path / "f.png"), "--from", "9:00"],
            "is empty",
        ),
        ([str(DEMO), "--workspace", str(folder), "--out", str(tmp_path / "a.pdf")], "--workspace goes with --lesson"),
    ]
    for args, words in cases:
        assert main(["report", *args]) == 2, args
        err = capsys.readouterr().err.strip()
        assert words in err and len(err.splitlines()) == 1, err
    assert not list(tmp_path.glob("a.*")) and not list(tmp_path.glob("f.*"))


def test_cli_report_from_an_audio_file(tmp_path):
    out = tmp_path / "from_audio.png"
    assert main(["report", str(DEMO), "--out", str(out), "--device", "cpu", "--quiet"]) == 0
    assert mpimg.imread(out).shape[:2] == (1753, 1240)


def test_figure_export_size_dpi_and_range(demo, tmp_path):
    out = figure_export(demo, tmp_path / "fig.png", size="180x65mm", dpi=200)
    assert mpimg.imread(out).shape[:2] == (int(65 / 25.4 * 200), int(180 / 25.4 * 200))
    pdf = figure_export(demo, tmp_path / "fig.pdf", start_s=30, end_s=90, size=FigureSize(7, 2.5), title="Figure 3")
    assert "Figure 3" in pdf_text(pdf)
    assert "0:30" in pdf_text(pdf) and "3:00" not in pdf_text(pdf)  # ticks of the range only
    with pytest.raises(ReportError, match="empty"):
        figure_export(demo, tmp_path / "none.png", start_s=500)
    with pytest.raises(ReportError, match="format"):
        figure_export(demo, tmp_path / "fig.jpg")


def _records() -> list[Utterance]:
    return [
        Utterance(
            0.0, 2.0, role="teacher", emotion="anger", confidence=0.9, probabilities={"anger": 0.9, "neutral": 0.1}
        ),
        Utterance(
            2.5, 4.0, role="teacher", emotion="anger", confidence=0.3, probabilities={"anger": 0.3, "neutral": 0.7}
        ),
        Utterance(
            5.0,
            6.0,
            role="student",
            emotion="neutral",
            confidence=0.2,
            human_emotion="anger",
            probabilities={"anger": 0.8, "neutral": 0.2},
        ),
        Utterance(7.0, 8.0, emotion=None),
    ]


def test_uncertain_utterances_are_grey_never_a_class_and_human_labels_never_uncertain():
    lesson = ReportLesson.from_records(Lesson("t", "x.wav", duration_s=10.0), _records(), ("anger", "neutral"))
    colours = dict(zip(lesson.labels, label_colours(lesson.labels)))
    fills = [block_colour(u, colours, 0.5) for u in lesson.utterances]
    assert fills[0] == colours["anger"]
    assert fills[1] == UNCERTAIN_COLOUR  # the model's 0.3 is below the threshold
    assert fills[2] == colours["anger"]  # a person set it: never uncertain
    assert lanes(lesson) == (["teacher", "student", ""], ["teacher", "students", "no role"])
    row = lesson.summary()
    assert row[f"teacher_emotion_{UNCERTAIN}_pct"] == pytest.approx(100 * 1.5 / 3.5)


def test_a_lesson_without_roles_or_emotions_still_renders(tmp_path):
    lesson = ReportLesson.from_records(
        Lesson("no roles", "x.wav", duration_s=30.0), [Utterance(1.0, 3.0), Utterance(5.0, 9.0)]
    )
    out = lesson_report(lesson, None, tmp_path / "r.pdf")
    text = pdf_text(out)
    assert "Talk time per role Not available" in text
    assert "No utterance has an emotion yet" in text
    empty = ReportLesson.from_records(Lesson("not analysed", "x.wav"), [])
    assert "Length 0:00 · 0 utterances Who talked" in pdf_text(lesson_report(empty, None, tmp_path / "e.pdf"))


def test_the_fullest_page_still_fits_above_the_footer():
    """Three lanes (teacher, students, no role), arousal, every emotion, a two-hour lesson
    with a long name: the content ends above the footer."""
    labels = ("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral")
    rng = np.random.default_rng(0)
    records, t = [], 0.0
    while t < 7200:
        p = rng.dirichlet(np.full(len(labels), 0.5))
        role = ("teacher", "student", None)[int(rng.integers(0, 3))]
        records.append(
            Utterance(
                t,
                t + 4.0,
                speaker=role and f"S{rng.integers(1, 9)}",
                role=role,
                emotion=labels[int(p.argmax())],
                confidence=float(p.max()),
                probabilities=dict(zip(labels, p.tolist())),
            )
        )
        t += 4.0 + float(rng.uniform(0.1, 9.0))
    lesson = ReportLesson.from_records(
        Lesson("A very long lesson name " * 4, "x.wav", duration_s=7200.0), records, labels
    )
    page = render_report(lesson)
    assert page.content_bottom > FOOTER_TOP and page.scale < 1.0  # drawn more compactly to fit
    assert len(lanes(lesson)[0]) == 3


def test_times_sizes_and_ticks_parse_as_written():
    assert parse_time("1:30") == 90 and parse_time("75.5") == 75.5 and parse_time("1:02:05") == 3725
    assert FigureSize.parse("180x60mm") == FigureSize(pytest.approx(180 / 25.4), pytest.approx(60 / 25.4))
    assert FigureSize.parse("7x2.5in") == FigureSize(7.0, 2.5)
    for bad in ("x", "7", "0x0mm", "2000x50mm", "180x60"):  # a bare size is inches
        with pytest.raises(ReportError):
            FigureSize.parse(bad)
    for bad in ("-3:00", "1:2:3:4", "soon"):
        with pytest.raises(ReportError):
            parse_time(bad)
    assert clock(201.2) == "3:21" and clock(3725) == "1:02:05"
    assert [tick_step(s) for s in (60, 201, 2700)] == [10, 30, 300]
    assert np.isfinite(tick_step(1e6))


def test_times_round_at_the_shown_precision():
    """A position shown with a decimal never reads ``0:60.0`` and a length never ``1 h 60 min``;
    the report's clock rounds to whole seconds through the same formatter."""
    from esergui.report.wording import clock
    from esergui.timefmt import format_duration, format_time

    assert format_time(59.96, 1) == "1:00.0" and format_time(3599.97, 1) == "1:00:00.0"
    assert format_time(59.6) == "0:59"  # a position shows the second it is in
    assert format_duration(7190) == "2 h 00 min" and format_duration(3590) == "1 h 00 min"
    assert format_duration(3725) == "1 h 02 min" and format_duration(600) == "10 min"
    assert clock(201.2) == "3:21" and clock(3725) == "1:02:05" and clock(59.6) == "1:00"
