"""PIN pad tests: the real driver (SerialPinPad + KmyProtocol + pyserial) against the wire-level
simulator on a pseudo-terminal. Keys here are test keys; a real kiosk never holds one."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from drivers.crypto.ciphers import BlockCipher, cipher_for, kcv
from drivers.pinpad.factory import PinPadSetup, create_pinpad

# Test keys (the SM4 one is the GB/T 32907 example key).
MASTER = {"sm4": bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"),
          "3des": bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")}
WORK = {"sm4": bytes.fromhex("00112233445566778899AABBCCDDEEFF"),
        "3des": bytes.fromhex("1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A")}
# A bank PAN with its Luhn digit, and the 12-digit PAN field it gives.
PAN = "6222020200112233445"
PAN_FIELD_DIGITS = "020011223344"
FAST = {"answer_timeout_s": 0.25, "command_timeout_s": 3.0, "retries": 2}


def wrapped_work_key(algorithm: str) -> bytes:
    """What the PSAM hands over: the working key encrypted under the pad's master key."""
    return cipher_for(algorithm, MASTER[algorithm]).encrypt(WORK[algorithm])


def work_cipher(algorithm: str) -> BlockCipher:
    return cipher_for(algorithm, WORK[algorithm])


def work_kcv(algorithm: str) -> bytes:
    return kcv(work_cipher(algorithm))


@pytest.fixture
def make_pad() -> Iterator[Callable[..., PinPadSetup]]:
    """Create a simulator + driver pair with create_pinpad kwargs; every pair is closed after the test."""
    made: list[PinPadSetup] = []

    def make(**kwargs: object) -> PinPadSetup:
        algorithm = str(kwargs.get("algorithm", "sm4"))
        kwargs.setdefault("simulator_master_key", MASTER[algorithm])
        for key, value in FAST.items():
            kwargs.setdefault(key, value)
        setup = create_pinpad(backend="simulator", **kwargs)  # type: ignore[arg-type]
        made.append(setup)
        assert setup.service.wait_online(5), f"pad did not come online: {setup.service.status_detail}"
        return setup

    yield make
    for setup in made:
        setup.close()


@pytest.fixture
def pad(make_pad: Callable[..., PinPadSetup]) -> PinPadSetup:
    """An SM4 pad with the PIN working key loaded and verified."""
    setup = make_pad()
    done = setup.service.load_work_key("pin", wrapped_work_key("sm4"), work_kcv("sm4")).wait(5)
    assert done.ok, done
    return setup
