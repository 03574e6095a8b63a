"""ELAN, Praat, RTTM, Audacity labels, CSV and JSON against real clients and back again.

Every ``.eaf`` written here validates against ELAN's own EAF 3.0 schema (from the pympi-ling
source package, fetched by ``packaging/setup.sh --dev``) and this project's stricter one
(``resources/schemas``), and is read by pympi-ling; every TextGrid is read by the ``praat`` program itself (a script prints its
tiers and interval counts); Praat also writes the short-format and UTF-16 TextGrids that the
importer reads. Round trips (export -> import) give the same annotations, and an import becomes
a lesson's human layer: the Model vs Human list, kappa and the retraining source see it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esergui.agreement import Annotated, compare, read_other
from esergui.formats.exporting import (
    EXPORT_FORMATS,
    export_lesson,
    export_workspace,
    shown_items,
)
from esergui.formats.importing import (
    AnnotationImportError,
    apply_to_lesson,
    read_annotations,
    read_tiers,
)
from esergui.formats.tiers import NO_LABEL, build_tiers
from esergui.lesson import AnalysisRun, Speaker, Utterance
from esergui.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "resources" / "schemas"
#: where packaging/fetch_eaf_schema.py puts ELAN's own schema (inside the virtual environment)
ELAN_EAF_SCHEMA = Path(sys.prefix) / "share" / "eser-studio" / "EAFv3.0.xsd"
LABELS = ("anger", "happiness", "neutral")
COUNT_SCRIPT = """form Count
  sentence file
endform
tg = Read from file: file$
n = Get number of tiers
writeInfoLine: "tiers ", n
for t to n
  name$ = Get tier name: t
  k = Get number of intervals: t
  appendInfoLine: name$, " | ", k
endfor
"""
CONVERT_SCRIPT = """form Convert
  sentence infile
  sentence outfile
  word encoding UTF-16
  word kind short
endform
Text writing preferences: encoding$
tg = Read from file: infile$
if kind$ = "short"
  Save as short text file: outfile$
else
  Save as text file: outfile$
endif
"""


def lesson_utterances() -> list[Utterance]:
    return [
        Utterance(
            0.5,
            2.0,
            speaker="S1",
            role="teacher",
            emotion="neutral",
            confidence=0.8,
            probabilities={"anger": 0.1, "happiness": 0.1, "neutral": 0.8},
            id=1,
        ),
        Utterance(
            2.25,
            3.5,
            speaker="S2",
            role="student",
            emotion="anger",
            confidence=0.6,
            probabilities={"anger": 0.6, "happiness": 0.1, "neutral": 0.3},
            human_emotion="happiness",
            note="asked =why\r\nagain",
            codes=("Q", "praise"),
            id=2,
        ),
        Utterance(4.0, 5.5, speaker="S1", role="teacher", id=3),  # no emotion at all
        Utterance(
            5.0,
            6.0,
            speaker="S2",
            role="student",
            emotion="neutral",
            confidence=0.9,
            probabilities={"anger": 0.05, "happiness": 0.05, "neutral": 0.9},
            id=4,
        ),  # overlaps 3
    ]


SPEAKERS = [Speaker("S1", "teacher", "Frau Ünal\x07"), Speaker("S2", "student", "数学 Schüler")]


@pytest.fixture(scope="module")
def eaf_schemas() -> list:
    """ELAN's own EAF 3.0 schema (fetched by ``packaging/setup.sh --dev`` from the pympi-ling
    source package) and this project's stricter one (unique ids, resolving references)."""
    import xmlschema

    assert ELAN_EAF_SCHEMA.is_file(), (
        f"ELAN's EAF 3.0 schema is missing at {ELAN_EAF_SCHEMA}: "
        "bash packaging/setup.sh --dev (or .venv/bin/python packaging/fetch_eaf_schema.py) fetches it"
    )
    return [xmlschema.XMLSchema(str(p)) for p in (ELAN_EAF_SCHEMA, SCHEMAS / "eser-eaf-3.0.xsd")]


