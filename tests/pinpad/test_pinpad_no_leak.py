"""A whole PIN flow with every log record captured (root logger at DEBUG, traces included) and
every completion, exception text and repr collected: no PIN digit sequence, PIN field, PIN block,
key or SMS code appears in any of them."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator

import pytest
from pinpad_testkit import MASTER, PAN, PAN_FIELD_DIGITS, WORK, work_cipher, work_kcv, wrapped_work_key

from drivers.crypto.pinblock import PinBlockFormat, decrypt_pin_block
from drivers.pinpad.factory import PinPadSetup, create_pinpad
from kiosk.logs import JsonLineFormatter

PIN = "493817"
SMS = "640952"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.json = JsonLineFormatter()
        self.plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        # Every rendering: the plain formatter with traceback, the JSON line, and every attribute.
        self.texts.append(self.plain.format(record))
        self.texts.append(self.json.format(record))
        self.texts.append(repr(vars(record)))
        if record.exc_info and record.exc_info[1] is not None:
            self.texts.append(repr(record.exc_info[1]))


@pytest.fixture
def capture() -> Iterator[Capture]:
    root = logging.getLogger()
    handler = Capture()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


def _wait_mode(setup: PinPadSetup, mode: str) -> None:
    end = time.monotonic() + 3
    while setup.simulator.entry_mode != mode:  # type: ignore[union-attr]
        assert time.monotonic() < end
        time.sleep(0.005)


def _forbidden(pin: str) -> list[str]:
    bcd = f"{len(pin):02d}{pin}"
    return [pin, " ".join(pin), pin.encode().hex(), pin.encode().hex(" "), pin.encode().hex(" ").upper(),
            bcd, bcd.upper()]


@pytest.mark.parametrize("wire_form", ["binary", "ascii_hex"])
def test_no_secret_reaches_logs_exceptions_or_reprs(capture: Capture, wire_form: str) -> None:
    collected: list[str] = []
    setup = create_pinpad(backend="simulator", wire_form=wire_form, simulator_master_key=MASTER["sm4"],
                          answer_timeout_s=0.25)
    sim = setup.simulator
    assert sim is not None
    try:
        assert setup.service.wait_online(5)
        collected.append(repr(setup.service.load_work_key("pin", wrapped_work_key("sm4"), work_kcv("sm4")).wait(5)))
        # 1. a successful PIN entry with clear and backspace on the way
        handle = setup.service.start_pin_entry(PAN, timeout_s=5)
        handle.on_event(lambda e: collected.append(repr(e)))
        _wait_mode(setup, "pin")
        sim.type_keys("99")
        sim.press("clear")
        sim.type_keys(PIN[:5] + "7")
        sim.press("backspace")
        sim.type_keys(PIN[5])
        sim.press("enter")
        done = handle.wait(6)
        assert done.ok and done.result is not None
        collected += [repr(done), str(done), repr(done.result), str(done.result)]
        block = done.result.block
        # The audited decrypt (PSAM side) recovers it, proving the secret really went through.
        digits = decrypt_pin_block(block, PAN_FIELD_DIGITS, PinBlockFormat.ISO0, work_cipher("sm4"),
                                   pan_has_check_digit=False)
        assert digits == bytearray(PIN.encode())
        digits[:] = bytes(len(digits))
        # 2. an entry canceled half way, one timed out, one ended by an unplug
        for ending in ("cancel", "timeout", "unplug"):
            handle = setup.service.start_pin_entry(PAN, timeout_s=0.6 if ending == "timeout" else 5)
            _wait_mode(setup, "pin")
            sim.type_keys(PIN[:4])
            if ending == "cancel":
                sim.press("cancel")
            elif ending == "unplug":
                time.sleep(0.1)
                sim.unplug()
            failed = handle.wait(6)
            assert not failed.ok
            collected += [repr(failed), failed.detail, failed.error_code]
            if ending == "unplug":
                sim.replug()
                assert setup.service.wait_online(5)
        # 3. an SMS code in plain mode
        handle = setup.service.start_plain_entry(6, timeout_s=5, min_len=6)
        _wait_mode(setup, "plain")
        sim.type_keys(SMS)
        sim.press("enter")
        plain = handle.wait(6)
        assert plain.ok and plain.result == SMS
        # 4. errors on the wire during a command
        sim.faults.corrupt_next = 1
        sim.faults.noise = b"\x02\x05" + PIN.encode()
        collected.append(repr(setup.service.load_work_key("pin", wrapped_work_key("sm4"), b"\x00\x00\x00").wait(5)))
    finally:
        setup.close()
    secrets = _forbidden(PIN) + _forbidden(SMS) + [
        block.hex(), block.hex().upper(), block.hex(" "), block.hex(" ").upper(),
        MASTER["sm4"].hex(), WORK["sm4"].hex(), wrapped_work_key("sm4").hex(" ").upper(),
        wrapped_work_key("sm4").hex().upper()]
    texts = capture.texts + collected
    assert len(capture.texts) > 50, "the trace did not run: nothing to check"
    assert any("pinpad tx 87h <redacted" in t for t in texts)
    for text in texts:
        low = text.lower()
        for secret in secrets:
            # (noise injected above holds the PIN digits as *noise bytes*; they must not be traced either)
            assert secret.lower() not in low, f"secret found in: {text[:200]}"
    stream = io.StringIO()
    for text in texts:
        stream.write(text)
    assert PIN not in stream.getvalue()
