"""The app's views over plain data: timelines (blocks, hit tests, selection), the detail view's
waveform and spectrogram on real speech, the utterance table's sorting and filters, and the
shared selection. No workspace or pipeline is involved here (see test_app_window.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import soundfile as sf

pytestmark = pytest.mark.qt

from PySide6.QtCore import Qt  # noqa: E402

from esergui.app.common.palette import OKABE_ITO, label_colours  # noqa: E402
from esergui.app.shell.selection import SelectionModel  # noqa: E402
from esergui.app.timeline.blocks import LANE_FILL, BlocksItem, confidence_alpha  # noqa: E402
from esergui.app.timeline.detail import DetailView  # noqa: E402
from esergui.app.timeline.overview import OverviewTimeline  # noqa: E402
from esergui.app.timeline.table import UtteranceTable  # noqa: E402
from esergui.app.timeline.table_model import COL  # noqa: E402
from esergui.app.timeline.timeaxis import emotion_curve, lane_layout  # noqa: E402
from esergui.audio import ArrayAudio  # noqa: E402
from esergui.audio.envelope import compute_envelope, visible_waveform  # noqa: E402
from esergui.audio.locked import LockedSource  # noqa: E402
from esergui.audio.spectrogram import COLS, DENSE_MAX_LEVEL, MelTiler, hop_s, level_for, mel_bin_of_hz  # noqa: E402
from esergui.review.lessondata import LessonData  # noqa: E402
from esergui.timefmt import format_time  # noqa: E402

LABELS = ("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral")


@pytest.fixture(scope="module")
def speech(emodb):
    """Real speech: six EmoDB clips with 1 s of silence between them, 16 kHz, and their spans."""
    names = ["03a01Fa.wav", "03a01Nc.wav", "08a01Ab.wav", "09a01Ea.wav", "10a01Ac.wav", "11a01Wc.wav"]
    parts, spans, t = [], [], 1.0
    parts.append(np.zeros(16000, np.float32))
    for name in names:
        x, sr = sf.read(emodb / "wav" / name, dtype="float32")
        assert sr == 16000
        parts.append(x)
        parts.append(np.zeros(16000, np.float32))
        spans.append((t, t + len(x) / sr))
        t += len(x) / sr + 1.0
    audio = np.concatenate(parts)
    return audio, spans


def lesson(speech) -> LessonData:
    audio, spans = speech
    n = len(spans)
    data = LessonData.from_columns(
        "real speech",
        len(audio) / 16000,
        LABELS,
        start=[a for a, _ in spans],
        end=[b for _, b in spans],
        label=[4, 6, 0, 3, 0, 5][:n],
        confidence=[0.9, 0.3, 0.7, 0.55, 0.95, 0.4][:n],
        speaker=["T", "S1", "T", "S2", "T", "S1"][:n],
        role=["teacher", "student", "teacher", "student", "teacher", "student"][:n],
        annotated=[False, True, False, False, True, False][:n],
        ids=[101, 102, 103, 104, 105, 106][:n],
    )
    data.source = LockedSource(ArrayAudio(audio))
    return data


# ---------------------------------------------------------------------------- plain helpers
def test_format_time_and_palette():
    assert format_time(3725.5) == "1:02:05"
    assert format_time(65.25, 1) == "1:05.2"
    assert format_time(-3) == "0:00"
    colours = label_colours(LABELS)
    assert len(set(colours)) == len(LABELS)
    assert colours[0] == OKABE_ITO["vermillion"] and colours[5] == OKABE_ITO["blue"]
    assert len(set(label_colours(["pos", "neg", "x", "y"]))) == 4  # unknown names still distinct
    assert list(confidence_alpha(np.array([0.1, 0.55, 0.95, np.nan]))) == [0, 2, 4, 4]


def test_lane_layout_and_emotion_curve(speech):
    data = lesson(speech)
    lanes, names = lane_layout(data, "role")
    assert names == ["teacher", "student"] and list(lanes) == [0, 1, 0, 1, 0, 1]
    lanes, names = lane_layout(data, "speaker")
    assert names[0] == "T" and set(names) == {"T", "S1", "S2"}
    t, shares = emotion_curve(data, step_s=0.5, sigma_s=2.0)
    assert shares.shape == (len(t), len(LABELS))
    speaking = shares.sum(axis=1) > 0.5
    assert np.allclose(shares[speaking].sum(axis=1), 1.0)
    # around the first utterance (happiness) happiness dominates
    k = int(np.argmin(np.abs(t - (data.start[0] + data.end[0]) / 2)))
    assert np.argmax(shares[k]) == 4


# ---------------------------------------------------------------------------- waveform/spectrogram
def test_waveform_decimation_matches_the_samples(speech):
    audio, spans = speech
    src = LockedSource(ArrayAudio(audio))
    env = compute_envelope(src, chunk_s=1.0)
    assert env.maxs.max() == pytest.approx(audio.max()) and env.mins.min() == pytest.approx(audio.min())
    whole = src.duration_s
    x, y = visible_waveform(src, env, 0, whole, 800)  # envelope path
    assert 0 < len(x) <= 2 * 800 + 2 and y.max() == pytest.approx(audio.max(), abs=1e-6)
    a, b = spans[2]
    x, y = visible_waveform(src, env, a, b, 1000)  # raw min/max path
    seg = audio[int(a * 16000) : int(np.ceil(b * 16000))]
    assert y.max() == pytest.approx(seg.max(), abs=1e-6) and y.min() == pytest.approx(seg.min(), abs=1e-6)
    x, y = visible_waveform(src, env, a, a + 0.02, 1000)  # raw samples
    assert len(y) == 320 and np.allclose(y, audio[int(a * 16000) : int(a * 16000) + 320])
    assert len(visible_waveform(None, None, 0, 1, 100)[0]) == 0


def test_spectrogram_tiles_show_speech_louder_than_silence(speech):
    audio, spans = speech
    src = LockedSource(ArrayAudio(audio))
    tiler = MelTiler(src)
    tile = tiler.tile(0, 0)  # first 2.56 s: 1 s silence, then speech
    assert tile.shape == (COLS, 80)
    silent = tile[: int(0.9 / hop_s(0))].mean()
    voiced = tile[int((spans[0][0] + 0.3) / hop_s(0)) : int(min(2.5, spans[0][1]) / hop_s(0))].mean()
    assert voiced > silent + 20  # dB
    # a coarse level (sparse windows) agrees with the fine level on where the speech is
    level = level_for(src.duration_s, 24)
    assert level > DENSE_MAX_LEVEL
    coarse = tiler.tile(level, 0)
    t_cols = (np.arange(COLS) + 0.5) * hop_s(level)
    inside = np.array([any(a <= t <= b for a, b in spans) for t in t_cols])
    valid = ~np.isnan(coarse).any(axis=1)
    assert coarse[inside & valid].mean() > coarse[~inside & valid].mean() + 10
    image, start, missing = tiler.assemble(0.0, 5.0, 0)
    assert missing == [1] and start == 0.0 and np.isnan(image[COLS:]).all()
    assert 0 < mel_bin_of_hz(1000) < 80


# ---------------------------------------------------------------------------- timelines
def test_blocks_hit_test_and_selection(qtbot, speech):
    data = lesson(speech)
    ov = OverviewTimeline()
    qtbot.addWidget(ov)
    ov.resize(1000, 220)
    ov.show()
    ov.set_lesson(data)
    blocks: BlocksItem = ov.blocks
    a, b = data.start[2], data.end[2]
    assert blocks.row_at((a + b) / 2, 0.5) == 2  # teacher lane
    assert blocks.row_at((a + b) / 2, 1.5) == -1  # student lane is empty there
    ov.set_lane_mode("speaker")
    lanes, names = lane_layout(data, "speaker")
    assert blocks.row_at((data.start[1] + data.end[1]) / 2, lanes[1] + 0.5) == 1
    with qtbot.waitSignal(ov.utteranceClicked) as sig:
        blocks.clicked.emit(3)
    assert sig.args == [3]
    ov.set_selected_rows([3])
    assert list(blocks._selected) == [3]

    def drawn() -> dict[int, tuple]:
        """Row -> (x, y, width) of the rectangle each colour group paints."""
        return {int(r): (q.x(), round(q.y(), 6), q.width()) for g in blocks._groups for r, q in zip(g.rows, g.rects)}

    def expected(d, lanes_) -> dict[int, tuple]:
        gap = (1 - LANE_FILL) / 2
        return {i: (d.start[i], round(lanes_[i] + gap, 6), d.end[i] - d.start[i]) for i in range(len(d))}

    assert drawn() == expected(data, ov.lanes)
    relabelled = dataclasses.replace(data, label=np.roll(data.label, 1))  # new colours, same times: rectangles reused
    rects = blocks._rects
    ov.recolour(relabelled)
    assert blocks._rects is rects and drawn() == expected(relabelled, ov.lanes)
    moved = dataclasses.replace(relabelled, end=data.end + 0.25)  # new times: new rectangles
    ov.recolour(moved)
    assert blocks._rects is not rects and drawn() == expected(moved, ov.lanes)
    ov.set_lane_mode("role")  # new lanes: new rectangles
    assert drawn() == expected(moved, ov.lanes)
    ov.set_region(2.0, 5.0)
    assert ov.region.getRegion() == pytest.approx((2.0, 5.0))


def test_detail_view_zoom_scroll_limits_and_spectrogram(qtbot, speech):
    data = lesson(speech)
    dv = DetailView()
    qtbot.addWidget(dv)
    dv.resize(1200, 600)
    dv.show()
    dv.set_lesson(data)
    dv.set_envelope(compute_envelope(data.source))
    dur = data.duration_s
    t0, t1 = dv.visible_range()
    assert t0 == pytest.approx(0) and t1 == pytest.approx(min(60, dur))
    dv.set_range(3.0, 9.0)
    dv.zoom(0.5)
    assert dv.visible_range() == pytest.approx((4.5, 7.5), abs=0.01)
    dv.zoom(0.01)  # never below 1 s
    t0, t1 = dv.visible_range()
    assert t1 - t0 == pytest.approx(1.0, abs=0.01)
    dv.scroll(-100)  # clamps at the start
    assert dv.visible_range()[0] == pytest.approx(0.0, abs=0.01)
    dv.set_range(2.0, 6.0)
    qtbot.keyClick(dv.view, Qt.Key.Key_Right)
    assert dv.visible_range()[0] == pytest.approx(3.0, abs=0.01)
    qtbot.keyClick(dv.view, Qt.Key.Key_End)
    assert dv.visible_range()[1] == pytest.approx(dur, abs=0.01)
    dv.ensure_visible(data.start[0], data.end[0])
    t0, t1 = dv.visible_range()
    assert t0 <= data.start[0] and data.end[0] <= t1

    # the spectrogram of what is visible arrives from the tile thread
    def spectrogram_shown() -> bool:
        image = dv.spec_image.image
        return image is not None and image.shape[1] == 80 and np.isfinite(image).mean() > 0.5

    qtbot.waitUntil(spectrogram_shown, timeout=10000)
    x0 = dv.spec_image.mapRectToParent(dv.spec_image.boundingRect()).left()
    assert x0 <= dv.visible_range()[0] + 1e-6  # the image covers the view from its left edge
    x, y = dv.wave_curve.getData()
    assert x is not None and len(x) > 100 and np.nanmax(np.abs(y)) > 0.05
    dv.shutdown()


# ---------------------------------------------------------------------------- table + selection
def test_table_sorts_filters_and_selects(qtbot, speech):
    data = lesson(speech)
    table = UtteranceTable()
    qtbot.addWidget(table)
    table.set_lesson(data)
    proxy = table.proxy
    assert proxy.rowCount() == 6 and "6 of 6" in table.count_label.text()
    table.view.sortByColumn(COL["Confidence"], Qt.SortOrder.DescendingOrder)
    first = proxy.mapToSource(proxy.index(0, 0)).row()
    assert first == 4  # confidence 0.95
    table.role_box.setCurrentIndex(table.role_box.findData("student"))
    assert proxy.rowCount() == 3
    table.min_conf.setValue(35)
    assert proxy.rowCount() == 2  # 0.55 and 0.4; 0.3 filtered out
    table.annot_box.setCurrentIndex(table.annot_box.findData(False))
    assert proxy.rowCount() == 2
    table.annot_box.setCurrentIndex(table.annot_box.findData(True))
    assert proxy.rowCount() == 0
    table.annot_box.setCurrentIndex(0)
    table.min_conf.setValue(0)
    table.role_box.setCurrentIndex(0)
    table.emotion_box.setCurrentIndex(table.emotion_box.findData(0))  # anger
    assert proxy.rowCount() == 2
    table.emotion_box.setCurrentIndex(0)
    assert proxy.rowCount() == 6
    with qtbot.waitSignal(table.rowsSelected) as sig:
        table.view.selectRow(proxy.mapFromSource(table.model.index(3, 0)).row())
    assert sig.args == [[3]]
    with qtbot.assertNotEmitted(table.rowsSelected):
        table.select_rows([1, 5])
    assert table.selected_rows() == [1, 5]


def test_selection_model_keeps_ids_across_reload(speech):
    data = lesson(speech)
    sel = SelectionModel()
    got = []
    sel.utterancesSelected.connect(lambda ids, src: got.append((ids, src)))
    sel.set_lesson(data)
    sel.select_rows([2, 4], "table")
    assert sel.ids == [103, 105] and got[-1] == ([103, 105], "table")
    reloaded = lesson(speech)
    sel.set_lesson(reloaded, keep_selection=True)
    assert sel.rows() == [2, 4] and sel.current_row == 4
    sel.select_ids([999])  # unknown ids are dropped
    assert sel.ids == []


def test_overview_legend_rebuilt_once_per_reload(qtbot, speech):
    """Reloading a lesson twice leaves one legend naming each emotion once, "uncertain" and
    the hint — nothing of the old legend is left drawn."""
    from PySide6.QtWidgets import QLabel

    view = OverviewTimeline()
    qtbot.addWidget(view)
    view.show()
    for _ in range(3):  # first load, then two reloads, with no event processing in between
        view.set_lesson(lesson(speech))
    qtbot.wait(20)
    labels = view.legend.findChildren(QLabel, options=Qt.FindChildOption.FindDirectChildrenOnly)
    texts = [lab.text() for lab in labels if lab.isVisible()]
    assert len(texts) == 1
    for name in (*LABELS, "uncertain"):
        assert texts[0].count(f"&nbsp;{name}<") == 1, name
    assert texts[0].count("opacity = confidence") == 1
    assert view.legend.minimumSizeHint().width() < 400  # it wraps instead of widening the window