@pytest.fixture(scope="module")
def praat(tmp_path_factory: pytest.TempPathFactory):
    exe = shutil.which("praat")
    if exe is None:
        pytest.skip("praat is not installed (bash packaging/setup.sh --dev installs it)")
    folder = tmp_path_factory.mktemp("praat")
    (folder / "count.praat").write_text(COUNT_SCRIPT)
    (folder / "convert.praat").write_text(CONVERT_SCRIPT)

    def count(path: Path) -> dict[str, int]:
        out = subprocess.run(
            [exe, "--run", str(folder / "count.praat"), str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.splitlines()
        tiers = dict(line.rsplit(" | ", 1) for line in out[1:])
        assert out[0] == f"tiers {len(tiers)}"
        return {k: int(v) for k, v in tiers.items()}

    def convert(path: Path, out: Path, encoding: str, kind: str) -> Path:
        subprocess.run(
            [exe, "--run", str(folder / "convert.praat"), str(path), str(out), encoding, kind],
            capture_output=True,
            timeout=60,
            check=True,
        )
        return out

    count.convert = convert  # type: ignore[attr-defined]
    return count


def check_eaf(path: Path, schemas: list) -> None:
    from pympi.Elan import Eaf

    for schema in schemas:
        schema.validate(str(path))
    assert Eaf(str(path)).get_tier_names()


def affect_tiers(items) -> list[str]:
    """Arousal and valence tiers are written when the utterance data has them."""
    return ["arousal", "valence"] if any(a.arousal is not None for a in items) else []


def key(items, fields=("speaker", "role", "emotion", "note", "codes")) -> list[tuple]:
    return [(round(a.start_s, 3), round(a.end_s, 3), *(getattr(a, f) for f in fields)) for a in items]


@pytest.mark.parametrize("layout", ["fields", "speakers"])
def test_eaf_and_textgrid_pass_real_clients_and_round_trip(tmp_path: Path, layout: str, eaf_schemas, praat) -> None:
    audio = tmp_path / "media" / "Ünit 1.ogg"
    audio.parent.mkdir()
    audio.write_bytes(b"")
    from esergui.formats.exporting import ExportOptions

    res = export_lesson(
        tmp_path / "out",
        "Ünit 1",
        lesson_utterances(),
        7.0,
        LABELS,
        SPEAKERS,
        ["eaf", "textgrid"],
        str(audio),
        ExportOptions(layout=layout),
    )
    eaf, grid = res.files
    check_eaf(eaf, eaf_schemas)
    # ELAN's schema is really applied: a document without its TIME_ORDER is refused
    import xmlschema

    broken = tmp_path / "broken.eaf"
    text = eaf.read_text(encoding="utf-8")
    broken.write_text(text[: text.index("<TIME_ORDER")] + text[text.index("</TIME_ORDER>") + 13 :], encoding="utf-8")
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        eaf_schemas[0].validate(str(broken))
    text = eaf.read_text(encoding="utf-8")
    assert 'RELATIVE_MEDIA_URL="../media/%C3%9Cnit%201.ogg"' in text and 'MIME_TYPE="audio/ogg"' in text
    assert f'MEDIA_URL="{audio.absolute().as_uri()}"' in text and "\x07" not in text
    counts = praat(grid)
    expected = shown_items(lesson_utterances(), SPEAKERS)
    if layout == "fields":
        assert res.clipped > 0  # utterance 4 starts before utterance 3 ends: clipped on each field tier
        assert set(counts) == {"speaker", "role", "emotion", "codes", "notes", *affect_tiers(expected)}
        assert counts["emotion"] == 4 + 4  # four utterances and the four gaps Praat needs between them
        assert f'text = "{NO_LABEL}"' in grid.read_text()  # the utterance without emotion is labelled
        expected[3] = Annotated(5.5, 6.0, expected[3].emotion, expected[3].role, expected[3].speaker)
    else:
        assert res.clipped == 0 and "Frau Ünal: emotion" in counts and "数学 Schüler: notes" in counts
    for path in (eaf, grid):
        back = read_annotations(path)
        want = key(expected)
        got = key(back)
        note = want[1][5].replace("\r\n", "\n")
        if path.suffix == ".TextGrid":
            note = note.replace("\n", " ")  # a TextGrid label is one line
        want[1] = (*want[1][:5], note, want[1][6])
        want = [(*w[:2], (w[2] or "").replace("\x07", "") or None, *w[3:]) for w in want]  # not XML, not a label
        assert got == want, path.name


def test_praat_written_textgrids_short_and_utf16_are_read(tmp_path: Path, praat) -> None:
    res = export_lesson(tmp_path, "lesson", lesson_utterances(), 7.0, LABELS, SPEAKERS, ["textgrid"])
    [grid] = res.files
    want = key(read_annotations(grid))
    for encoding in ("UTF-16", "UTF-8"):
        for kind in ("short", "long"):
            out = praat.convert(grid, tmp_path / f"{kind}_{encoding}.TextGrid", encoding, kind)
            raw = out.read_bytes()
            assert raw.startswith(b"\xfe\xff") == (encoding == "UTF-16")
            assert key(read_annotations(out)) == want, out.name
            names = [t.name for t in read_tiers(out)]
            assert names == ["speaker", "role", "emotion", *affect_tiers(read_annotations(grid)), "codes", "notes"]


def test_line_formats_and_json_round_trip(tmp_path: Path) -> None:
    res = export_lesson(tmp_path, "lesson", lesson_utterances(), 7.0, LABELS, SPEAKERS, EXPORT_FORMATS)
    files = {p.suffix if p.suffix != ".txt" else "labels": p for p in res.files if p.suffix != ".csv"}
    expected = shown_items(lesson_utterances(), SPEAKERS)
    rttm = read_annotations(files[".rttm"])
    assert key(rttm, ("speaker",)) == [
        (round(a.start_s, 3), round(a.end_s, 3), a.speaker.replace(" ", "_")) for a in expected
    ]  # overlaps stay in RTTM
    labels = read_annotations(files["labels"])
    assert key(labels, ("speaker", "role", "emotion")) == key(expected, ("speaker", "role", "emotion"))
    back = read_annotations(files[".json"])
    plain = shown_items(lesson_utterances(), ())
    assert key(back) == key(plain)
    csv_back = read_annotations(res.utterances_csv)
    plain[1] = Annotated(**{**plain[1].__dict__, "note": plain[1].note.replace("\r\n", "\n")})  # CSV: no bare CR
    assert key(csv_back) == key(plain) and [a.human for a in csv_back][1] == frozenset({"emotion"})


def test_real_rttm_round_trips_through_a_workspace(tmp_path: Path, conversation: Path) -> None:
    original = read_annotations(conversation / "sample.rttm")
    with Workspace.open(tmp_path / "ws") as ws:
        lesson = ws.add_lesson(conversation / "sample.wav", duration_s=30.0)
        report = apply_to_lesson(ws, lesson.id, original)
        assert report.created == len(original) and sorted(report.new_speakers) == ["speaker90", "speaker91"]
        [res] = export_workspace(ws, [lesson.id], tmp_path / "out", ["rttm"])
    again = read_annotations(res.files[0])
    assert key(again, ("speaker",)) == key(original, ("speaker",))


def test_import_becomes_the_human_layer(tmp_path: Path, emodb: Path) -> None:
    """An ELAN file from another annotator: its labels become human labels (Model vs Human list,
    retraining source), kappa compares it with the model, nothing silently overwritten."""
    model_layer = [
        Utterance(
            u.start_s,
            u.end_s,
            speaker=u.speaker,
            role=u.role,
            emotion=u.emotion,
            confidence=u.confidence,
            probabilities=u.probabilities,
        )
        for u in lesson_utterances()
    ]
    res = export_lesson(tmp_path, "theirs", lesson_utterances(), 7.0, LABELS, SPEAKERS, ["eaf"])
    with Workspace.open(tmp_path / "ws", user="rater-b") as ws:
        lesson = ws.add_lesson(emodb / "wav" / "03a01Fa.wav", duration_s=7.0)
        ws.store_analysis(lesson.id, AnalysisRun(labels=LABELS), model_layer, SPEAKERS)
        lid = int(lesson.id)
        for sp in SPEAKERS:
            ws.rename_speaker(lid, sp.label, sp.display_name)
        first = ws.utterances(lid)[0].id
        ws.set_emotion([first], "anger")  # a human label already there, which the file contradicts
        report = apply_to_lesson(ws, lid, read_annotations(res.files[0]))
        assert report.paired == 4 and report.created == 0 and report.kept == 1
        assert report.agreement is not None and report.agreement.fields["emotion"].n == 3
        utts = ws.utterances(lid)
        assert [u.human_emotion for u in utts] == ["anger", "happiness", None, "neutral"]
        assert utts[1].note == "asked =why\nagain" and utts[1].codes == ("Q", "praise")
        assert utts[1].edited_by == "rater-b"
        assert [(d.field, d.human, d.model) for d in ws.disagreements(lid)] == [
            ("emotion", "anger", "neutral"),
            ("emotion", "happiness", "anger"),
        ]
        from esergui.retrain import (
            human_label_counts,  # the retraining wizard's workspace source
        )

        assert human_label_counts(ws) == {lid: 3}
        assert ws.edits(lid)[-1].action == "import"
        again = apply_to_lesson(ws, lid, read_annotations(res.files[0]), overwrite=True)
        assert again.kept == 0 and ws.utterances(lid)[0].human_emotion == "neutral"
        ours = [Annotated.from_utterance(u) for u in ws.utterances(lid)]
        sha = ws.lesson(lid).audio_sha256
    theirs = read_other(res.files[0], sha)  # the agreement dialog takes ELAN files too
    assert compare(ours, theirs).fields["emotion"].observed == 1.0


def test_choose_tiers_of_a_foreign_eaf(tmp_path: Path) -> None:
    from pympi.Elan import Eaf

    eaf = Eaf()
    eaf.add_tier("Teacher", part="Ms Lee")
    eaf.add_tier("Transcript")
    eaf.add_annotation("Teacher", 1000, 2500, "happy")
    eaf.add_annotation("Transcript", 1000, 2500, "good morning")
    eaf.add_annotation("Teacher", 3000, 3500, "angry")
    path = tmp_path / "theirs.eaf"
    eaf.to_file(str(path))
    assert {t.name for t in read_tiers(path)} >= {"Teacher", "Transcript"}
    got = read_annotations(path, {"Teacher": "emotion", "Transcript": "note"})
    assert [(a.start_s, a.end_s, a.emotion, a.speaker, a.note) for a in got] == [
        (1.0, 2.5, "happy", "Ms Lee", "good morning"),
        (3.0, 3.5, "angry", "Ms Lee", ""),
    ]
    with pytest.raises(AnnotationImportError, match="no tier named 'Student'"):
        read_annotations(path, {"Student": "emotion"})


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.eaf", "<ANNOTATION_DOCUMENT>\n<HEADER>\n</TIME_ORDER>", "line 3, column"),
        (
            "slot.eaf",
            '<ANNOTATION_DOCUMENT><HEADER/><TIME_ORDER><TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="0"/></TIME_ORDER>'
            '<TIER TIER_ID="t" LINGUISTIC_TYPE_REF="x"><ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" '
            'TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts9"><ANNOTATION_VALUE>v</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION>'
            "</ANNOTATION></TIER></ANNOTATION_DOCUMENT>",
            'ANNOTATION_ID="a1".*TIME_SLOT_REF2 "ts9"',
        ),
        ("html.eaf", "<html><body/></html>", "root element is <html>"),
        ("x.TextGrid", "hello\nworld\n", "line 1 is 'hello'"),
        (
            "cut.TextGrid",
            'File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = 5\ntiers? <exists>\n'
            'size = 1\nitem []:\n    item [1]:\n        class = "IntervalTier"\n        name = "emotion"\n',
            "damaged TextGrid near line",
        ),
        ("bad.rttm", "SPEAKER a 1 0.0 1.0 <NA> <NA> x <NA> <NA>\nSPEAKER a 1 zero 1.0 <NA> <NA> x\n", "line 2: onset"),
        ("short.rttm", "SPEAKER a 1 0.0\n", "line 1: an RTTM SPEAKER line needs at least 8 fields"),
        ("labels.txt", "0.5\t1.0\thappy\n2.0 3.0 sad\n", "line 2: an Audacity label line"),
        ("bad.csv", "start_s,end_s,emotion\n0.5,1.0,anger\nx,2,anger\n", "line 3 has no valid start_s"),
        ("notes.docx", "x", "unknown annotation format '.docx'"),
    ],
)
def test_bad_files_name_the_line_or_element(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AnnotationImportError, match=message) as info:
        read_annotations(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_tier_layout_clips_overlaps_and_labels_empty_utterances() -> None:
    items = shown_items(lesson_utterances(), SPEAKERS)
    tiers = {t.name: t for t in build_tiers(items).tiers}
    emotions = tiers["emotion"].intervals
    assert all(a[1] <= b[0] for a, b in zip(emotions, emotions[1:]))  # never overlapping on one tier
    assert emotions[2][2] == NO_LABEL and emotions[3][:2] == (5.5, 6.0)
    assert [x for _, _, x in tiers["notes"].intervals] == ["asked =why\r\nagain"]
    per_speaker = {t.name for t in build_tiers(items, "speakers").tiers}
    assert "Frau Ünal\x07: emotion" in per_speaker and "speaker" not in per_speaker


def test_cli_export_and_import(tmp_path: Path, emodb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from esergui.cli import main

    with Workspace.open(tmp_path / "ws") as ws:
        for name, clip in (("数学", "03a01Fa.wav"), ("Ünit 1", "08a01Na.wav"), ("nit 1", "09a01Nb.wav")):
            lesson = ws.add_lesson(emodb / "wav" / clip, name=name, duration_s=7.0)
            ws.store_analysis(lesson.id, AnalysisRun(labels=LABELS), lesson_utterances()[:2], SPEAKERS)
    code = main(
        [
            "export",
            "--workspace",
            str(tmp_path / "ws"),
            "--lesson",
            "all",
            "--format",
            "eaf,textgrid,rttm,audacity,csv,json",
            "--out",
            str(tmp_path / "out"),
            "--csv-semicolon",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and len(out.strip().splitlines()) == 3
    assert len(list((tmp_path / "out").iterdir())) == 3 * 8 + 1  # + lessons_summary.csv
    assert out.startswith("数学 -> ") and "数学.eaf" in out and "Ünit_1.TextGrid" in out and "nit_1.json" in out
    assert (
        main(["import", str(tmp_path / "out" / "nit_1.eaf"), "--workspace", str(tmp_path / "ws"), "--list-tiers"]) == 0
    )
    assert "emotion: 2 intervals" in capsys.readouterr().out
    code = main(
        [
            "import",
            str(tmp_path / "out" / "数学_labels.txt"),
            "--workspace",
            str(tmp_path / "ws"),
            "--lesson",
            "nit 1",
            "--annotator",
            "B",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "2 annotations: 2 paired" in out and "model vs file: emotion: kappa" in out
    code = main(["export", "--workspace", str(tmp_path / "ws"), "--lesson", "Physik", "--out", str(tmp_path / "o2")])
    assert code == 2 and "no lesson 'Physik'" in capsys.readouterr().err
    code = main(["import", str(tmp_path / "out" / "nit_1.eaf"), "--workspace", str(tmp_path / "ws")])
    assert code == 2 and "say which lesson" in capsys.readouterr().err


def test_damaged_files_give_a_message_never_a_traceback(tmp_path: Path) -> None:
    """Random byte flips and cuts in every importable format: each read either works or raises
    AnnotationImportError with one line naming the file."""
    import random

    res = export_lesson(
        tmp_path / "good",
        "lesson",
        lesson_utterances(),
        7.0,
        LABELS,
        SPEAKERS,
        ["eaf", "textgrid", "rttm", "audacity", "json", "csv"],
    )
    sources = [p for p in res.files if not p.name.endswith(("_summary.csv", "_bins.csv"))]
    rng = random.Random(19)
    outcomes = {"read": 0, "refused": 0}
    for source in sources:
        data = source.read_bytes()
        for k in range(25):
            damaged = bytearray(data)
            if k % 3 == 0:
                damaged = damaged[: rng.randrange(len(damaged))]
            for _ in range(rng.randint(1, 8)):
                if damaged:
                    damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            path = tmp_path / f"{k}_{source.name}"
            path.write_bytes(bytes(damaged))
            try:
                read_annotations(path)
                outcomes["read"] += 1
            except AnnotationImportError as exc:
                assert str(path) in str(exc) and "\n" not in str(exc)
                outcomes["refused"] += 1
    assert outcomes["read"] > 0 and outcomes["refused"] > 0
