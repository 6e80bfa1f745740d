"""Every ATR the simulators present parses cleanly: Debian's ATR_analysis (pcsc-tools) and
pyscard's ATR class agree that the declared historical bytes are all there, and pcscd reports
the same ATR for an inserted card."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sc_helpers import CITIZEN, wait_reader_or_fail
from smartcard.ATR import ATR

from drivers.smartcard.readers import PcscBackend
from drivers.smartcard.virtual.card import ATR_GEN2, ATR_GEN3, CardConfig, VirtualSsCard
from drivers.smartcard.virtual.pcscd import PcscdStack
from drivers.smartcard.virtual.psam import ATR_PSAM

SIMULATOR_ATRS = {"gen2": ATR_GEN2, "gen3": ATR_GEN3, "psam": ATR_PSAM}


def _atr_analysis(atr: bytes, home: Path) -> str:
    tool = shutil.which("ATR_analysis")
    if tool is None:
        pytest.fail("ATR_analysis is missing: install the Debian package pcsc-tools (scripts/setup.sh does)",
                    pytrace=False)
    # A fresh (empty) card list in a private HOME: the tool then does not try to download one.
    (home / ".cache").mkdir(exist_ok=True)
    (home / ".cache" / "smartcard_list.txt").touch()
    env = {**os.environ, "HOME": str(home)}
    done = subprocess.run([tool, atr.hex(" ").upper()], capture_output=True, text=True, timeout=30, env=env)
    return done.stdout + done.stderr


@pytest.mark.parametrize("name", list(SIMULATOR_ATRS))
def test_every_simulator_atr_parses_cleanly_in_atr_analysis(name, tmp_path):
    atr = SIMULATOR_ATRS[name]
    report = _atr_analysis(atr, tmp_path)
    assert "Historical bytes:" in report, report
    assert "ERROR" not in report and "truncated" not in report and "too long" not in report, report
    parsed = ATR(list(atr))
    declared = atr[1] & 0x0F
    assert parsed.getHistoricalBytesCount() == declared == len(parsed.getHistoricalBytes())


def test_the_parser_catches_the_old_truncated_atr(tmp_path):
    """The check can fail: the 3rd-generation ATR as it was (T0 declares 12, 11 follow)."""
    report = _atr_analysis(bytes.fromhex("3B6C00000000434E53534533303031"), tmp_path)
    assert "ATR is truncated: 1 byte(s) is/are missing" in report


@pytest.mark.pcsc
@pytest.mark.parametrize("generation", [2, 3])
def test_pcscd_reports_the_simulator_atr_unchanged(pcsc_stack: PcscdStack, generation):
    pcsc_stack.citizen.remove()                 # the last test's card may still show in pcscd
    wait_reader_or_fail(CITIZEN, present=False)
    card = VirtualSsCard(CardConfig(generation=generation))
    pcsc_stack.citizen.insert(card)
    wait_reader_or_fail(CITIZEN, present=True)
    backend = PcscBackend()
    backend.open()
    try:
        conn = backend.connect(CITIZEN)
        assert conn.atr == card.atr
        conn.close()
    finally:
        backend.close()
        pcsc_stack.citizen.remove()
        wait_reader_or_fail(CITIZEN, present=False)
