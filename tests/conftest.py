"""Suite-wide settings: Qt offscreen, and where ../shared lives."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("KIOSK_SHARED_DIR", PROJECT_ROOT.parent / "shared")).resolve()
