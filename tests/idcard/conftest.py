"""ID-card reader tests: the real driver (SerialIdCardReader + pyserial) against the wire-level
simulator on a pseudo-terminal. Card times are shortened here (the benchmark uses the real model)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from drivers.idcard.factory import IdCardSetup, create_idcard_reader
from drivers.idcard.simulator import Timing
from kiosk.identity import id_number_valid

FAST = Timing(find_s=0.002, select_s=0.005, read_s=0.05, sam_s=0.001)


@pytest.fixture
def make_reader() -> Iterator[Callable[..., IdCardSetup]]:
    made: list[IdCardSetup] = []

    def make(**kwargs: object) -> IdCardSetup:
        kwargs.setdefault("simulator_timing", FAST)
        kwargs.setdefault("poll_interval_s", 0.05)
        kwargs.setdefault("answer_timeout_s", 0.3)
        kwargs.setdefault("reconnect_max_backoff_s", 0.5)
        kwargs.setdefault("id_number_check", id_number_valid)
        setup = create_idcard_reader(backend="simulator", **kwargs)  # type: ignore[arg-type]
        made.append(setup)
        assert setup.service.wait_online(5), f"reader did not come online: {setup.service.status_detail}"
        return setup

    yield make
    for setup in made:
        setup.close()


@pytest.fixture
def reader(make_reader: Callable[..., IdCardSetup]) -> IdCardSetup:
    return make_reader()


