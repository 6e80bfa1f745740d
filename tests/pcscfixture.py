"""The one real pcscd of a test session (shared by the smart-card and flow areas).

Registered once in tests/conftest.py; an area just asks for it::

    def test_something(pcsc_stack): ...

Only one pcscd can run on a machine (/run/pcscd), so every area must use this session fixture
rather than start its own: then the order in which areas run does not matter.
The stack FAILS, saying what to do, when pcscd or vpcd is missing or another pcscd owns the socket.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.smartcard.virtual.pcscd import PcscdStack, StackError
from drivers.smartcard.virtual.psam import VirtualPsam

sys.path.insert(0, str(Path(__file__).resolve().parent / "smartcard"))
from sc_helpers import PSAM, wait_reader_or_fail


@pytest.fixture(scope="session")
def pcsc_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscdStack]:
    """Our own pcscd for the whole session, with the test PSAM in slot 1."""
    try:
        stack = PcscdStack(tmp_path_factory.mktemp("pcscd"))
    except StackError as exc:
        pytest.fail(str(exc))
    try:
        stack.start()
        stack.psam.insert(VirtualPsam())
        wait_reader_or_fail(PSAM, present=True, timeout=5)
        yield stack
    except StackError as exc:
        pytest.fail(str(exc))
    finally:
        stack.close()
