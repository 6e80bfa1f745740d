"""Voice tests: the committed voice pack, and ALSA's null device for real playback."""

from __future__ import annotations

import pytest

from kiosk.voice.pack import VoicePack


@pytest.fixture(scope="session")
def pack() -> VoicePack:
    return VoicePack.load()
