"""The analysis panel: the lesson being analysed, one progress bar per stage, Cancel, the queue."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

STAGES = ("decode", "segment", "speakers", "emotions")
STAGE_TITLES = {"decode": "Decode", "segment": "Find speech", "speakers": "Speakers", "emotions": "Emotions"}
STAGE_TIPS = {
    "decode": "Decoding the audio to 16 kHz mono",
    "segment": "Finding speech and cutting it into utterances (voice activity detection)",
    "speakers": "Telling voices apart and finding the teacher",
    "emotions": "Recognising the emotion of each utterance with ESERNet",
}


class AnalysisPanel(QWidget):
    """``cancelRequested()`` when the user presses Cancel."""

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("No analysis running")
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold;")
        self.bars: dict[str, QProgressBar] = {}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        for stage in STAGES:
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(0)
            bar.setFormat("%p%")
            bar.setToolTip(STAGE_TIPS[stage])
            label = QLabel(STAGE_TITLES[stage])
            label.setToolTip(STAGE_TIPS[stage])
            form.addRow(label, bar)
            self.bars[stage] = bar
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: palette(dark);")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running analysis (Esc); what was found so far is discarded")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.queue = QListWidget()
        self.queue.setToolTip("Lessons waiting to be analysed, in order")
        self.queue.setMaximumHeight(90)
        row = QHBoxLayout()
        row.addWidget(self.message, 1)
        row.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addLayout(form)
        lay.addLayout(row)
        lay.addWidget(QLabel("Queue"))
        lay.addWidget(self.queue)
        lay.addStretch(1)

    def start(self, title: str) -> None:
        self.title.setText(f"Analysing: {title}")
        for stage, bar in self.bars.items():
            bar.setValue(0)
            bar.setFormat("%p%")
            bar.setToolTip(STAGE_TIPS[stage])
        self.message.setText("")
        self.cancel_button.setEnabled(True)

    def set_progress(self, stage: str, fraction: float, message: str) -> None:
        bar = self.bars.get(stage)
        if bar is not None:
            bar.setValue(int(round(fraction * 1000)))
            # stages run in order: everything before this one is done
            for s in STAGES[: STAGES.index(stage)]:
                self.bars[s].setValue(1000)
        if message:
            self.message.setText(message)

    def finish(self, text: str, skipped: dict[str, str] | None = None) -> None:
        """End of a job: ``skipped`` stages show "skipped" with the reason as tooltip."""
        self.title.setText(text)
        self.cancel_button.setEnabled(False)
        for stage, bar in self.bars.items():
            reason = (skipped or {}).get(stage)
            bar.setFormat("skipped" if reason else "%p%")
            bar.setToolTip(f"Skipped: {reason}" if reason else STAGE_TIPS[stage])

    def set_queue(self, titles: list[str]) -> None:
        self.queue.clear()
        self.queue.addItems(titles)
