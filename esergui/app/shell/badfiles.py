"""Files that could not be added: one dialog listing each with its reason (never one modal per
file), and truncated WAV/FLAC files kept as far as they decode: a copy in the workspace's
``repaired/`` folder is cut back to its last whole frame (:func:`esergui.recording.files.repair_audio_file`,
the repair a crashed recording gets) and added instead; the original file is never changed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import soundfile as sf

from esergui.errors import USER_ERRORS
from esergui.progress import CancelToken
from esergui.recording.files import repair_audio_file

if TYPE_CHECKING:
    from esergui.app.shell.window import MainWindow

KEEPABLE = (".wav", ".flac")  # truncated files of these formats keep what decodes
MAX_LISTED = 12  # reasons shown in the dialog's text; all of them are in its details


def keepable(path: str, reason: str) -> bool:
    """Whether a refused file is a truncated WAV/FLAC whose readable part can be kept."""
    return "truncated" in reason and Path(path).suffix.lower() in KEEPABLE


def report_problems(win: MainWindow, problems: list[tuple[str, str]], total: int) -> None:
    """One dialog for every file that was not added, each with its one-line reason."""
    if not problems:
        return
    lines = [
        f"• {Path(p).name}: {_short(p, r)}" + (" — its readable part is added as a copy" if keepable(p, r) else "")
        for p, r in problems
    ]
    head = (
        f"{len(problems)} of {total} files were not added as they are:"
        if total > 1
        else "The file was not added as it is:"
    )
    shown = lines[:MAX_LISTED] + (
        [f"… and {len(lines) - MAX_LISTED} more (see Details)"] if len(lines) > MAX_LISTED else []
    )
    win.errors.error(
        "Some files were not added" if len(problems) > 1 else "Cannot add lesson",
        "\n".join([head, *shown]),
        "\n".join(f"{p}: {r}" for p, r in problems),
    )


def _short(path: str, reason: str) -> str:
    """The reason without the file's full path (the list names the file already)."""
    return reason.replace(f"{path} ", "").replace(str(Path(path)), Path(path).name)


def keep_readable_job(folder: Path, paths: list[str]):
    """A job: copy each truncated file into ``folder`` and cut the copy back to what decodes.
    -> ``([(original, copy, seconds kept)], [(original, reason)])``."""

    def job(progress, cancel: CancelToken, partial) -> tuple[list[tuple[str, str, float]], list[tuple[str, str]]]:
        kept, failed = [], []
        folder.mkdir(parents=True, exist_ok=True)
        for k, path in enumerate(paths):
            cancel.raise_if_cancelled()
            progress("repair", k / max(1, len(paths)), Path(path).name)
            src = Path(path)
            copy = folder / f"{src.stem} (readable part){src.suffix}"
            try:
                shutil.copyfile(src, copy)
                frames = repair_audio_file(copy)
                if frames <= 0:
                    raise OSError("no audio could be read from it")
                kept.append((path, str(copy), frames / sf.info(str(copy)).samplerate))
            except (*USER_ERRORS, OSError, sf.LibsndfileError) as exc:
                copy.unlink(missing_ok=True)
                failed.append((path, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        return kept, failed

    return job
