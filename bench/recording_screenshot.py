"""Screenshot of the recording panel while it records real speech (docs/screenshots/recording.png).

Starts the private PulseAudio null sink (tests/sound_server.sh), plays EmoDB sentences into it
(at PulseAudio volume 45000/65536, about -10 dB: EmoDB files are peak-normalised to full scale and
would light the clip lamp) and grabs the panel mid-recording. Run under X (the real xcb platform, not offscreen):

    xvfb-run -a -s "-screen 0 1280x800x24" env QT_QPA_PLATFORM=xcb \
        .venv/bin/python bench/recording_screenshot.py docs/screenshots/recording.png

With ``--mic-check`` it grabs the panel before Record is pressed (the microphone check):
``... bench/recording_screenshot.py docs/screenshots/recording_mic_check.png --mic-check``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ["03a01Fa.wav", "08a02Ab.wav", "16a01Lb.wav"]


def main(out: str, mic_check: bool = False) -> int:
    proc = subprocess.run(
        ["bash", str(ROOT / "tests" / "sound_server.sh"), "start"], capture_output=True, text=True, check=True
    )
    os.environ["PULSE_SERVER"] = proc.stdout.strip().rsplit("=", 1)[-1]
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from esergui.app.recording.panel import RecordingPanel
    from esergui.paths import emodb_dir
    from esergui.recording import refresh_devices

    refresh_devices()
    app = QApplication(sys.argv)
    tmp = Path(tempfile.mkdtemp(prefix="eser-shot-"))
    panel = RecordingPanel(tmp, QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    panel.setWindowTitle("Record a lesson")
    panel.resize(640, 400)
    panel.select_device("pulse")
    panel.show()
    wavs = [str(emodb_dir() / "wav" / name) for name in SENTENCES]
    player: list[subprocess.Popen] = []

    def play() -> None:
        player.append(
            subprocess.Popen(["bash", "-c", " ; ".join(f"paplay --volume=45000 {w}; sleep 0.6" for w in wavs)])
        )

    def shoot() -> None:
        if panel.meter.rms_dbfs < -35 and shoot.tries < 100:  # wait for a moment of speech
            shoot.tries += 1
            QTimer.singleShot(50, shoot)
            return
        panel.grab().save(out)
        panel.shutdown()
        for p in player:
            p.kill()
        app.quit()

    shoot.tries = 0  # type: ignore[attr-defined]
    if not mic_check:
        QTimer.singleShot(300, panel.start_recording)
    QTimer.singleShot(2500, play)
    QTimer.singleShot(8000, shoot)
    app.exec()
    subprocess.run(["bash", str(ROOT / "tests" / "sound_server.sh"), "stop"], check=False)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    paths = [a for a in sys.argv[1:] if a != "--mic-check"]
    raise SystemExit(main(paths[0] if paths else "docs/screenshots/recording.png", "--mic-check" in sys.argv))
