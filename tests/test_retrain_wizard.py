"""The retraining wizard, driven like a user would (pytest-qt, offscreen): data check with the
problem report, label mapping, settings with a measured time estimate, training in a worker
thread with live curves, Cancel (keeping the best epoch, or nothing before the first), results
with the confusion matrix, saving, activation and the re-analysis request; and the models dialog.

``ESER_SCREENSHOTS=DIR`` saves every page as ``DIR/wizard_<n>_<page>.png`` (see docs/RETRAINING.md).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytestmark = pytest.mark.qt

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QWizard  # noqa: E402
from retrain_support import annotated_lesson, label_folder, subset, tiny_model  # noqa: E402

from esergui.app.retrain.common import DROP  # noqa: E402
from esergui.app.retrain.models_dialog import ModelsDialog  # noqa: E402
from esergui.app.retrain.wizard import RetrainWizard  # noqa: E402
from esergui.models import BUNDLED, ModelRegistry  # noqa: E402
from esergui.workspace import Workspace  # noqa: E402
from model.data import load_audio  # noqa: E402

SHOTS = os.environ.get("ESER_SCREENSHOTS")
WAIT = 60_000  # ms; the CPU is shared, training a tiny model takes seconds


def shot(wiz: RetrainWizard, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        wiz.grab().save(str(Path(SHOTS) / f"wizard_{wiz.currentId() + 1}_{name}.png"))


@pytest.fixture()
def ws(tmp_path: Path, emodb: Path):
    """A workspace whose active model is the tiny stand-in, with one lesson."""
    import torch

    torch.set_num_threads(1)
    with Workspace.open(tmp_path / "ws") as w:
        reg = ModelRegistry(w)
        reg.set_active(reg.import_file(tiny_model(emodb), name="classroom v1").name)
        w.add_lesson(emodb / "wav" / "03a01Fa.wav", name="Monday maths")
        yield w


@pytest.fixture()
def emodb_style(emodb: Path, tmp_path: Path) -> Path:
    """An EmoDB-style folder of 48 clips: 4 labels, 6 speakers (a held-out pair validates)."""
    folder = tmp_path / "emodb_small" / "wav"
    folder.mkdir(parents=True)
    for it in subset(emodb, ("anger", "sadness", "neutral", "boredom"), ("03", "08", "09", "10", "11", "12"), 2):
        (folder / Path(it.path).name).symlink_to(it.path)
    return folder.parent


def make_wizard(qtbot, ws: Workspace) -> RetrainWizard:
    wiz = RetrainWizard(ws, device="cpu")
    qtbot.addWidget(wiz)
    wiz.show()
    qtbot.waitExposed(wiz)
    return wiz


def check_data(qtbot, wiz: RetrainWizard, kind: str, path: Path | None) -> None:
    page = wiz.page(RetrainWizard.DATA)
    page.radios[kind].setChecked(True)
    if path is not None:
        page.path.setText(str(path))
    page.check_button.click()
    qtbot.waitUntil(lambda: page.runner is None, timeout=WAIT)


def go_next(qtbot, wiz: RetrainWizard, expected: int) -> None:
    assert wiz.button(QWizard.WizardButton.NextButton).isEnabled(), f"Next is disabled on page {wiz.currentId()}"
    wiz.next()
    qtbot.waitUntil(lambda: wiz.currentId() == expected, timeout=5000)


def to_training(qtbot, wiz: RetrainWizard, epochs: int, folder: Path) -> None:
    check_data(qtbot, wiz, "emodb", folder)
    go_next(qtbot, wiz, RetrainWizard.LABELS)
    go_next(qtbot, wiz, RetrainWizard.SETTINGS)
    page = wiz.page(RetrainWizard.SETTINGS)
    page.epochs.setValue(epochs)
    go_next(qtbot, wiz, RetrainWizard.TRAINING)


def test_wizard_end_to_end(qtbot, ws: Workspace, emodb_style: Path) -> None:
    wiz = make_wizard(qtbot, ws)
    assert wiz.currentId() == RetrainWizard.DATA
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled()  # data not checked yet
    data = wiz.page(RetrainWizard.DATA)
    assert not data.radios["workspace"].isEnabled()  # no human labels in this workspace yet
    check_data(qtbot, wiz, "emodb", emodb_style)
    rep = wiz.state.report
    assert rep is not None and len(rep.usable) == 48 and rep.ok
    assert data.label_table.rowCount() == 4 and data.speaker_table.rowCount() == 6
    assert "48 usable clips" in data.summary.text()
    shot(wiz, "data")

    go_next(qtbot, wiz, RetrainWizard.LABELS)
    labels = wiz.page(RetrainWizard.LABELS)
    assert labels.keep.isChecked()  # EmoDB labels are the model's labels
    assert {lab: c.currentText() for lab, c in labels.combos.items()} == {
        "anger": "anger",
        "boredom": "boredom",
        "neutral": "neutral",
        "sadness": "sadness",
    }
    labels.combos["boredom"].setCurrentText("neutral")  # merge boredom into neutral
    labels.new.setChecked(True)  # a new label set: anger, neutral, sadness
    assert "anger (12), neutral (24), sadness (12)" in labels.result.text()
    shot(wiz, "labels")

    go_next(qtbot, wiz, RetrainWizard.SETTINGS)
    assert wiz.state.labels == ["anger", "neutral", "sadness"]
    settings = wiz.page(RetrainWizard.SETTINGS)
    assert settings.group.checkedId() == 0 and settings.lr.value() == pytest.approx(3e-4)  # fine-tune, whole net
    assert settings.epochs.value() == 15
    settings.group.button(2).setChecked(True)  # from scratch: other defaults
    assert settings.epochs.value() == 40 and settings.lr.value() == pytest.approx(1e-3)
    settings.group.button(1).setChecked(True)  # classifier only
    assert settings.epochs.value() == 15 and settings.lr.value() == pytest.approx(1e-3)
    settings.group.button(0).setChecked(True)
    settings.epochs.setValue(2)  # the user's choice sticks from now on
    settings.group.button(2).setChecked(True)
    assert settings.epochs.value() == 2
    settings.group.button(0).setChecked(True)
    assert settings.settings().lr is None and settings.settings().learning_rate == pytest.approx(3e-4)
    qtbot.waitUntil(lambda: settings.runner is None and wiz.state.speed is not None, timeout=WAIT)
    assert "Estimated time: at most" in settings.estimate.text() and "ms per clip" in settings.estimate.text()
    assert "validation" in settings.split_text.text()
    shot(wiz, "settings")

    ticks: list[float] = []  # the GUI thread's event loop keeps running while the model trains
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(50)
    go_next(qtbot, wiz, RetrainWizard.TRAINING)
    training = wiz.page(RetrainWizard.TRAINING)
    assert training.running() and not wiz.button(QWizard.WizardButton.NextButton).isEnabled()
    qtbot.waitUntil(lambda: not wiz.button(QWizard.WizardButton.BackButton).isEnabled(), timeout=2000)
    qtbot.waitUntil(lambda: not training.running(), timeout=WAIT)
    timer.stop()
    gaps = np.diff(ticks)
    assert len(ticks) > 10 and gaps.max() < 2.0, f"GUI blocked for {gaps.max():.2f} s"
    print(f"\nGUI event loop during training: {len(ticks)} ticks, longest gap {gaps.max():.3f} s")
    assert len(training.curves.rows) == 2 and training.bar.value() == 1000
    assert "best epoch" in training.epoch_text.text()
    shot(wiz, "training")

    go_next(qtbot, wiz, RetrainWizard.RESULTS)
    results = wiz.page(RetrainWizard.RESULTS)
    out = wiz.state.outcome
    assert out is not None and not out.cancelled and out.base_figures is not None
    evidence = results.evidence  # esergui.retrain_evidence: a thin validation set gives no figure
    assert evidence is not None and evidence.new.n == out.figures.n
    if evidence.new.sufficient:
        assert "95 % interval" in results.headline.text()
    else:
        assert "too few to measure" in results.headline.text() and "UA 1" not in results.headline.text()
        assert results.table.item(0, 1).text() == "too few to measure" and results.table.item(0, 2).text() == "–"
    assert results.heat.labels == ["anger", "neutral", "sadness"]
    assert sum(map(sum, results.heat.matrix)) == out.figures.n
    assert results.table.item(0, 0).text().startswith("UA") and results.table.rowCount() >= 5
    results.name.setText("bundled")  # reserved: refused with a message
    wiz.next()
    assert wiz.currentId() == RetrainWizard.RESULTS and "reserved" in results.error.text()
    results.name.setText("Year 7, spring")
    shot(wiz, "results")

    go_next(qtbot, wiz, RetrainWizard.ACTIVATE)
    reg = ModelRegistry(ws)
    saved = reg.get("Year 7, spring")
    assert saved.labels == ("anger", "neutral", "sadness") and saved.figures["ua"] == pytest.approx(out.figures.ua)
    activate = wiz.page(RetrainWizard.ACTIVATE)
    # ticked only on sufficient evidence of doing better on the same clips, and it says why
    assert activate.activate.isChecked() == evidence.decision.activate and activate.lessons.count() == 1
    assert activate.why.text() == evidence.decision.reason and evidence.decision.reason in results.headline.text()
    shot(wiz, "activate")  # as a user first sees it
    activate.activate.setChecked(True)
    activate.lessons.item(0).setCheckState(Qt.CheckState.Checked)
    got: list = []
    wiz.activeModelChanged.connect(lambda name: got.append(("active", name)))
    wiz.reanalyseRequested.connect(lambda ids: got.append(("reanalyse", ids)))
    wiz.button(QWizard.WizardButton.FinishButton).click()
    assert got == [("active", "Year 7, spring"), ("reanalyse", [int(ws.lessons()[0].id)])]
    assert reg.active().name == "Year 7, spring" and ws.active_model.name == "Year 7, spring"


def test_workspace_annotations_as_training_data(qtbot, ws: Workspace, emodb: Path, tmp_path: Path) -> None:
    lid = annotated_lesson(ws, emodb, tmp_path, ("03", "08", "09"), 2)[0]
    wiz = make_wizard(qtbot, ws)
    page = wiz.page(RetrainWizard.DATA)
    assert page.radios["workspace"].isEnabled() and page.radios["workspace"].isChecked()  # the default then
    assert page.lessons.count() == 1 and page.lessons.item(0).data(Qt.ItemDataRole.UserRole) == lid
    assert "12 labelled" in page.radios["workspace"].text() and not page.path.isVisible()
    page.lessons.item(0).setCheckState(Qt.CheckState.Unchecked)
    page.check_button.click()
    assert "Tick at least one lesson" in page.status.text()
    page.lessons.item(0).setCheckState(Qt.CheckState.Checked)
    check_data(qtbot, wiz, "workspace", None)
    rep = wiz.state.report
    assert rep is not None and rep.label_counts == {"anger": 6, "sadness": 6} and len(rep.speaker_counts) == 3
    assert "12 usable clips" in page.summary.text() and "3 speakers" in page.summary.text()
    shot(wiz, "data_workspace")
    go_next(qtbot, wiz, RetrainWizard.LABELS)
    assert wiz.page(RetrainWizard.LABELS).keep.isChecked() and wiz.page(RetrainWizard.LABELS).isComplete()


def test_cancel_during_training_keeps_best_epoch(qtbot, ws: Workspace, emodb_style: Path) -> None:
    wiz = make_wizard(qtbot, ws)
    to_training(qtbot, wiz, 40, emodb_style)
    training = wiz.page(RetrainWizard.TRAINING)
    qtbot.waitUntil(lambda: len(training.curves.rows) >= 1, timeout=WAIT)
    assert "left" in training.epoch_text.text() and training.stop.isEnabled()
    shot(wiz, "training_running")
    training.stop.click()
    qtbot.waitUntil(lambda: not training.running(), timeout=WAIT)
    out = wiz.state.outcome
    assert out is not None and out.cancelled and 1 <= len(out.result.history) < 40
    assert "stopped by you" in training.epoch_text.text()
    go_next(qtbot, wiz, RetrainWizard.RESULTS)
    assert "stopped after epoch" in wiz.page(RetrainWizard.RESULTS).headline.text()


def test_cancel_before_the_first_epoch_keeps_nothing(qtbot, ws: Workspace, emodb_style: Path) -> None:
    wiz = make_wizard(qtbot, ws)
    to_training(qtbot, wiz, 5, emodb_style)
    training = wiz.page(RetrainWizard.TRAINING)
    training.stop.click()
    qtbot.waitUntil(lambda: not training.running(), timeout=WAIT)
    assert wiz.state.outcome is None and "nothing to keep" in training.status.text()
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled()
    assert wiz.button(QWizard.WizardButton.BackButton).isEnabled()
    wiz.back()
    assert wiz.currentId() == RetrainWizard.SETTINGS
    assert ModelRegistry(ws).active().name == "classroom v1"


def test_broken_data_folder_problem_report(qtbot, ws: Workspace, emodb: Path, tmp_path: Path) -> None:
    root = label_folder(subset(emodb, ("anger", "sadness"), ("03",), 3), tmp_path / "broken")
    (root / "anger" / "corrupt.wav").write_bytes(b"RIFF....WAVEgarbage")
    sf.write(str(root / "sadness" / "click.wav"), load_audio(emodb / "wav" / "03a01Wa.wav")[:1600], 16000)
    (root / "joy").mkdir()
    (root / "joy" / "only.wav").symlink_to(emodb / "wav" / "03a01Fa.wav")
    wiz = make_wizard(qtbot, ws)
    check_data(qtbot, wiz, "folder", root)
    page = wiz.page(RetrainWizard.DATA)
    texts = [page.problems.item(i).text() for i in range(page.problems.count())]
    assert any("cannot be read" in t and "corrupt.wav" in t for t in texts)
    assert any("shorter than" in t and "click.wav" in t for t in texts)
    assert any("joy" in t and "fewer than 2" in t for t in texts)
    assert any("one speaker" in t or "names no speakers" in t for t in texts)
    assert "Merge or drop the labels marked" in page.status.text() and "speakers unknown" in page.summary.text()
    shot(wiz, "data_problems")
    go_next(qtbot, wiz, RetrainWizard.LABELS)  # label problems can be fixed here
    labels = wiz.page(RetrainWizard.LABELS)
    assert labels.combos["joy"].currentText() == "happiness"  # a synonym of a model label
    assert not labels.isComplete() and "happiness" in labels.error.text()
    labels.combos["joy"].setCurrentText(DROP)
    assert labels.isComplete() and labels.error.text() == ""

    # nothing readable at all: the Data page does not let you on
    junk = tmp_path / "junk" / "anger"
    junk.mkdir(parents=True)
    (junk / "a.wav").write_bytes(b"not audio")
    wiz2 = make_wizard(qtbot, ws)
    check_data(qtbot, wiz2, "folder", junk.parent)
    assert not wiz2.page(RetrainWizard.DATA).isComplete()
    assert "check the data again" in wiz2.page(RetrainWizard.DATA).status.text()
    check_data(qtbot, wiz2, "folder", tmp_path / "does-not-exist")
    assert "does not exist" in wiz2.page(RetrainWizard.DATA).status.text()


def test_models_dialog_switch_export_import(qtbot, ws: Workspace, tmp_path: Path) -> None:
    dlg = ModelsDialog(ws)
    qtbot.addWidget(dlg)
    dlg.show()
    names = [dlg.table.item(r, 0).text() for r in range(dlg.table.rowCount())]
    assert names[0].startswith("Bundled") and names[1] == "★ classroom v1"
    out = tmp_path / "shared.safetensors"
    assert dlg.export_to("classroom v1", str(out)) and out.is_file()
    assert dlg.import_from(str(out)).name == "classroom v1 (2)"
    with qtbot.waitSignal(dlg.activeModelChanged, timeout=2000):
        assert dlg.activate("classroom v1 (2)")
    assert ModelRegistry(ws).active().name == "classroom v1 (2)"
    assert dlg.table.item(2, 0).text() == "★ classroom v1 (2)"
    if ModelRegistry(ws).models()[0].path is None:  # no bundled model installed: cannot switch to it
        assert not dlg.activate(BUNDLED) and "not installed" in dlg.status.text()
    bad = tmp_path / "bad.safetensors"
    data = bytearray(out.read_bytes())
    data[-10] ^= 0xFF
    bad.write_bytes(bytes(data))
    assert dlg.import_from(str(bad)) is None and "checksum" in dlg.status.text()
    assert dlg.table.rowCount() == 3
    if SHOTS:
        dlg.grab().save(str(Path(SHOTS) / "models_dialog.png"))
    with qtbot.waitSignal(dlg.activeModelChanged, timeout=2000):  # removing the active one
        assert dlg.remove("classroom v1 (2)")
    assert dlg.table.rowCount() == 2 and ModelRegistry(ws).active().bundled


def test_tools_menu_opens_the_wizard_and_the_models_dialog(qtbot, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from esergui.app.shell.window import MainWindow

    win = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    texts = [a.text() for a in win.menu("tools").actions()]
    assert "&Retrain Emotion Model…" in texts and "Emotion &Models…" in texts
    win.actions_["retrain"].trigger()  # no workspace yet: a clear message, no wizard
    assert win.errors.history[-1][0] == "No workspace" and getattr(win, "retrain_wizard", None) is None
    win.errors.last_box.close()
    assert win.open_workspace(tmp_path / "ws")
    win.actions_["retrain"].trigger()
    wiz = win.retrain_wizard
    assert isinstance(wiz, RetrainWizard) and wiz.isVisible() and wiz.ws is win.workspace
    wiz.reject()
    win.actions_["models"].trigger()
    assert isinstance(win.models_dialog, ModelsDialog) and win.models_dialog.isVisible()
    win.models_dialog.reject()
    win.close_workspace()
