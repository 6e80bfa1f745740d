"""PIN pad tests: the real driver (SerialPinPad + KmyProtocol + pyserial) against the wire-level
simulator on a pseudo-terminal. Keys here are test keys; a real kiosk never holds one."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pinpad_testkit import FAST, MASTER, work_kcv, wrapped_work_key

from drivers.pinpad.factory import PinPadSetup, create_pinpad


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
