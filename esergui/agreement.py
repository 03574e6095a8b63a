"""Agreement between two annotators of the same lesson (Qt-free).

Researchers who code lessons report inter-rater agreement: a second person annotates the same
recording (in their own workspace, or from an exported utterances CSV), the utterances of the
two annotations are paired by time overlap, and Cohen's kappa is computed for the emotion and
the role labels, with the list of pairs on which the two disagree.

Pairing (:func:`align`): one-to-one, greedily by overlap (largest first); a pair needs an
overlap of at least ``min_overlap`` (a fraction, default 0.5) of the shorter utterance.
Utterances left without a partner are listed as unmatched; they are not part of kappa.

Labels compared are the *final* labels (the human label where an annotator set one, else the
model's); :attr:`FieldAgreement.both_human` counts the pairs that both annotators labelled by
hand, which is what a paper should report beside kappa.

Kappa (:func:`cohen_kappa`): ``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the share of pairs with
the same label and ``p_e`` the chance agreement from the two annotators' label marginals.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from esergui.errors import EserError
from esergui.lesson import HUMAN, Utterance, stored_id

FIELDS = ("emotion", "role")


class AgreementError(EserError):
    """The other annotation cannot be read or does not belong to this lesson."""


@dataclass(frozen=True)
class Annotated:
    """One utterance of one annotator: time span (seconds) and final labels.

    ``human`` holds the fields (``"emotion"``, ``"role"``) this annotator set by hand.
    ``note``, ``codes``, ``arousal`` and ``valence`` travel with it through exports and
    imports (:mod:`esergui.formats`); agreement compares ``emotion`` and ``role`` only."""

    start_s: float
    end_s: float
    emotion: str | None
    role: str | None
    speaker: str | None = None
    human: frozenset[str] = frozenset()
    utterance_id: int | None = None
    note: str = ""
    codes: tuple[str, ...] = ()
    arousal: float | None = None
    valence: float | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def label(self, name: str) -> str | None:
        return getattr(self, name)

    @classmethod
    def from_utterance(cls, u: Utterance) -> Annotated:
        human = {f for f, src in (("emotion", u.emotion_source), ("role", u.role_source)) if src == HUMAN}
        return cls(
            u.start_s,
            u.end_s,
            u.final_emotion,
            u.final_role,
            u.final_speaker,
            frozenset(human),
            u.id,
            u.note or "",
            tuple(u.codes),
            _affect(u, "arousal"),
            _affect(u, "valence"),
        )

    @classmethod
    def model_layer(cls, u: Utterance) -> Annotated:
        """The model's labels of ``u`` only (what "the model" says, for model-vs-human kappa)."""
        return cls(u.start_s, u.end_s, u.emotion, u.role, u.speaker, frozenset(), u.id)


def _affect(u: Utterance, name: str) -> float | None:
    value = getattr(u, name, None)  # arousal/valence where the utterance data has them
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


@dataclass(frozen=True)
class Pair:
    """Two utterances (one per annotator) paired by ``overlap_s`` seconds of shared time."""

    a: Annotated
    b: Annotated
    overlap_s: float


@dataclass(frozen=True)
class Disagreement:
    """A pair whose ``field`` label differs: ``a`` is ours, ``b`` the other annotator's."""

    start_s: float
    end_s: float
    field: str
    a: str | None
    b: str | None
    utterance_id: int | None  # ours
    both_human: bool


@dataclass
class FieldAgreement:
    """Agreement on one field over the pairs where both annotators have a label.

    ``confusion[(a, b)]`` counts pairs labelled ``a`` by us and ``b`` by the other annotator."""

    field: str
    n: int
    observed: float  # share of pairs with the same label, in [0, 1] (NaN when n == 0)
    expected: float  # chance agreement from the marginals
    kappa: float  # NaN when undefined (no pairs, or both used one single label)
    both_human: int  # pairs labelled by hand by both annotators
    labels: tuple[str, ...] = ()
    confusion: dict[tuple[str, str], int] = dataclasses.field(default_factory=dict)  # "field" is a member here

    @property
    def interpretation(self) -> str:
        """Landis & Koch (1977) words for ``kappa``."""
        return interpret_kappa(self.kappa)


