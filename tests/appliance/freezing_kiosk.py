"""The real kiosk (`kiosk run`) with one test trigger: when $FREEZE_FILE appears, a visit starts
(as a touch on the attract screen would start it) and then the UI thread blocks for good, the way
a hung slot or a deadlock would freeze it. Everything else is the production start-up path.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

app = QApplication([sys.argv[0]])
trigger = Path(os.environ["FREEZE_FILE"])


def _poll() -> None:
    if trigger.exists():
        window = next(w for w in app.topLevelWidgets() if type(w).__name__ == "KioskWindow")
        window.core.start_visit("touch")
        time.sleep(3600)                      # the frozen event loop


timer = QTimer()
timer.timeout.connect(_poll)
timer.start(100)

from kiosk.cli import main  # noqa: E402

sys.exit(main(["run"]))
