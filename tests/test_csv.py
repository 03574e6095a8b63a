"""The one CSV writer: quoting and formula neutralisation (CR/LF/tab, leading = + - @), rounding,
BOM / semicolon options, all-or-nothing writes (a write that fails leaves no partial file and
keeps the old one), and ``esergui predict --csv`` with hostile file names."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from esergui.agreement import read_csv
from esergui.formats.csvout import (
    CsvOptions,
    csv_text,
    decimals_for,
    neutralise,
    write_csv,
    write_rows,
)
from esergui.formats.files import ExportError, write_text

HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+49 call",
    "-take2",
    "@import",
    "\tTAB=1",
    "ok\r=cmd|' /C calc'!A0",
    "two\nlines",
    'a,b;c"d',
    '=HYPERLINK("http://x")',
]


def parse(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_neutralise_rules() -> None:
    for start in "=+-@\t\r\n":
        assert neutralise(start + "x").startswith("'")
    assert neutralise("-3.5") == "-3.5" and neutralise("+1e-3") == "+1e-3"  # plain numbers stay
    assert neutralise("fine = ok") == "fine = ok" and neutralise(-3.5) == -3.5 and neutralise(None) is None
    assert neutralise("a\r\nb\rc") == "a\nb\nc"  # no bare carriage return survives


def test_hostile_text_stays_in_its_cell_and_never_starts_a_formula() -> None:
    rows = [[k, text, text] for k, text in enumerate(HOSTILE)]
    text = csv_text(["n", "name", "=col"], rows)
    assert "\r" not in text.replace("\r\n", "")  # the only carriage returns end rows
    parsed = parse(text)
    assert len(parsed) == len(HOSTILE) + 1  # a carriage return in a name did not add rows
    assert parsed[0] == ["n", "name", "'=col"]
    for (k, original, _), row in zip(rows, parsed[1:]):
        assert row[0] == str(k) and row[1] == row[2]
        assert not row[1].startswith(("=", "+", "-", "@", "\t", "\r", "\n")), row
        assert row[1].lstrip("'") == original.replace("\r", "\n")
    # every text cell is quoted in the file itself
    for line in text.split("\r\n")[1:3]:
        assert line.split(",", 1)[1].startswith('"')


def test_numbers_rounded_per_column_and_plain() -> None:
    text = csv_text(
        ["start_s", "p_anger", "speech_pct", "n", "flag", "missing"],
        [[139.15999999999997, 0.123456, 33.33333, 7, True, float("nan")], [1e-9, 1.0, 100.0, 0, False, None]],
    )
    assert parse(text)[1:] == [["139.16", "0.1235", "33.33", "7", "1", ""], ["0", "1", "100", "0", "0", ""]]
    assert decimals_for("longest_teacher_monologue_start_s") == 3 and decimals_for("confidence") == 4
    assert decimals_for("student_turns_per_min") == 3 and decimals_for("wait_proxy_x_pct_ge_3s") == 2


def test_spreadsheet_options_bom_and_semicolon(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "lesson": ["Ünit 1"],
            "utterance_id": [1],
            "start_s": [0.5],
            "end_s": [2.25],
            "emotion": ["=anger"],
            "role": ["teacher"],
        }
    )
    path = write_csv(frame, tmp_path / "eu.csv", CsvOptions(bom=True, semicolon=True))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").split("\r\n")[1] == '"Ünit 1";1;0,5;2,25;"\'=anger";"teacher"'
    back = read_csv(path)  # this project's reader takes all its options back
    assert (back[0].start_s, back[0].end_s, back[0].emotion, back[0].role) == (0.5, 2.25, "=anger", "teacher")


def test_write_is_atomic_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = write_rows(["a"], [[1]], tmp_path / "x.csv")
    assert target.read_bytes() == b'"a"\r\n1\r\n'
    with pytest.raises(ExportError, match="cannot write"):
        write_text(tmp_path / "x.csv" / "below", "nope")  # a file where a folder should be
    assert target.read_bytes() == b'"a"\r\n1\r\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]  # no temporary file left


_FULL_DISK = r"""
import resource, signal, sys
from pathlib import Path
import pandas as pd
from esergui.formats.csvout import write_csv
from esergui.formats.files import ExportError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
folder = Path(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
try:
    write_csv(pd.DataFrame({"note": ["x" * 100] * 1000}), folder / "big_utterances.csv")
except ExportError as exc:
    print("ERROR", exc)
"""


def test_no_partial_file_when_the_disk_fills(tmp_path: Path) -> None:
    """A write that runs out of space (here: the file-size limit, which fails writes the same
    way a full disk does) names the cause and leaves neither a 0-byte nor a partial file."""
    out = subprocess.run([sys.executable, "-c", _FULL_DISK, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ERROR cannot write") and "big_utterances.csv" in out.stdout
    assert list(tmp_path.iterdir()) == []


def test_predict_csv_neutralises_file_names(tmp_path: Path, emodb: Path) -> None:
    names = ["=HYPERLINK(1).wav", "+49 call.wav", "-take2.wav", "@import.wav"]
    for name in names:
        shutil.copy(emodb / "wav" / "03a01Fa.wav", tmp_path / name)
    run = subprocess.run(
        [sys.executable, "-m", "esergui", "predict", "--csv", "pred.csv", "--device", "cpu", "--", *names],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    rows = parse((tmp_path / "pred.csv").read_text(encoding="utf-8"))
    assert rows[0][:3] == ["file", "emotion", "confidence"] and len(rows) == 5
    assert [r[0] for r in rows[1:]] == ["'" + n for n in names]
    for row in rows[1:]:
        assert 0.0 <= float(row[2]) <= 1.0 and len(row[2].split(".")[-1]) <= 4


def test_data_dictionary_documents_every_column(tmp_path: Path) -> None:
    """docs/DATA_DICTIONARY.md names every column of the utterances, summary and bins CSVs."""
    import re

    from esergui.formats.exporting import export_lesson
    from esergui.lesson import AnalysisRun, Utterance

    doc = (Path(__file__).resolve().parents[1] / "docs" / "DATA_DICTIONARY.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z0-9_<>]+)`", doc))
    utts = [
        Utterance(
            0.0,
            2.0,
            speaker="S1",
            role="teacher",
            emotion="anger",
            confidence=0.9,
            probabilities={"anger": 0.9, "neutral": 0.1},
        ),
        Utterance(
            2.5,
            4.0,
            speaker="S2",
            role="student",
            emotion="neutral",
            confidence=0.4,
            probabilities={"anger": 0.6, "neutral": 0.4},
            human_emotion="neutral",
        ),
    ]
    res = export_lesson(tmp_path, "x", utts, 5.0, ("anger", "neutral"), run=AnalysisRun(model_name="m"))
    for path in (res.utterances_csv, res.summary_csv, res.bins_csv):
        for column in pd.read_csv(path, nrows=0).columns:
            assert column in documented or re.sub(r"anger|neutral", "<label>", column) in documented, column