@dataclass
class AgreementReport:
    """Everything :func:`compare` found; ``fields`` maps ``"emotion"``/``"role"`` to figures."""

    pairs: list[Pair]
    unmatched_a: list[Annotated]
    unmatched_b: list[Annotated]
    fields: dict[str, FieldAgreement]
    disagreements: list[Disagreement]
    source_b: str = ""

    def summary_lines(self) -> list[str]:
        """Human-readable lines (for a log or a dialog)."""
        lines = [
            f"{len(self.pairs)} paired utterances; {len(self.unmatched_a)} only ours, {len(self.unmatched_b)} only theirs"
        ]
        for f in self.fields.values():
            k = "n/a" if math.isnan(f.kappa) else f"{f.kappa:.3f}"
            obs = "n/a" if math.isnan(f.observed) else f"{f.observed:.1%}"
            lines.append(
                f"{f.field}: kappa {k} ({f.interpretation}), agreement {obs} over {f.n} pairs, {f.both_human} labelled by hand by both"
            )
        return lines


def interpret_kappa(kappa: float) -> str:
    if math.isnan(kappa):
        return "undefined"
    for bound, word in ((0.0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if kappa <= bound:
            return word
    return "almost perfect"


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> tuple[float, float, float]:
    """``(kappa, observed, expected)`` for two equally long label sequences.

    ``kappa`` is NaN when there are no items or the expected agreement is 1 (both raters used
    one and the same label throughout, so chance explains everything)."""
    if len(a) != len(b):
        raise ValueError("both raters must label the same items")
    n = len(a)
    if n == 0:
        return math.nan, math.nan, math.nan
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb.get(k, 0) for k in ca) / (n * n)
    if expected >= 1.0 - 1e-12:
        return math.nan, observed, expected
    return (observed - expected) / (1.0 - expected), observed, expected


def align(
    a: Sequence[Annotated], b: Sequence[Annotated], min_overlap: float = 0.5
) -> tuple[list[Pair], list[Annotated], list[Annotated]]:
    """Pair utterances one-to-one by time overlap (module doc); returns ``(pairs in time
    order, unmatched of a, unmatched of b)``."""
    bs = sorted(b, key=lambda u: u.start_s)
    starts = [u.start_s for u in bs]
    longest = max((u.duration_s for u in bs), default=0.0)
    candidates: list[tuple[float, int, int]] = []
    for i, x in enumerate(a):
        j = bisect.bisect_left(starts, x.start_s - longest)
        while j < len(bs) and bs[j].start_s < x.end_s:
            y = bs[j]
            ov = min(x.end_s, y.end_s) - max(x.start_s, y.start_s)
            shorter = min(x.duration_s, y.duration_s)
            if ov > 0 and shorter > 0 and ov >= min_overlap * shorter:
                candidates.append((ov, i, j))
            j += 1
    candidates.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs = []
    for ov, i, j in candidates:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        pairs.append(Pair(a[i], bs[j], ov))
    pairs.sort(key=lambda p: (p.a.start_s, p.a.end_s))
    return pairs, [x for i, x in enumerate(a) if i not in used_a], [y for j, y in enumerate(bs) if j not in used_b]


def field_agreement(pairs: Iterable[Pair], name: str) -> FieldAgreement:
    """Kappa and confusion counts of one field over the pairs where both have a label."""
    la, lb, both = [], [], 0
    for p in pairs:
        x, y = p.a.label(name), p.b.label(name)
        if x is None or y is None:
            continue
        la.append(x)
        lb.append(y)
        both += name in p.a.human and name in p.b.human
    kappa, observed, expected = cohen_kappa(la, lb)
    return FieldAgreement(
        name,
        len(la),
        observed,
        expected,
        kappa,
        both,
        tuple(sorted(set(la) | set(lb))),
        dict(Counter(zip(la, lb))),
    )


def compare(
    a: Sequence[Annotated], b: Sequence[Annotated], min_overlap: float = 0.5, source_b: str = ""
) -> AgreementReport:
    """Align two annotations of one lesson and measure agreement on emotion and role."""
    pairs, only_a, only_b = align(a, b, min_overlap)
    fields = {name: field_agreement(pairs, name) for name in FIELDS}
    dis = [
        Disagreement(
            p.a.start_s,
            p.a.end_s,
            name,
            p.a.label(name),
            p.b.label(name),
            p.a.utterance_id,
            name in p.a.human and name in p.b.human,
        )
        for p in pairs
        for name in FIELDS
        if p.a.label(name) is not None and p.b.label(name) is not None and p.a.label(name) != p.b.label(name)
    ]
    return AgreementReport(pairs, only_a, only_b, fields, dis, source_b)


# ------------------------------------------------------------------------------- loading
def from_utterances(utterances: Iterable[Utterance]) -> list[Annotated]:
    return [Annotated.from_utterance(u) for u in utterances if not u.deleted]


def _cell(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    if text.startswith("'") and len(text) > 1 and text[1] in "=+-@\t\r\n":
        text = text[1:]  # undo the export's spreadsheet-safety prefix (esergui.formats.csvout)
    return text.strip() or None


def read_csv(path: str | Path, lesson: str | None = None) -> list[Annotated]:
    """Utterances from an ESER Studio utterances CSV (``esergui analyze`` or the app's export).

    Needs ``start_s``, ``end_s`` and at least one of ``emotion``/``role``; ``emotion_source``
    and ``role_source`` say which labels were set by hand. A CSV of several lessons needs
    ``lesson`` (the lesson name in its ``lesson`` column)."""
    import pandas as pd

    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = fh.readline()
        sep = ";" if header.count(";") > header.count(",") else ","  # the spreadsheet option writes ';'
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        raise AgreementError(f"{path}: cannot read the CSV ({exc})") from None
    frame.columns = [str(_cell(c) or c) for c in frame.columns]
    missing = {"start_s", "end_s"} - set(frame.columns)
    if missing or not ({"emotion", "role"} & set(frame.columns)):
        raise AgreementError(f"{path}: not an utterances CSV (it needs start_s, end_s and emotion or role columns)")
    if "lesson" in frame.columns:
        names = sorted(set(frame["lesson"]) - {""})
        if lesson is not None and lesson in names:
            frame = frame[frame["lesson"] == lesson]
        elif len(names) > 1:
            raise AgreementError(f"{path}: holds several lessons ({', '.join(names[:5])}); none is named '{lesson}'")
    out = []
    for k, row in enumerate(frame.to_dict("records")):
        try:
            start, end = float(row["start_s"].replace(",", ".")), float(row["end_s"].replace(",", "."))
        except ValueError:
            raise AgreementError(f"{path}: line {k + 2} has no valid start_s/end_s") from None
        if not (0 <= start < end):
            raise AgreementError(f"{path}: line {k + 2}: start_s {start} and end_s {end} are not a time span")
        human = {f for f in FIELDS if _cell(row.get(f"{f}_source")) == HUMAN}
        uid = _cell(row.get("utterance_id"))
        codes = tuple(c.strip() for c in (_cell(row.get("codes")) or "").split(";") if c.strip())
        out.append(
            Annotated(
                start,
                end,
                _cell(row.get("emotion")),
                _cell(row.get("role")),
                _cell(row.get("speaker")),
                frozenset(human),
                int(uid) if uid and uid.lstrip("-").isdigit() else None,
                _cell(row.get("note")) or "",
                codes,
            )
        )
    if not out:
        raise AgreementError(f"{path}: the CSV has no utterances")
    return out


def read_workspace(folder: str | Path, audio_sha256: str, lesson_name: str | None = None) -> list[Annotated]:
    """Utterances of the lesson with the same audio (by content hash) in another workspace."""
    from esergui.workspace import Workspace

    folder = Path(folder)
    with Workspace.open(folder, create=False) as other:
        lessons = other.lessons_with_hash(audio_sha256)
        if not lessons and lesson_name:
            lessons = [lesson for lesson in other.lessons() if lesson.name == lesson_name]
        if not lessons:
            raise AgreementError(f"{folder}: this workspace has no lesson with the same audio")
        utts = other.utterances(stored_id(lessons[0].id))
    if not utts:
        raise AgreementError(f"{folder}: the lesson '{lessons[0].name}' has no utterances there (not analysed?)")
    return from_utterances(utts)


def read_other(path: str | Path, audio_sha256: str, lesson_name: str | None = None) -> list[Annotated]:
    """Another annotator's work: a workspace folder (or its ``workspace.sqlite``), an
    utterances CSV, or any annotation file :mod:`esergui.formats.importing` reads (ELAN
    ``.eaf``, Praat TextGrid, RTTM, Audacity labels, lesson JSON)."""
    path = Path(path)
    if path.is_dir():
        return read_workspace(path, audio_sha256, lesson_name)
    if path.suffix.lower() in (".sqlite", ".db"):
        return read_workspace(path.parent, audio_sha256, lesson_name)
    if path.is_file() and path.suffix.lower() == ".csv":
        return read_csv(path, lesson_name)
    if path.is_file():
        from esergui.formats.importing import read_annotations

        try:
            return read_annotations(path, lesson=lesson_name)
        except EserError as exc:
            raise AgreementError(str(exc)) from None
    raise AgreementError(f"{path}: no such file or folder")
