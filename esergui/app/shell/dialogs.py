"""Small dialogs: keyboard shortcuts, About, settings (compute device)."""

from __future__ import annotations

import platform
from collections.abc import Iterable

from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from esergui import __version__
from esergui.app.common.icons import icon

DEVICES = (
    ("auto", "Automatic (GPU when there is one)"),
    ("cpu", "CPU"),
    ("cuda", "NVIDIA GPU (CUDA)"),
    ("mps", "Apple GPU (MPS)"),
)

# Mouse gestures and keys that are not menu actions.
EXTRA_SHORTCUTS = (
    ("Mouse wheel over the detail view", "Zoom in/out around the pointer"),
    ("Drag in the detail view", "Scroll through the lesson"),
    ("Click a block", "Select that utterance (Ctrl/Shift-click in the table for several)"),
    ("Double-click a block or table row", "Play that utterance"),
    ("Click empty space in the detail view", "Set the play cursor"),
    ("Drag the region in the overview", "Choose what the detail view shows"),
    ("+ / − / ← / → / Home / End (detail view focused)", "Zoom, scroll, jump to start/end"),
)


def _menu_paths(bar: QMenuBar) -> dict[int, tuple[int, str]]:
    """id(action) -> (order, "File ▸ Export") for every action reachable from the menu bar."""
    out: dict[int, tuple[int, str]] = {}

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{path} ▸ {action.text().replace('&', '')}")
            elif id(action) not in out:
                out[id(action)] = (len(out), path)

    for top in bar.actions():
        top_menu = top.menu()
        if isinstance(top_menu, QMenu):
            walk(top_menu, top.text().replace("&", ""))
    return out


class ShortcutsDialog(QDialog):
    """Every action with a shortcut, with the menu it is in (taken from the live actions, so it
    is never stale), then the mouse gestures."""

    def __init__(self, bar: QMenuBar, actions: Iterable[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        paths = _menu_paths(bar)
        rows, seen = [], set()
        for action in actions:
            keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
            name = action.text().replace("&", "").rstrip(".…").strip()
            if not keys or not action.isVisible() or (name, tuple(keys)) in seen:
                continue
            seen.add((name, tuple(keys)))
            order, menu = paths.get(id(action), (10**6, "Keys"))
            rows.append((order, " or ".join(keys), name, menu))
        rows.sort()
        table = QTableWidget(len(rows) + len(EXTRA_SHORTCUTS), 3)
        table.setHorizontalHeaderLabels(["Keys / gesture", "Does", "Menu"])
        for i, (_, key_text, what, menu) in enumerate(rows):
            for c, text in enumerate((key_text, what, menu)):
                table.setItem(i, c, QTableWidgetItem(text))
        for i, (gesture, what) in enumerate(EXTRA_SHORTCUTS, len(rows)):
            for c, text in enumerate((gesture, what, "Mouse / timeline")):
                table.setItem(i, c, QTableWidgetItem(text))
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(22)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        table.setAlternatingRowColors(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(table)
        lay.addWidget(buttons)
        self.table = table
        self.resize(760, 640)


class AboutDialog(QDialog):
    def __init__(self, model_text: str, device_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About ESER Studio")
        logo = QLabel()
        logo.setPixmap(icon("eser-studio").pixmap(96, 96))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel(
            f"<h2>ESER Studio {__version__}</h2>"
            "<p>Who spoke, when, and with which emotion — in recorded lessons.</p>"
            f"<table cellpadding='2'>"
            f"<tr><td><b>Emotion model</b></td><td>{model_text}</td></tr>"
            f"<tr><td><b>Compute device</b></td><td>{device_text}</td></tr>"
            f"<tr><td><b>Python</b></td><td>{platform.python_version()}</td></tr>"
            f"<tr><td><b>Qt (PySide6)</b></td><td>{PYSIDE_VERSION}</td></tr>"
            "</table><p>Colours: Okabe &amp; Ito's colour-blind-safe palette.</p>"
        )
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = text
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(logo)
        lay.addWidget(text)
        lay.addWidget(buttons)
        self.setMinimumWidth(420)


def output_devices() -> list[str]:
    """Names of the audio output devices PortAudio sees (empty without PortAudio or devices)."""
    try:
        import sounddevice as sd  # loads PortAudio: only when the dialog lists devices

        return [str(d["name"]) for d in sd.query_devices() if int(d.get("max_output_channels", 0)) > 0]
    except Exception:  # noqa: BLE001 - no PortAudio library, or it failed to scan: no choice to offer
        return []


class SettingsDialog(QDialog):
    """The compute device for emotion recognition (takes effect for the next analysis) and the
    audio output for playback ("" = the system default)."""

    def __init__(
        self, device: str, parent: QWidget | None = None, output: str = "", outputs: list[str] | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.device_box = QComboBox()
        for key, text in DEVICES:
            self.device_box.addItem(text, key)
        self.device_box.setCurrentIndex(max(0, self.device_box.findData(device)))
        self.device_box.setToolTip("Where ESERNet runs; Automatic picks CUDA, then Apple MPS, then the CPU")
        self.output_box = QComboBox()
        self.output_box.addItem("System default", "")
        for name in outputs if outputs is not None else output_devices():
            self.output_box.addItem(name, name)
        if output and self.output_box.findData(output) < 0:
            self.output_box.addItem(f"{output} (not found now)", output)
        self.output_box.setCurrentIndex(max(0, self.output_box.findData(output)))
        self.output_box.setToolTip("Where playback goes")
        form = QFormLayout()
        form.addRow("Compute device", self.device_box)
        form.addRow("Audio output", self.output_box)
        note = QLabel("The compute device is used from the next analysis on.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(buttons)
        self.setMinimumWidth(420)

    def device(self) -> str:
        return str(self.device_box.currentData())

    def output(self) -> str:
        return str(self.output_box.currentData() or "")
