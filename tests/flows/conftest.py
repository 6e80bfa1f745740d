"""Fixtures for the flow tests (helpers in flowhelpers.py): one demo kiosk per module, and each test
starting with the live picture and ending with no card in the reader."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flowhelpers import LIVE, Kiosk, kiosk_with_templates, wait_until

from drivers.api import DeviceStatus


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    k = kiosk_with_templates(tmp_path_factory.mktemp("flows"))
    try:
        yield k
    finally:
        k.services.close()


@pytest.fixture(autouse=True)
def clean_reader(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with the live picture and ends with no card in the reader."""
    if "kiosk" not in request.fixturenames:
        yield
        return
    k: Kiosk = request.getfixturevalue("kiosk")
    k.camera_shows(LIVE)
    yield
    k.remove_card()
    wait_until(lambda: k.services.card.status is DeviceStatus.NO_MEDIA, 5, "the reader to show no card")

