"""The field profile's two screen paths (issue 8) on the real shell (offscreen) and real drivers:
the staff card + PIN sign-in (virtual card and PSAM, PIN pad simulator: the card checks the PIN) and
a roster pick that certifies that person with the live image (still camera, real face models) and
writes the operator's id on the record. The kiosk is the demo kiosk of kiosk.app.build_kiosk with the
field core started on it (embedded backend, local store, a signed operator list, an encrypted roster)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from service_helpers import (
    LIVE,
    Kiosk,
    bridge_for,
    flow_factories,
    kiosk_with_templates,
    screen_text,
    wait_until,
)

from drivers.api import DeviceStatus
from kiosk import i18n
from kiosk.messages import flows as M

_FIELD = str(Path(__file__).resolve().parents[1] / "field")
if _FIELD not in sys.path:
    sys.path.insert(0, _FIELD)

from fieldhelpers import roster_answer, signed_operator_list, signing_key_b64, store_list  # noqa: E402

pytestmark = pytest.mark.gui
PASSWORD = "field ui password 31"
CARD_ID = "440106198003071234"
CARD_PIN = "246810"
REVIEW_KEY = X25519PrivateKey.generate()


def zh(msgid: str, **fmt: Any) -> str:
    i18n.set_language("zh_CN")
    return i18n._(msgid).format(**fmt) if fmt else i18n._(msgid)


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    k = kiosk_with_templates(tmp_path_factory.mktemp("ui-field"),
                             ui={"idle_timeout_s": 120, "countdown_s": 5},
                             field={"signing_key": signing_key_b64(REVIEW_KEY), "roster_kdf_n": 1024})
    try:
        store_list(k.services.sync.store, signed_operator_list(REVIEW_KEY, [
            {"operator_id": "op-7", "name": "周敏", "password": PASSWORD, "card": CARD_ID}]))
        yield k
    finally:
        k.services.close()


@pytest.fixture
def field(kiosk: Kiosk) -> Iterator[Any]:
    from kiosk.field.service import start_field

    f = start_field(kiosk.services)
    try:
        yield f
    finally:
        f.stop()
        kiosk.remove_card()
        wait_until(lambda: kiosk.services.card.status is DeviceStatus.NO_MEDIA, 5, "the reader to show no card")


def _save_roster(field: Any, persons: list[dict[str, Any]]) -> None:
    answer = roster_answer(3)
    answer["persons"][:len(persons)] = persons
    info, key = field.vault.save(answer, operator_id="op-7", secret=bytearray(PASSWORD.encode()))
    key[:] = bytes(len(key))            # only the password opens it again
    assert info.count == 3


def _type_on_pad(qtbot: Any, kiosk: Kiosk, digits: str, enter: bool = True) -> None:
    pad = kiosk.services.pinpad_simulator
    qtbot.waitUntil(lambda: pad.entry_mode == "pin", timeout=20_000)
    for d in digits:
        pad.press(d)
    if enter:
        pad.press("enter")


def test_staff_card_and_pin_on_the_pad_sign_in_and_a_wrong_pin_is_refused_with_tries_left(
        qtbot: Any, qapp: Any, kiosk: Kiosk, field: Any) -> None:
    from kiosk.field.operators import OperatorState
    from ui.field import OperatorSignInScreen
    from ui.field.signin import CARD_SIGNED_IN, ROSTER_STAYS_LOCKED, TYPE_PIN_ON_PAD, WRONG_PIN_TRIES

    i18n.set_language("zh_CN")
    _save_roster(field, [])
    services = kiosk.services
    screen = OperatorSignInScreen(field, card=services.card, pinpad=services.pinpad, pin_timeout_s=20)
    qtbot.addWidget(screen)
    screen.resize(1280, 900)
    screen.show()
    kiosk.insert(CARD_ID, "周敏", pin=CARD_PIN, max_tries=3)
    wait_until(lambda: services.card.status is not DeviceStatus.NO_MEDIA, 5, "the reader to see the card")

    # Wrong PIN: the dots follow the pad, the digits appear nowhere, the card's tries left are said.
    qtbot.mouseClick(screen.card_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.pin.isVisible() and screen.message.text() == zh(TYPE_PIN_ON_PAD), timeout=20_000)
    _type_on_pad(qtbot, kiosk, "135790", enter=False)
    qtbot.waitUntil(lambda: screen.pin.count == 6, timeout=10_000)
    assert screen.pin.dots.text() == " ".join(["●"] * 6)
    shown = " ".join(w.text() for w in screen.findChildren(type(screen.message)))
    assert "135790" not in shown
    services.pinpad_simulator.press("enter")
    qtbot.waitUntil(lambda: screen.card_button.isEnabled(), timeout=20_000)
    assert screen.message.text() == zh(WRONG_PIN_TRIES, n=2), screen.message.text()
    assert field.gate.session is None and not screen.pin.isVisible()

    # The right PIN: signed in by card as op-7; the roster on the kiosk stays locked and the screen says so.
    with qtbot.waitSignal(screen.signed_in, timeout=30_000):
        qtbot.mouseClick(screen.card_button, Qt.MouseButton.LeftButton)
        _type_on_pad(qtbot, kiosk, CARD_PIN)
    session = field.gate.session
    assert session is not None and session.operator_id == "op-7" and session.method == "card"
    assert field.gate.state() is OperatorState.ACTIVE and session.roster is None
    assert screen.message.text() == f"{zh(CARD_SIGNED_IN)} {zh(ROSTER_STAYS_LOCKED)}"


def test_staff_card_refusals_say_what_happened(qtbot: Any, qapp: Any, kiosk: Kiosk, field: Any) -> None:
    from ui.field import OperatorSignInScreen
    from ui.field.signin import CARD_REMOVED, TYPE_PIN_ON_PAD
    from ui.field.texts import ERROR_TEXTS

    i18n.set_language("zh_CN")
    services = kiosk.services
    screen = OperatorSignInScreen(field, card=services.card, pinpad=services.pinpad, pin_timeout_s=20)
    qtbot.addWidget(screen)
    # A card whose holder is not on the operator list: refused before any PIN is asked.
    kiosk.insert("440106195001011234", "李四", pin=CARD_PIN)
    wait_until(lambda: services.card.status is not DeviceStatus.NO_MEDIA, 5, "the reader to see the card")
    qtbot.mouseClick(screen.card_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.card_button.isEnabled(), timeout=20_000)
    assert screen.message.text() == zh(ERROR_TEXTS["card_not_authorised"])
    assert services.pinpad_simulator.entry_mode != "pin" and field.gate.session is None
    kiosk.remove_card()
    wait_until(lambda: services.card.status is DeviceStatus.NO_MEDIA, 5, "the reader to show no card")
    # The operator's card pulled while the PIN is typed.
    kiosk.insert(CARD_ID, "周敏", pin=CARD_PIN)
    wait_until(lambda: services.card.status is not DeviceStatus.NO_MEDIA, 5, "the reader to see the card")
    qtbot.mouseClick(screen.card_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.message.text() == zh(TYPE_PIN_ON_PAD), timeout=20_000)
    kiosk.remove_card()
    wait_until(lambda: services.card.status is DeviceStatus.NO_MEDIA, 5, "the reader to show no card")
    _type_on_pad(qtbot, kiosk, CARD_PIN)
    qtbot.waitUntil(lambda: screen.card_button.isEnabled(), timeout=20_000)
    assert screen.message.text() == zh(CARD_REMOVED) and field.gate.session is None


def test_picking_a_roster_row_certifies_that_person_with_the_operator_on_the_record(
        qtbot: Any, make_window: Any, kiosk: Kiosk, field: Any) -> None:
    from ui.field_console import attach_field

    services = kiosk.services
    kiosk.camera_shows(LIVE)
    id_number, _phone = kiosk.person("周桂兰")          # at the bureau, enrolled with the live face
    _save_roster(field, [{"id_number": id_number, "id_masked": id_number[:4] + "*" * 10 + id_number[-4:],
                          "name": "周桂兰", "district": "天河区", "address": "天河区花园路1号",
                          "due_date": "2026-12-31", "template": kiosk.templates["T1"], "model": "sface_2021dec"}])
    field.gate.sign_in_card(CARD_ID, pin_verified=True)   # the card path itself is the test above
    bridge = bridge_for(services)
    window = make_window(config=services.config, core=services.session, bridge=bridge,
                         flows=flow_factories(services, field))
    try:
        console = attach_field(window, field, services.config, kiosk.tmp / "reports",
                               card=services.card, pinpad=services.pinpad)
        console.show_tab("roster")
        roster = console.roster
        # After a card sign-in the roster is locked: the password opens it on this screen.
        assert roster.open_button.isVisible() and roster.persons.count() == 0
        roster.password.setText(PASSWORD)
        qtbot.mouseClick(roster.open_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: roster.persons.count() == 3, timeout=15_000)
        assert not roster.open_button.isVisible()
        row = next(roster.persons.item(i) for i in range(roster.persons.count())
                   if roster.persons.item(i).data(256) == id_number)
        assert id_number not in row.text()
        rect = roster.persons.visualItemRect(row)
        qtbot.mouseClick(roster.persons.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

        def touch(text: str) -> None:
            def ready() -> bool:
                return any(b.isVisible() and b.isEnabled() and b.text() == text
                           for b in window.findChildren(QPushButton))
            try:
                qtbot.waitUntil(ready, timeout=30_000)
            except Exception:
                raise AssertionError(f"no button {text!r}; the screen shows:\n{screen_text(window)}") from None
            btn = next(b for b in window.findChildren(QPushButton) if b.isVisible() and b.text() == text)
            qtbot.mouseClick(btn, Qt.MouseButton.LeftButton)

        assert not console.isVisible()
        qtbot.waitUntil(lambda: "周*兰" in screen_text(window), timeout=30_000)   # the person confirms the name
        touch(zh(M.YES_THIS_IS_ME))
        touch(zh(M.AGREE))
        qtbot.waitUntil(lambda: zh(M.CERTIFIED_TITLE) in screen_text(window), timeout=60_000)
        qtbot.waitUntil(lambda: window.flow is not None and window.flow.outcome is not None, timeout=10_000)
        outcome = window.flow.outcome
        assert outcome.ok, outcome
        records = [r for r in kiosk.records_of(outcome) if r["type"] == "certification"]
        assert len(records) == 1
        record = records[0]
        assert record["operator_id"] == "op-7"
        assert record["payload"]["id_number"] == id_number and record["payload"]["result"] == "passed"
        # The roster shows the person certified (mark reconciled after the flow's commit).
        roster.refresh()
        row = next(roster.persons.item(i) for i in range(roster.persons.count())
                   if roster.persons.item(i).data(256) == id_number)
        assert zh("certified") in row.text()
    finally:
        services.flows.cancel("test end")
        if services.session.visit is not None:
            from kiosk.session import EndReason

            services.session.end_visit(EndReason.FINISHED)
        bridge.detach_all()
