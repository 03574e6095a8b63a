"""The annotation commands as actions (text, keys, tooltips) and the menus built from them: the
Annotate menu and the context menus of the table and the timelines. Single-key actions work
while the table or a timeline has the focus (:meth:`AnnotationMenus.attach_keys`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from esergui.lesson import STUDENT, TEACHER

if TYPE_CHECKING:
    from esergui.app.annotation.controller import AnnotationController


class AnnotationMenus:
    """The actions of an :class:`AnnotationController` ``c`` and the menus that show them."""

    def __init__(self, c: AnnotationController) -> None:
        self.c = c
        self.actions: dict[str, QAction] = {}
        self.emotion_actions: list[QAction] = []
        self.code_actions: list[QAction] = []
        self.key_widgets: list[QWidget] = []

    def make_actions(self) -> dict[str, QAction]:
        """Every annotation action (text, key, tooltip), parented to the window."""
        win = self.c.win
        acts: dict[str, QAction] = {}

        def act(name: str, text: str, tip: str, slot: Callable[[], Any], keys: Sequence[str] = ()) -> QAction:
            a = QAction(text, win)
            a.setObjectName(f"annotate_{name}")
            seqs = [QKeySequence(k) for k in keys]
            if seqs:
                a.setShortcuts(seqs)
                a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                tip += f" ({' / '.join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in seqs)})"
            a.setToolTip(tip)
            a.setStatusTip(tip)
            a.triggered.connect(lambda checked=False: slot())
            acts[name] = a
            return a

        self.emotion_actions = []
        for k in range(1, 10):
            self.emotion_actions.append(
                act(
                    f"emotion_{k}",
                    f"Emotion {k}",
                    f"Set the emotion to label {k}",
                    partial(self.c.set_emotion_key, k),
                    [str(k)],
                )
            )
        act(
            "emotion_model",
            "Emotion: the Model's",
            "Clear the human emotion: show the model's again",
            lambda: self.c.set_emotion_key(0),
            ["0"],
        )
        act("teacher", "Role: &Teacher", "Mark as teacher talk", lambda: self.c.set_role(TEACHER), ["T"])
        act("student", "Role: &Student", "Mark as student talk", lambda: self.c.set_role(STUDENT), ["S"])
        act(
            "role_model",
            "Role: the Model's",
            "Clear the human role: show the model's again",
            lambda: self.c.set_role(None),
        )
        act(
            "assign_teacher",
            "Assign to the Teacher's Voice",
            "Give the utterances to the teacher's speaker",
            self.c.assign_to_teacher,
            ["Shift+T"],
        )
        act(
            "clear_human",
            "Back to the Model's Labels",
            "Clear the human emotion, role and speaker",
            self.c.clear_human,
            ["Backspace"],
        )
        act("reviewed", "Reviewed On/Off", "Mark the utterances as reviewed (or not)", self.c.toggle_reviewed, ["R"])
        act(
            "note",
            "Write a &Note…",
            "Write a free-text note on the utterance",
            lambda: self.c.noteRequested.emit(),
            ["E"],
        )
        act(
            "split",
            "S&plit at Cursor",
            "Split the utterance at the play cursor (click to place it)",
            lambda: self.c.split_at(),
            ["X"],
        )
        act(
            "merge",
            "&Merge",
            "Merge the selected utterances, or the selected one with the next",
            lambda: self.c.merge(),
            ["M"],
        )
        act(
            "delete",
            "&Delete Utterance",
            "Delete the selected utterances (undo brings them back)",
            lambda: self.c.delete(),
            ["Delete"],
        )
        act(
            "create",
            "&New Utterance in Marked Range",
            "Make an utterance of the range marked with Shift+drag",
            self.c.create_in_marked,
            ["Insert"],
        )
        act(
            "recognise",
            "Re&cognise This Utterance",
            "Run the emotion model on just this utterance (after you made, "
            "split or moved it), without re-analysing the lesson",
            lambda: self.c.recognise(),
        )
        act("next", "Next Utterance", "Select the next utterance (table order)", lambda: self.c.next(1), ["Down"])
        act(
            "previous",
            "Previous Utterance",
            "Select the previous utterance (table order)",
            lambda: self.c.next(-1),
            ["Up"],
        )
        act(
            "next_unreviewed",
            "Next &Unreviewed",
            "Select the next utterance not marked reviewed",
            lambda: self.c.next_unreviewed(1),
            ["U"],
        )
        act(
            "previous_unreviewed",
            "Previous Unreviewed",
            "Select the previous utterance not marked reviewed",
            lambda: self.c.next_unreviewed(-1),
            ["Shift+U"],
        )
        act(
            "next_low",
            "Next &Low Confidence",
            "Select the next utterance whose model confidence is low",
            lambda: self.c.next_low_confidence(1),
            ["N"],
        )
        act(
            "previous_low",
            "Previous Low Confidence",
            "Select the previous low-confidence utterance",
            lambda: self.c.next_low_confidence(-1),
            ["Shift+N"],
        )
        jump = act("jump", "&Jump to Time…", "Go to a time in the lesson", self.c.ask_jump_to_time)
        jump.setShortcut(QKeySequence("Ctrl+G"))  # a window shortcut: works from anywhere
        act("codes", "Researcher &Codes…", "Edit the list of researcher codes and their keys", self.c.edit_codes)
        self.actions = acts
        self._make_code_actions()
        return acts

    def _make_code_actions(self) -> None:
        for a in self.code_actions:
            for w in self.key_widgets:
                w.removeAction(a)
            a.deleteLater()
        self.code_actions = []
        for code in self.c.codes:
            a = QAction(code.name, self.c.win)
            a.setObjectName(f"annotate_code_{code.name}")
            tip = f"Toggle the code '{code.name}'" + (f": {code.description}" if code.description else "")
            if code.key:
                a.setShortcut(QKeySequence(code.key))
                a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                tip += f" ({code.key})"
            a.setToolTip(tip)
            a.setStatusTip(tip)
            a.triggered.connect(lambda checked=False, n=code.name: self.c.toggle_code(n))
            self.code_actions.append(a)
            for w in self.key_widgets:
                w.addAction(a)

    def attach_keys(self, widgets: Sequence[QWidget]) -> None:
        """Make the single-key actions work while ``widgets`` (or their children) have focus."""
        self.key_widgets = list(widgets)
        for w in self.key_widgets:
            for a in [*self.actions.values(), *self.code_actions]:
                if a.shortcutContext() == Qt.ShortcutContext.WidgetWithChildrenShortcut:
                    w.addAction(a)
        self.c.codesChanged.connect(self._make_code_actions)

    def update_emotion_actions(self) -> None:
        labels = self.c.labels
        for k, a in enumerate(self.emotion_actions, 1):
            name = labels[k - 1] if k <= len(labels) else ""
            a.setText(f"&{k}  {name}" if name else f"{k}  (no label)")
            a.setData(name)  # keys without a label stay live: they say so instead of typing into the table

    def fill_menu(self, menu: QMenu, for_context: bool = False) -> None:
        """The annotation commands (also used for context menus)."""
        self.update_emotion_actions()
        a = self.actions
        emo = menu.addMenu("&Emotion")
        emo.setToolTipsVisible(True)
        for act in self.emotion_actions:
            if act.data():
                emo.addAction(act)
        emo.addSeparator()
        emo.addAction(a["emotion_model"])
        role = menu.addMenu("&Role")
        for name in ("teacher", "student", "role_model"):
            role.addAction(a[name])
        spk = menu.addMenu("Spea&ker")
        for s in self.c.speakers():
            item = spk.addAction(f"{s.name}" + (f" ({s.role})" if s.role else ""))
            item.triggered.connect(lambda checked=False, label=s.label: self.c.set_speaker(label))
        spk.addSeparator()
        spk.addAction(a["assign_teacher"])
        spk.setEnabled(bool(self.c.speakers()))
        codes = menu.addMenu("&Codes")
        codes.setToolTipsVisible(True)
        recs = self.c.selected_records()
        for act in self.code_actions:
            act.setCheckable(True)
            act.setChecked(bool(recs) and all(act.text() in u.codes for u in recs))
            codes.addAction(act)
        if not for_context:
            codes.addSeparator()
            codes.addAction(a["codes"])
        menu.addAction(a["clear_human"])
        menu.addAction(a["note"])
        menu.addAction(a["reviewed"])
        menu.addSeparator()
        for name in ("split", "merge", "delete", "create", "recognise"):
            menu.addAction(a[name])
        if not for_context:
            menu.addSeparator()
            for name in (
                "next",
                "previous",
                "next_unreviewed",
                "previous_unreviewed",
                "next_low",
                "previous_low",
                "jump",
            ):
                menu.addAction(a[name])

    def context_menu(self, global_pos) -> QMenu:
        menu = QMenu(self.c.win)
        menu.setToolTipsVisible(True)
        self.fill_menu(menu, for_context=True)
        menu.popup(global_pos)
        return menu
