"""The note field of the annotation panel: a plain-text editor for the note of the selected
utterances, saved at every key stroke (the undo stack merges the strokes), on leaving the
field and on Esc (which also hands the focus back to the table)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QPlainTextEdit, QWidget

PLACEHOLDER = "Free-text note on the selected utterance(s); saved as you type"
MIXED_PLACEHOLDER = "Different notes: typing replaces all of them"


class NoteEditor(QPlainTextEdit):
    """``save(text, ids)`` stores the note of the utterances ``ids``; ``unchanged(text, ids)``
    says whether they already hold it (then nothing is saved); ``leave()`` is called on Esc."""

    def __init__(
        self,
        save: Callable[[str, list[int]], object],
        unchanged: Callable[[str, list[int]], bool],
        leave: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._save, self._unchanged, self._leave = save, unchanged, leave
        self.ids: list[int] = []
        self._setting = False
        self.setPlaceholderText(PLACEHOLDER)
        self.setToolTip("Saved to the workspace as you type; Esc goes back to the table")
        self.setFixedHeight(64)
        self.textChanged.connect(self._typed)
        self.installEventFilter(self)

    def show_note(self, ids: Sequence[int], text: str, mixed: bool = False) -> None:
        """Show ``text`` as the note of ``ids`` (not while the user types into the same ones)."""
        self.setPlaceholderText(MIXED_PLACEHOLDER if mixed else PLACEHOLDER)
        if self.hasFocus() and list(ids) == self.ids:
            return  # do not disturb typing
        self.ids = list(ids)
        if self.toPlainText() != text:
            self._setting = True
            self.setPlainText(text)
            self._setting = False

    def _typed(self) -> None:
        if not self._setting:
            self.commit()

    def commit(self) -> None:
        """Save the text as the note of the shown utterances, unless they already hold it."""
        ids = list(self.ids)
        text = self.toPlainText()
        if ids and not self._unchanged(text, ids):
            self._save(text, ids)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if obj is self:
            if event.type() == QEvent.Type.FocusOut:
                self.commit()
            elif event.type() == QEvent.Type.KeyPress and getattr(event, "key", lambda: None)() == Qt.Key.Key_Escape:
                self.commit()
                self._leave()
                return True
        return super().eventFilter(obj, event)
