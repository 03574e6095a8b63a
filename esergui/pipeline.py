"""The analysis pipeline: decode -> segment -> speakers -> emotions, for one lesson.

::

    pipe = Pipeline(PipelineSettings(device="auto"))          # stages load lazily, once
    result = pipe.analyze("lesson.m4a", progress=on_progress, cancel=token,
                          on_utterances=show_partial)
    result.utterances, result.speakers, result.run.skipped, result.run.timings_s

    # or straight into a workspace, keeping human edits:
    result, report = analyze_into_workspace(ws, lesson_id, pipe, progress=..., cancel=...)

``progress(stage, fraction, message)`` is called with ``stage`` one of :data:`STAGES` and
``fraction`` in ``[0, 1]`` *of that stage*. ``cancel`` (an :class:`esergui.progress.CancelToken`)
is checked between and inside stages; cancelling raises :class:`esergui.progress.Cancelled`.
``on_utterances(batch)`` receives utterances as their emotions arrive (for a GUI that fills
the timeline while the model runs).

Optional stages: emotions run when the bundled weights (or the model file named) load;
otherwise the stage is skipped and the reason is in ``result.run.skipped`` (the CLI prints
it). The stages are imported plainly (:mod:`esergui.speakers`, :mod:`model.inference`). Both are injectable
(``Pipeline(recognizer=..., speaker_stage=...)``): a :class:`Recognizer` (any object with
``labels`` and ``predict(waveforms, progress=None, cancel=None) -> (N, C) probabilities``),
and a :class:`SpeakerStage` (any callable like :func:`esergui.speakers.attribute_speakers`);
``None`` skips the stage.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from esergui.audio import decode_to_cache
from esergui.emotion_stage import model_identity, recognise_emotions
from esergui.lesson import AnalysisRun, LessonStatus, Speaker, Utterance
from esergui.progress import Cancelled, CancelToken, check
from esergui.segment import VadSettings, segment_speech
from esergui.settings_io import plain_settings
from esergui.speakers import attribute_speakers
from esergui.stage_protocols import Recognizer, SpeakerStage
from esergui.workspace.reanalysis import OverlapIndex, trim_to_free
from model.errors import ModelFileError
from model.inference import EmotionRecognizer

if TYPE_CHECKING:
    from esergui.workspace import StoreReport, Workspace

STAGES = ("decode", "segment", "speakers", "emotions")

StageProgress = Callable[[str, float, str], None]
PartialCallback = Callable[[list[Utterance]], None]

AUTO: Literal["auto"] = "auto"


@dataclass
class PipelineSettings:
    """Settings of a run; stored (as JSON) with the run.

    ``vad``: an :class:`esergui.segment.VadSettings` (None: defaults); ``speakers``: an
    :class:`esergui.speakers.SpeakerSettings` (None: defaults); ``device``: ``auto``, ``cpu``,
    ``cuda`` (or ``mps``) for the emotion model; ``model_path``: a model file (None: the
    bundled model); ``batch_s``: seconds of speech per recognizer call (the granularity of
    partial results and of progress)."""

    vad: Any = None
    speakers: Any = None
    device: str = "auto"
    model_path: str | None = None
    batch_s: float = 240.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "vad": plain_settings(self.vad),
            "speakers": plain_settings(self.speakers),
            "model": {"path": self.model_path, "device": self.device, "batch_s": self.batch_s},
        }


@dataclass
class AnalysisResult:
    """One analysed lesson. ``utterances`` carry the model layer (plus, for spans a person
    had pinned, their ``id`` so :meth:`Workspace.store_analysis` refreshes them exactly)."""

    audio_path: Path
    duration_s: float
    utterances: list[Utterance]
    speakers: list[Speaker]
    run: AnalysisRun
    labels: tuple[str, ...] = ()

    @property
    def skipped(self) -> dict[str, str]:
        return self.run.skipped


class _Stage:
    """Times a stage and reports its progress."""

    def __init__(self, name: str, progress: StageProgress | None, timings: dict[str, float]) -> None:
        self.name, self._progress, self._timings = name, progress, timings

    def __enter__(self) -> _Stage:
        self._t0 = time.perf_counter()
        self(0.0, "starting")
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        self._timings[self.name] = round(time.perf_counter() - self._t0, 3)
        if exc_type is None:
            self(1.0, "done")

    def __call__(self, fraction: float, message: str = "") -> None:
        if self._progress is not None:
            self._progress(self.name, min(1.0, max(0.0, float(fraction))), message)


class Pipeline:
    """Runs the stages; holds the loaded emotion model and speaker stage between lessons."""

    def __init__(
        self,
        settings: PipelineSettings | None = None,
        *,
        recognizer: Recognizer | Literal["auto"] | None = AUTO,
        speaker_stage: SpeakerStage | Literal["auto"] | None = AUTO,
    ) -> None:
        self.settings = settings or PipelineSettings()
        self._recognizer = recognizer
        self._speaker_stage = speaker_stage
        self._skip_reasons: dict[str, str] = {}

    # ------------------------------------------------------------ optional stages
    def prepare(self) -> dict[str, str]:
        """Load the optional stages now (the emotion model, the speaker stage) and return
        ``{stage: reason}`` for those that will be skipped. Raises a user error when a model
        file that was asked for explicitly, or a device, is unusable."""
        _ = (self.recognizer, self.speaker_stage)  # the properties load the stages
        return dict(self._skip_reasons)

    @property
    def recognizer(self) -> Recognizer | None:
        """The emotion recognizer, loaded on first use (None when skipped)."""
        if self._recognizer == AUTO:
            self._recognizer = self._load_recognizer()
        elif self._recognizer is None:
            self._skip_reasons.setdefault("emotions", "no emotion model was given")
        return self._recognizer

    def _load_recognizer(self) -> Recognizer | None:
        try:
            return EmotionRecognizer.load(self.settings.model_path, device=self.settings.device)
        except ModelFileError as exc:
            if self.settings.model_path is not None:
                raise  # a model the user named must load
            self._skip_reasons["emotions"] = f"the bundled emotion model could not be loaded ({exc})"
            return None

    @property
    def speaker_stage(self) -> SpeakerStage | None:
        if self._speaker_stage == AUTO:
            self._speaker_stage = attribute_speakers
        elif self._speaker_stage is None:
            self._skip_reasons.setdefault("speakers", "speaker attribution was switched off")
        return self._speaker_stage

    @property
    def device(self) -> str | None:
        """The compute device of the emotion model (``CPU``, ``CUDA: NVIDIA H100``...), None
        when emotions are skipped."""
        rec = self.recognizer
        if rec is None:
            return None
        return str(getattr(rec, "device_name", None) or getattr(rec, "device", None) or self.settings.device)

    # ------------------------------------------------------------ running
    def analyze(
        self,
        audio_path: str | Path,
        *,
        cache_path: str | Path | None = None,
        pinned: Sequence[Utterance] = (),
        teacher_embedding: np.ndarray | None = None,
        progress: StageProgress | None = None,
        cancel: CancelToken | None = None,
        on_utterances: PartialCallback | None = None,
    ) -> AnalysisResult:
        """Analyse one recording. ``cache_path``: where to keep the 16 kHz decode (default: a
        temporary file, removed afterwards). ``pinned``: utterances a person edited (from
        :meth:`Workspace.pinned`): their spans are kept and analysed as they are.
        ``teacher_embedding``: an enrolled teacher voice for the speaker stage."""
        audio_path = Path(audio_path)
        if cache_path is not None:
            return self._analyze(
                audio_path, Path(cache_path), pinned, teacher_embedding, progress, cancel, on_utterances
            )
        with tempfile.TemporaryDirectory(prefix="esergui-") as tmp:
            return self._analyze(
                audio_path, Path(tmp) / "decoded_16k.wav", pinned, teacher_embedding, progress, cancel, on_utterances
            )

    def _analyze(
        self,
        audio_path: Path,
        cache: Path,
        pinned: Sequence[Utterance],
        teacher_embedding: Any,
        progress: StageProgress | None,
        cancel: CancelToken | None,
        on_utterances: PartialCallback | None,
    ) -> AnalysisResult:
        recognizer, speaker_stage = self.recognizer, self.speaker_stage  # load before timing
        timings: dict[str, float] = {}
        check(cancel)
        with _Stage("decode", progress, timings) as stage:
            source = decode_to_cache(audio_path, cache, progress=stage, cancel=cancel)
        sr = int(source.sample_rate)
        duration = source.n_samples / sr
        check(cancel)
        with _Stage("segment", progress, timings) as stage:
            segments = segment_speech(source, self.settings.vad or VadSettings(), progress=stage, cancel=cancel)
        kept = [p for p in pinned if not p.deleted]
        spans = sorted((p.start_s, p.end_s) for p in pinned)
        model_utts = trim_to_free((Utterance(float(s.start_s), float(s.end_s)) for s in segments), spans)
        check(cancel)
        speakers: list[Speaker] = []
        if speaker_stage is not None:
            with _Stage("speakers", progress, timings) as stage:
                span_objs = sorted([*model_utts, *kept], key=lambda u: u.start_s)
                turns = speaker_stage(
                    source, span_objs, self.settings.speakers, teacher_embedding, progress=stage, cancel=cancel
                )
            model_utts, kept, speakers = _apply_turns(turns, spans, kept)
        else:
            kept = [dataclasses.replace(p, speaker=None, role=None, role_confidence=None) for p in kept]
        utterances = sorted([*model_utts, *kept], key=lambda u: (u.start_s, u.end_s))
        labels: tuple[str, ...] = ()
        if recognizer is not None:
            check(cancel)
            with _Stage("emotions", progress, timings) as stage:
                labels = tuple(recognizer.labels)
                utterances = recognise_emotions(
                    recognizer, source, utterances, self.settings.batch_s, stage, cancel, on_utterances
                )
        else:
            utterances = [dataclasses.replace(u, emotion=None, confidence=None, probabilities={}) for u in utterances]
        model_name, model_version = model_identity(recognizer)
        run = AnalysisRun(
            settings=self.settings.to_dict(),
            model_name=model_name,
            model_version=model_version,
            labels=labels,
            device=self.device,
            timings_s=timings,
            skipped={s: r for s, r in self._skip_reasons.items() if s in STAGES},
        )
        return AnalysisResult(audio_path, duration, utterances, speakers, run, labels)


def _apply_turns(
    turns: Sequence[Any], spans: Sequence[tuple[float, float]], kept: Sequence[Utterance]
) -> tuple[list[Utterance], list[Utterance], list[Speaker]]:
    """Speaker turns -> model utterances (cut away from pinned spans), pinned utterances with
    the speaker overlapping them most, and the speakers with their roles."""
    utts = [
        Utterance(
            float(t.start_s), float(t.end_s), speaker=t.speaker, role=t.role, role_confidence=float(t.role_confidence)
        )
        for t in turns
    ]
    index = OverlapIndex((u.start_s, u.end_s, u) for u in utts)
    refreshed = []
    for p in kept:
        best = index.best(p.start_s, p.end_s)
        refreshed.append(
            dataclasses.replace(
                p,
                speaker=getattr(best, "speaker", None),
                role=getattr(best, "role", None),
                role_confidence=getattr(best, "role_confidence", None),
            )
        )
    talk: dict[str, dict[str | None, float]] = {}
    for u in utts:
        if u.speaker is None:  # every speaker turn names its speaker; nothing to list otherwise
            continue
        talk.setdefault(u.speaker, {}).setdefault(u.role, 0.0)
        talk[u.speaker][u.role] += u.duration_s
    speakers = [Speaker(label, max(roles, key=lambda r: roles[r])) for label, roles in talk.items()]
    return trim_to_free(utts, spans), refreshed, speakers


def analyze_into_workspace(
    ws: Workspace,
    lesson_id: int,
    pipeline: Pipeline,
    *,
    progress: StageProgress | None = None,
    cancel: CancelToken | None = None,
    on_utterances: PartialCallback | None = None,
    search: Sequence[str | Path] = (),
) -> tuple[AnalysisResult, StoreReport]:
    """Analyse a workspace lesson (decode cache in ``cache/``, the lesson's enrolled teacher
    voice, pinned human edits kept) and store the result. The lesson is ``analysing``
    meanwhile and gets its old status back on failure or cancel. Returns the result and the
    :class:`~esergui.workspace.StoreReport` (with disagreements to human labels)."""
    lesson = ws.lesson(lesson_id)
    audio = ws.find_audio(lesson_id, search)
    teacher = None
    if lesson.teacher_voice_id is not None:
        teacher = np.asarray(ws.teacher_voice(lesson.teacher_voice_id).embedding, dtype=np.float32)
    old_status = ws.begin_analysis(lesson_id)
    try:
        result = pipeline.analyze(
            audio,
            cache_path=ws.cache_file(lesson),
            pinned=ws.pinned(lesson_id),
            teacher_embedding=teacher,
            progress=progress,
            cancel=cancel,
            on_utterances=on_utterances,
        )
        t0 = time.perf_counter()
        report = ws.store_analysis(
            lesson_id, result.run, result.utterances, result.speakers, duration_s=result.duration_s
        )
        result.run.timings_s["store"] = round(time.perf_counter() - t0, 3)
        result.run.id = report.run_id
    except BaseException:
        ws.set_status(lesson_id, old_status if old_status is not LessonStatus.ANALYSING else LessonStatus.NOT_ANALYSED)
        raise
    return result, report


__all__ = [
    "Pipeline",
    "PipelineSettings",
    "AnalysisResult",
    "STAGES",
    "analyze_into_workspace",
    "Cancelled",
    "Recognizer",
    "SpeakerStage",
]
