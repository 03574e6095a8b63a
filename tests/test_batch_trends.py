"""Trends across lessons (``esergui.batch.trends``, ``esergui trends``): per teacher over the
lesson dates, arousal from the utterance rows, a PNG plot, clear errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from esergui.batch.trends import TrendsError, lesson_trends, plot_trends
from esergui.cli import main

SUMMARIES = pd.DataFrame(
    {
        "lesson": ["a1", "a2", "a3", "b1", "b2"],
        "teacher": ["Ms A", "Ms A", "Ms A", "Mr B", "Mr B"],
        "class": ["7a", "7a", "7a", "8b", "8b"],
        "date": ["2024-01-10", "2024-01-10", "2024-02-01", "2024-01-11", "not a date"],
        "teacher_talk_pct_speech": [80.0, 60.0, 50.0, 90.0, 70.0],
        "student_turns_per_min": [1.0, 3.0, 4.0, 0.5, 1.0],
        "wait_proxy_teacher_to_student_mean_s": [1.0, 2.0, 3.5, 0.8, 1.0],
    }
)
UTTERANCES = pd.DataFrame(
    {
        "lesson": ["a1", "a1", "a2", "a3", "b1"],
        "role": ["teacher", "student", "teacher", "teacher", "teacher"],
        "duration_s": [3.0, 1.0, 2.0, 2.0, 1.0],
        "arousal": [0.2, 0.6, -0.2, 0.1, 0.4],
    }
)


def test_trends_per_teacher_over_dates() -> None:
    trends = lesson_trends(SUMMARIES, "teacher", UTTERANCES)
    table = trends.table.set_index(["teacher", "date"])
    assert trends.undated == 1
    assert list(table.index) == [("Mr B", "2024-01-11"), ("Ms A", "2024-01-10"), ("Ms A", "2024-02-01")]
    same_day = table.loc[("Ms A", "2024-01-10")]
    assert same_day["lessons"] == 2  # two lessons on one date are averaged
    assert same_day["teacher_talk_pct_speech"] == pytest.approx(70.0)
    assert same_day["student_turns_per_min"] == pytest.approx(2.0)
    # arousal: speech-time-weighted per lesson (a1: (3*0.2 + 1*0.6) / 4 = 0.3; a2: -0.2), then averaged
    assert same_day["arousal_mean"] == pytest.approx((0.3 - 0.2) / 2)
    assert same_day["student_arousal_mean"] == pytest.approx(0.6)
    assert "wait_proxy_student_to_teacher_mean_s" not in table.columns  # not in the input: not invented


def test_trends_plot_and_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = plot_trends(lesson_trends(SUMMARIES, "class"), tmp_path / "t.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    SUMMARIES.to_csv(tmp_path / "all_summaries.csv", index=False)
    UTTERANCES.to_parquet(tmp_path / "all_utterances.parquet")
    assert main(["trends", str(tmp_path), "--by", "teacher"]) == 0
    assert "1 lessons have no date" in capsys.readouterr().err
    written = pd.read_csv(tmp_path / "trends_by_teacher.csv")
    assert len(written) == 3 and "arousal_mean" in written.columns
    assert (tmp_path / "trends_by_teacher.png").stat().st_size > 10_000


def test_trends_need_dates_and_the_group_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(TrendsError, match="no 'date' column"):
        lesson_trends(SUMMARIES.drop(columns="date"), "teacher")
    SUMMARIES.to_csv(tmp_path / "all_summaries.csv", index=False)
    assert main(["trends", str(tmp_path), "--by", "subject"]) == 2
    assert "no 'subject' column" in capsys.readouterr().err
