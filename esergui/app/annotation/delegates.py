"""Who set a label, in the utterance table: item delegates (the table's model stays as it is).

* Emotion and Role cells get a right-aligned tag, ``human`` (blue) or ``model`` (grey).
* The Annotated cell shows what a person added: ✓ reviewed, the codes, the start of the note;
  its tooltip gives the whole note and who edited when.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QToolTip

from esergui.app.timeline.table_model import COL
from esergui.lesson import HUMAN, Utterance

if TYPE_CHECKING:
    from esergui.app.timeline.table import UtteranceTable

HUMAN_COLOUR = QColor("#0072B2")
MODEL_COLOUR = QColor("#8A8A8A")

RecordOf = Callable[[int], "Utterance | None"]


def annotation_summary(u: Utterance) -> str:
    """``"✓ · question, praise · ✎ asks twice…"`` (what a person added), or ``""``."""
    parts = []
    if u.reviewed:
        parts.append("✓")
    if u.codes:
        parts.append(", ".join(u.codes))
    if u.note:
        first = u.note.strip().splitlines()[0] if u.note.strip() else ""
        parts.append("✎ " + (first[:60] + ("…" if len(first) > 60 or "\n" in u.note.strip() else "")))
    if not parts and u.has_human_edit:
        parts.append("edited")
    return " · ".join(parts)


def annotation_tooltip(u: Utterance) -> str:
    lines = [
        f"Emotion: {u.final_emotion or '—'} ({u.emotion_source or '—'})",
        f"Role: {u.final_role or '—'} ({u.role_source or '—'})",
    ]
    if u.human_emotion and u.emotion:
        lines.append(f"The model said: {u.emotion}" + (f" ({u.confidence:.0%})" if u.confidence is not None else ""))
    if u.codes:
        lines.append("Codes: " + ", ".join(u.codes))
    if u.note:
        lines.append("Note: " + u.note)
    lines.append("Reviewed" if u.reviewed else "Not reviewed")
    if u.edited_by:
        lines.append(f"Edited by {u.edited_by} at {(u.edited_at or '').replace('T', ' ')[:16]}")
    return "\n".join(lines)


class _RecordDelegate(QStyledItemDelegate):
    def __init__(self, table: UtteranceTable, record_of: RecordOf) -> None:
        super().__init__(table.view)
        self.table = table
        self.record_of = record_of

    def record(self, index: QModelIndex | QPersistentModelIndex) -> Utterance | None:
        row = self.table.proxy.mapToSource(index).row()
        return self.record_of(row)

    def helpEvent(self, event, view, option, index) -> bool:  # noqa: N802 (Qt API)
        u = self.record(index)
        if u is not None and event.type() == event.Type.ToolTip:
            QToolTip.showText(event.globalPos(), annotation_tooltip(u), view)
            return True
        return super().helpEvent(event, view, option, index)


class SourceTagDelegate(_RecordDelegate):
    """Draws the cell, then a small ``human``/``model`` tag at its right end."""

    def __init__(self, table: UtteranceTable, record_of: RecordOf, field: str) -> None:
        super().__init__(table, record_of)
        self.field = field  # "emotion" or "role"

    def source(self, index: QModelIndex | QPersistentModelIndex) -> str | None:
        u = self.record(index)
        return None if u is None else (u.emotion_source if self.field == "emotion" else u.role_source)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        src = self.source(index)
        if src is None:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)  # background, icon, focus
        opt.text = text
        small = QFont(opt.font)
        small.setPointSizeF(max(6.0, opt.font.pointSizeF() * 0.8))
        width = QFontMetrics(small).horizontalAdvance(src) + 8
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, opt.widget)
        text_rect.setRight(option.rect.right() - width)
        font = QFont(opt.font)
        font.setBold(src == HUMAN)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setFont(font)
        painter.setPen(option.palette.highlightedText().color() if selected else option.palette.text().color())
        elided = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, max(0, text_rect.width() - 4))
        painter.drawText(
            text_rect.adjusted(2, 0, 0, 0), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), elided
        )
        painter.setFont(small)
        painter.setPen(
            option.palette.highlightedText().color() if selected else (HUMAN_COLOUR if src == HUMAN else MODEL_COLOUR)
        )
        tag_rect = QRect(option.rect.right() - width, option.rect.top(), width - 4, option.rect.height())
        painter.drawText(tag_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), src)
        painter.restore()


class AnnotatedDelegate(_RecordDelegate):
    """The Annotated column: ✓ reviewed · codes · ✎ note."""

    def initStyleOption(  # noqa: N802 (Qt API)
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        u = self.record(index)
        if u is not None:
            option.text = annotation_summary(u)
            option.displayAlignment = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def install_delegates(table: UtteranceTable, record_of: RecordOf) -> list[QStyledItemDelegate]:
    """Put the delegates on the table's Emotion, Role and Annotated columns; widen those."""
    delegates: list[QStyledItemDelegate] = [
        SourceTagDelegate(table, record_of, "emotion"),
        SourceTagDelegate(table, record_of, "role"),
        AnnotatedDelegate(table, record_of),
    ]
    for name, d in zip(("Emotion", "Role", "Annotated"), delegates):
        table.view.setItemDelegateForColumn(COL[name], d)
    table.view.setColumnWidth(COL["Emotion"], max(table.view.columnWidth(COL["Emotion"]), 160))
    table.view.setColumnWidth(COL["Role"], max(table.view.columnWidth(COL["Role"]), 125))
    return delegates
