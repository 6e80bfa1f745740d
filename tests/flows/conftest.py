"""Fixtures for the flow tests (helpers in flowhelpers.py): one demo kiosk per module, and each test
starting with the live picture and ending with no card in the reader."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from flowhelpers import LIVE, OTHER_PERSON, Kiosk, build, face_file, wait_until

from drivers.api import DeviceStatus


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    import cv2

    tmp = tmp_path_factory.mktemp("flows")
    services = build(tmp)
    k = Kiosk(services, tmp)
    try:
        for key, rel in {"T1": LIVE, "other": OTHER_PERSON}.items():
            done = services.face.template_from_image(cv2.imread(str(face_file(rel)))).wait(20)
            assert done.ok and done.result is not None, f"no template from {rel}: {done}"
            k.templates[key] = base64.b64encode(done.result.to_bytes()).decode()
            done.result.wipe()
        yield k
    finally:
        services.close()


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

