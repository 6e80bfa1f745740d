"""Suite-wide settings: Qt offscreen, and where ../shared lives."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("KIOSK_SHARED_DIR", PROJECT_ROOT.parent / "shared")).resolve()

# The one pcscd of the session, registered here (once) so that every area shares it: two
# session fixtures of the same name in two areas would start two pcscds, and only one can run.
from alsafixture import alsa_null  # noqa: E402, F401  (ALSA's null device for real voice playback)
from pcscfixture import pcsc_stack  # noqa: E402, F401


@pytest.fixture(autouse=True)
def _default_language_after_each_test() -> Iterator[None]:
    """A test that switches the kiosk's language must not change the next test's (the language is
    process-wide): every test ends on the default, whatever order the areas run in."""
    yield
    from kiosk import i18n

    if i18n.language() != i18n.DEFAULT_LANGUAGE:
        i18n.set_language(i18n.DEFAULT_LANGUAGE)
