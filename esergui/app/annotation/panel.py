"""The annotation panel: what the selected utterances carry, and one-click edits with the keys
shown beside them (the emotion legend: key, colour, label), the note, codes, review progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from esergui.app.annotation.note_editor import NoteEditor
from esergui.app.common.palette import label_colours
from esergui.lesson import HUMAN, STUDENT, TEACHER, Utterance, stored_id
from esergui.timefmt import format_time

if TYPE_CHECKING:
    from esergui.app.annotation.controller import AnnotationController

HUMAN_COLOUR = "#0072B2"
MODEL_COLOUR = "#777777"


def _swatch(colour: str) -> QIcon:
    pm = QPixmap(12, 12)
    pm.fill(QColor(colour))
    return QIcon(pm)


def source_text(value: str | None, source: str | None) -> str:
    """``anger`` + ``human`` -> rich text with the source as a coloured tag."""
    if not value:
        return "<i>none</i>"
    colour = HUMAN_COLOUR if source == HUMAN else MODEL_COLOUR
    return f"<b>{value}</b> <span style='color:{colour}'>({source or 'model'})</span>"


def _mixed(values: list) -> bool:
    return len(set(values)) > 1


class AnnotationPanel(QScrollArea):
    """Reads the controller's selection; its buttons call the controller's edit methods."""

    def __init__(self, controller: AnnotationController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.c = controller
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # contents fit the dock's width
        body = QWidget()
        self.setWidget(body)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(6)

        self.title = QLabel("No utterance selected")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        lay.addWidget(self.title)

        # ---- emotion legend = buttons
        emo_box = QGroupBox("Emotion — keys 1–9, 0 = the model's")
        self.emo_grid = QGridLayout(emo_box)
        self.emo_grid.setContentsMargins(6, 4, 6, 4)
        self.emo_grid.setHorizontalSpacing(4)
        self.emo_grid.setVerticalSpacing(2)
        self.emo_buttons: list[QToolButton] = []
        self.emo_state = QLabel("")
        self.emo_state.setTextFormat(Qt.TextFormat.RichText)
        self.emo_state.setWordWrap(True)
        lay.addWidget(emo_box)

        # ---- role and speaker
        who_box = QGroupBox("Role and speaker")
        who = QGridLayout(who_box)
        who.setContentsMargins(6, 4, 6, 4)
        self.role_buttons = {}
        for col, (role, key) in enumerate(((TEACHER, "T"), (STUDENT, "S"))):
            b = self._button(
                f"{key}  {role}", f"Mark as {role} talk ({key})", lambda checked=False, r=role: self.c.set_role(r)
            )
            b.setCheckable(True)
            self.role_buttons[role] = b
            who.addWidget(b, 0, col)
        model_role = self._button(
            "model's", "Clear the human role: the model's shows again", lambda: self.c.set_role(None)
        )
        who.addWidget(model_role, 0, 2)
        self.role_state = QLabel("")
        self.role_state.setTextFormat(Qt.TextFormat.RichText)
        who.addWidget(self.role_state, 1, 0, 1, 3)
        self.speaker_box = QComboBox()
        self.speaker_box.setToolTip(
            "Give the selected utterances to this speaker (the Speakers panel renames and merges)"
        )
        self.speaker_box.activated.connect(self._speaker_chosen)
        who.addWidget(QLabel("Speaker"), 2, 0)
        who.addWidget(self.speaker_box, 2, 1, 1, 2)
        teacher = self._button(
            "Assign to teacher  (Shift+T)",
            "Give the selected utterances to the teacher's voice",
            lambda: self.c.assign_to_teacher(),
        )
        who.addWidget(teacher, 3, 0, 1, 3)
        lay.addWidget(who_box)

        # ---- codes
        self.codes_box = QGroupBox("Codes")
        self.codes_grid = QGridLayout(self.codes_box)
        self.codes_grid.setContentsMargins(6, 4, 6, 4)
        self.codes_grid.setVerticalSpacing(0)
        self.code_checks: dict[str, QCheckBox] = {}
        lay.addWidget(self.codes_box)

        # ---- note
        note_box = QGroupBox("Note  (E)")
        nl = QVBoxLayout(note_box)
        nl.setContentsMargins(6, 4, 6, 4)
        self.note = NoteEditor(self._save_note, self._holds_note, self._back_to_table)
        nl.addWidget(self.note)
        lay.addWidget(note_box)

        # ---- review
        rev_box = QGroupBox("Review")
        rl = QGridLayout(rev_box)
        rl.setContentsMargins(6, 4, 6, 4)
        self.reviewed = QCheckBox("Reviewed  (R)")
        self.reviewed.setToolTip("Mark the selected utterances as checked by a person")
        self.reviewed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reviewed.clicked.connect(lambda: self.c.set_reviewed(self.reviewed.isChecked()))
        rl.addWidget(self.reviewed, 0, 0, 1, 2)
        self.progress = QProgressBar()
        self.progress.setToolTip("Utterances of this lesson marked reviewed")
        self.progress.setFormat("%v of %m reviewed (%p%)")
        rl.addWidget(self.progress, 1, 0, 1, 2)
        nav = [
            ("◀ Previous", "Previous utterance (Up)", lambda: self.c.next(-1)),
            ("Next ▶", "Next utterance (Down)", lambda: self.c.next(1)),
            ("Next unreviewed  (U)", "Next utterance not marked reviewed", lambda: self.c.next_unreviewed(1)),
            (
                "Next low confidence  (N)",
                "Next utterance the model is unsure about",
                lambda: self.c.next_low_confidence(1),
            ),
        ]
        for i, (text, tip, slot) in enumerate(nav):
            rl.addWidget(self._button(text, tip, slot), 2 + i // 2, i % 2)
        lay.addWidget(rev_box)

        # ---- boundaries
        edit_box = QGroupBox("Boundaries")
        el = QGridLayout(edit_box)
        el.setContentsMargins(6, 4, 6, 4)
        for i, (text, tip, slot) in enumerate(
            (
                ("Split at cursor  (X)", "Split the utterance at the play cursor", lambda: self.c.split_at()),
                (
                    "Merge  (M)",
                    "Merge the selected utterances, or the selected one with the next",
                    lambda: self.c.merge(),
                ),
                ("Delete  (Del)", "Delete the selected utterances", lambda: self.c.delete()),
                (
                    "New in marked range  (Ins)",
                    "Shift+drag in the detail view to mark speech the analysis missed",
                    lambda: self.c.create_in_marked(),
                ),
            )
        ):
            el.addWidget(self._button(text, tip, slot), i // 2, i % 2)
        hint = QLabel(
            "Drag the edges of the selected utterance in the detail view to move them "
            "(they snap to quiet points of the waveform)."
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #5a5a5a;")
        el.addWidget(hint, 2, 0, 1, 2)
        lay.addWidget(edit_box)

        self.who = QLabel("")
        self.who.setWordWrap(True)
        self.who.setStyleSheet("color: #5a5a5a;")
        lay.addWidget(self.who)
        lay.addStretch(1)

        controller.panelsRefresh.connect(self.refresh)
        controller.codesChanged.connect(self._build_codes)
        controller.noteRequested.connect(self.focus_note)
        self._build_codes()
        self.refresh()

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys keep working in the table / timeline
        b.clicked.connect(slot)
        return b

    # ------------------------------------------------------------ building
    def _build_emotions(self, labels: tuple[str, ...]) -> None:
        if [b.property("label") for b in self.emo_buttons] == list(labels):
            return
        while self.emo_grid.count():
            item = self.emo_grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None and w is not self.emo_state:
                w.hide()
                w.deleteLater()
        self.emo_buttons = []
        colours = label_colours(labels)
        for k, (name, colour) in enumerate(zip(labels[:9], colours), 1):
            b = QToolButton()
            b.setText(f"{k}  {name}")
            b.setIcon(_swatch(colour))
            b.setProperty("label", name)
            b.setCheckable(True)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            b.setToolTip(f"Set the emotion to {name} (key {k})")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda checked=False, n=name: self.c.set_emotion(n))
            self.emo_buttons.append(b)
            self.emo_grid.addWidget(b, (k - 1) // 2, (k - 1) % 2)
        model = QToolButton()
        model.setText("0  the model's")
        model.setToolTip("Clear the human emotion: the model's shows again (key 0)")
        model.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        model.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        model.clicked.connect(lambda: self.c.set_emotion(None))
        n = len(self.emo_buttons)
        self.emo_grid.addWidget(model, n // 2, n % 2)
        self.emo_grid.addWidget(self.emo_state, n // 2 + 1, 0, 1, 2)

    def _build_codes(self) -> None:
        while self.codes_grid.count():
            item = self.codes_grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()
                w.deleteLater()
        self.code_checks = {}
        codes = self.c.codes
        for i, code in enumerate(codes):
            cb = QCheckBox(f"{code.key}  {code.name}" if code.key else code.name)
            cb.setToolTip(
                (code.description + "  " if code.description else "") + (f"(key {code.key})" if code.key else "")
            )
            cb.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            cb.clicked.connect(lambda checked=False, n=code.name: self.c.toggle_code(n))
            self.code_checks[code.name] = cb
            self.codes_grid.addWidget(cb, i // 2, i % 2)
        edit = self._button("Edit code list…", "Change the researcher codes and their keys", self.c.edit_codes)
        self.codes_grid.addWidget(edit, (len(codes) + 1) // 2, 0, 1, 2)
        self.refresh()

    # ------------------------------------------------------------- showing
    def refresh(self) -> None:
        c = self.c
        self._build_emotions(c.labels)
        recs = c.selected_records()
        enabled = bool(recs) and c.editable(quiet=True)
        for w in (
            *self.emo_buttons,
            *self.role_buttons.values(),
            *self.code_checks.values(),
            self.reviewed,
            self.note,
            self.speaker_box,
        ):
            w.setEnabled(enabled)
        done, total = c.review_progress()
        self.progress.setMaximum(max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} of {total} reviewed (%p%)" if total else "no utterances")
        self._fill_speakers(recs)
        if not recs:
            self.title.setText("<b>No utterance selected</b> — click one in the table or a timeline")
            self.emo_state.setText("")
            self.role_state.setText("")
            self.who.setText("")
            for b in (*self.emo_buttons, *self.role_buttons.values()):
                b.setChecked(False)
            self.note.show_note([], "")
            self._set_checks(recs)
            return
        if len(recs) == 1:
            u = recs[0]
            row = c.data.row_of_id(stored_id(u.id))
            self.title.setText(
                f"<b>Utterance {row + 1}</b> of {len(c.data)} · {format_time(u.start_s, 2)}–"
                f"{format_time(u.end_s, 2)} · {u.duration_s:.2f} s"
                + (" · <span style='color:#0072B2'>boundaries by a person</span>" if u.boundary_source == HUMAN else "")
            )
        else:
            span = (min(u.start_s for u in recs), max(u.end_s for u in recs))
            self.title.setText(
                f"<b>{len(recs)} utterances selected</b> · {format_time(span[0], 1)}–{format_time(span[1], 1)}"
                " · edits apply to all of them"
            )
        emos = [u.final_emotion for u in recs]
        for b in self.emo_buttons:
            b.setChecked(not _mixed(emos) and b.property("label") == emos[0])
        if _mixed(emos):
            self.emo_state.setText("<i>mixed</i>")
        else:
            u = recs[0]
            model = (
                f" · model: {u.emotion} {u.confidence:.0%}"
                if u.emotion_source == HUMAN and u.emotion and u.confidence is not None
                else (
                    f" · confidence {u.confidence:.0%}"
                    if u.confidence is not None and u.emotion_source != HUMAN
                    else ""
                )
            )
            self.emo_state.setText(source_text(u.final_emotion, u.emotion_source) + model)
        roles = [u.final_role for u in recs]
        for role, b in self.role_buttons.items():
            b.setChecked(not _mixed(roles) and roles[0] == role)
        self.role_state.setText(
            "<i>mixed</i>" if _mixed(roles) else "Role: " + source_text(recs[0].final_role, recs[0].role_source)
        )
        self._set_checks(recs)
        notes = [u.note for u in recs]
        self.note.show_note([stored_id(u.id) for u in recs], "" if _mixed(notes) else notes[0], _mixed(notes))
        edited = [u for u in recs if u.edited_at]
        if edited:
            last = max(edited, key=lambda u: u.edited_at or "")
            self.who.setText(f"Last edited by {last.edited_by} at {(last.edited_at or '').replace('T', ' ')[:16]}")
        else:
            self.who.setText("Not edited by a person (all labels from the model)")

    def _set_checks(self, recs: list[Utterance]) -> None:
        self.reviewed.setChecked(bool(recs) and all(u.reviewed for u in recs))
        for name, cb in self.code_checks.items():
            have = [name in u.codes for u in recs]
            cb.setTristate(False)
            if have and all(have):
                cb.setCheckState(Qt.CheckState.Checked)
            elif any(have):
                cb.setCheckState(Qt.CheckState.PartiallyChecked)
            else:
                cb.setCheckState(Qt.CheckState.Unchecked)

    def _fill_speakers(self, recs: list[Utterance]) -> None:
        box = self.speaker_box
        box.blockSignals(True)
        box.clear()
        speakers = self.c.speakers()
        for s in speakers:
            box.addItem(s.name + (f"  ({s.role})" if s.role else ""), s.label)
        current = {u.final_speaker for u in recs}
        if len(current) == 1 and next(iter(current)) is not None:
            box.setCurrentIndex(box.findData(next(iter(current))))
        else:
            box.setCurrentIndex(-1)
            box.setPlaceholderText("mixed" if len(current) > 1 else "none")
        box.blockSignals(False)

    def _speaker_chosen(self, index: int) -> None:
        label = self.speaker_box.itemData(index)
        if label is not None:
            self.c.set_speaker(label)

    # ---------------------------------------------------------------- note
    def _save_note(self, text: str, ids: list[int]) -> None:
        self.c.set_note(text, ids)

    def _holds_note(self, text: str, ids: list[int]) -> bool:
        recs = {stored_id(u.id): u for u in self.c.selected_records()}
        return all(i in recs and recs[i].note == text for i in ids)

    def _back_to_table(self) -> None:
        table = getattr(self.c.win, "table", None)
        if table is not None:
            table.view.setFocus()

    def commit_note(self) -> None:
        self.note.commit()

    def focus_note(self) -> None:
        if self.c.selected_ids():
            self.window().activateWindow()
            parent = self.parentWidget()
            if parent is not None and hasattr(parent, "raise_"):
                parent.raise_()
            self.note.setFocus()
            self.note.moveCursor(self.note.textCursor().MoveOperation.End)
