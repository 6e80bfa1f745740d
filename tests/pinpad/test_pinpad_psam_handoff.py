"""The key agreement with the smartcard area, end to end on the wire: the (virtual) PSAM makes the
PIN working key wrapped under the pad's master key, the kiosk loads it into the pad with its KCV,
the citizen types on the pad, and the PSAM decrypts the pad's PIN block (its 80 F8 command) with
PAN = the social-security card number — the same call drivers/smartcard/pin_handoff.py makes."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from drivers.pinpad.factory import PinPadSetup
from drivers.smartcard.virtual.keys import TEST_PAD_MASTER_KEY
from drivers.smartcard.virtual.psam import VirtualPsam

CARD_NUMBER = "A12345678"      # the virtual card's EF05 tag 07


@pytest.mark.parametrize("algorithm", ["sm4", "3des"])
def test_psam_wrapped_key_pad_block_psam_decrypt(make_pad: Callable[..., PinPadSetup], algorithm: str) -> None:
    psam = VirtualPsam(pin_algorithm=algorithm)
    answer = psam.process(bytes([0x80, 0xF6, {"3des": 0x01, "sm4": 0x03}[algorithm], 0x00, 0x00]))
    assert answer[-2:] == b"\x90\x00"
    wrapped, kcv = answer[:16], answer[16:19]

    setup = make_pad(algorithm=algorithm, simulator_master_key=TEST_PAD_MASTER_KEY)
    loaded = setup.service.load_work_key("pin", wrapped, kcv).wait(5)
    assert loaded.ok, loaded
    handle = setup.service.start_pin_entry(CARD_NUMBER, timeout_s=5)
    sim = setup.simulator
    assert sim is not None
    end = time.monotonic() + 3
    while sim.entry_mode != "pin":
        assert time.monotonic() < end
        time.sleep(0.005)
    sim.type_keys("802517")
    sim.press("enter")
    done = handle.wait(6)
    assert done.ok and done.result is not None

    data = CARD_NUMBER.encode() + b"\x00" + done.result.block
    answer = psam.process(bytes([0x80, 0xF8, 0x00, 0x00, len(data)]) + data)
    assert answer[-2:] == b"\x90\x00", answer[-2:].hex()
    assert answer[:-2] == bytes([6]) + bytes.fromhex("802517")


def test_a_key_wrapped_under_another_master_is_refused(make_pad: Callable[..., PinPadSetup]) -> None:
    psam = VirtualPsam(pad_master_key=bytes(range(16)))
    answer = psam.process(bytes([0x80, 0xF6, 0x03, 0x00, 0x00]))
    setup = make_pad(simulator_master_key=TEST_PAD_MASTER_KEY)
    done = setup.service.load_work_key("pin", answer[:16], answer[16:19]).wait(5)
    assert done.error_code == "kcvMismatch"
