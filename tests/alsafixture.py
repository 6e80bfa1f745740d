"""A real ALSA configuration whose default PCM is the null device: audio goes through alsa-lib
and aplay exactly as on a kiosk, and is discarded instead of reaching a loudspeaker."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ASOUNDRC = """\
# tests: every PCM the kiosk may open is ALSA's null plugin
pcm.!default { type null }
pcm.kiosk_null { type null }
"""


def use_alsa_null(directory: Path) -> Path:
    """Point alsa-lib (in this process and every aplay it starts) at a null-device configuration."""
    if shutil.which("aplay") is None:
        raise AssertionError("aplay is missing: install the Debian package alsa-utils (scripts/setup.sh)")
    path = directory / "asound.conf"
    path.write_text(ASOUNDRC, encoding="utf-8")
    os.environ["ALSA_CONFIG_PATH"] = str(path)
    return path


@pytest.fixture
def alsa_null(tmp_path: Path) -> Iterator[Path]:
    """ALSA's default PCM is the null device for this test (restored after)."""
    before = os.environ.get("ALSA_CONFIG_PATH")
    yield use_alsa_null(tmp_path)
    if before is None:
        os.environ.pop("ALSA_CONFIG_PATH", None)
    else:
        os.environ["ALSA_CONFIG_PATH"] = before
