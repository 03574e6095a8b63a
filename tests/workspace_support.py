"""Shared helpers of the workspace tests: stored utterances, damaging the database behind the
store's back, and a real small disk."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from esergui.lesson import Utterance
from esergui.workspace import DB_NAME

LABELS = ("anger", "neutral")


def utterances(n: int = 6) -> list[Utterance]:
    return [
        Utterance(
            i * 3.0,
            i * 3.0 + 2.0,
            speaker="S1" if i % 2 else "S2",
            role="teacher" if i % 2 else "student",
            emotion="neutral",
            confidence=0.8,
            probabilities={"anger": 0.2, "neutral": 0.8},
        )
        for i in range(n)
    ]


def corrupt(folder: Path, *sql: str) -> None:
    con = sqlite3.connect(folder / DB_NAME)
    for statement in sql:
        con.execute(statement)
    con.commit()
    con.close()


@contextlib.contextmanager
def small_disk(path: Path, size: str):
    """A real tmpfs of ``size`` at ``path`` (root only; skips elsewhere)."""
    path.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
