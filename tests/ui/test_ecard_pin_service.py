"""The e-card PIN (电子社保卡密码) on screen, from the home screen to the result, through the real
stack: the shell (offscreen), the demo kiosk's drivers (PIN pad driver over its pty simulator,
still-image camera with the real face models, OpenCV reading the phone's code), and the real
backend as its own process on PostgreSQL (the e-card platform and its PIN service), enrolled like
a real kiosk and given the pad's e-card master key by the key ceremony's operator endpoint.

Set, change (wrong old PIN shows the tries left), lock after wrong PINs, reset by face + SMS,
backend down; and over all of it: no PIN, PIN block or key in logs, records or the database.
"""

from __future__ import annotations

import base64
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import httpx
import pytest
import sqlalchemy as sa
from pgfixture import PgCluster, pg_cluster  # noqa: F401  (the shared session fixture)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from service_helpers import LIVE, Kiosk, bridge_for, face_file, flow_factories, screen_text, sees, zh

_SYNC = str(Path(__file__).resolve().parents[1] / "sync")
if _SYNC not in sys.path:
    sys.path.insert(0, _SYNC)

from flowhelpers import OTHER_PERSON, site_config  # noqa: E402
from synchelpers import BackendProcess  # noqa: E402

from drivers.codescan.phone_render import PhoneShot, render  # noqa: E402
from kiosk.ecard.pad import DEMO_COMPONENTS, combined, demo_ceremony  # noqa: E402
from kiosk.messages import ecard as E  # noqa: E402
from kiosk.messages import ecard_pin as EP  # noqa: E402
from kiosk.messages import flows as M  # noqa: E402
from kiosk.messages.idcard import NEEDS_SOCIAL_SECURITY_CARD  # noqa: E402
from kiosk.pin_policy import RULE_MESSAGES, WeakPinRule  # noqa: E402
from kiosk.session import EndReason  # noqa: E402
from ui.widgets.error_panel import GO_HOME, RETRY  # noqa: E402

pytestmark = pytest.mark.gui

KIOSK_ID = "ecard-pin-kiosk-01"
TYPED_PINS = ("807162", "593048", "640395", "918273", "000135")      # every PIN these tests type
SEEN_BLOCKS: list[str] = []          # PIN blocks the pad made in these tests (hex), searched for at the end


def last_block(kiosk: PgKiosk, id_number: str, pin: str) -> str:
    """The block the pad made for ``pin`` under the e-card working key it holds now (its own key
    store: the simulator is the pad), as the platform received it."""
    from backend.ecard_pin import pan_for
    from drivers.crypto.ciphers import cipher_for
    from drivers.crypto.pinblock import PinBlockFormat, encrypt_pin_block
    from kiosk.ecard.pad import ECARD_MASTER_INDEX, ECARD_WORK_INDEX

    alg = kiosk.services.config.pinpad.pin_algorithm
    work = kiosk.services.pinpad_simulator._work[(alg, ECARD_MASTER_INDEX, ECARD_WORK_INDEX)]
    return encrypt_pin_block(bytearray(pin.encode()), pan_for(id_number), PinBlockFormat.ISO0,
                             cipher_for(alg, work), expand_to_16=True, pan_has_check_digit=False).hex()


@dataclass
class Platform:
    proc: BackendProcess
    dsn: str


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, pg_cluster: PgCluster) -> Iterator[Platform]:  # noqa: F811
    dsn = pg_cluster.create_database("ecardpin")
    proc = BackendProcess(dsn, tmp_path_factory.mktemp("platform"))
    proc.start()
    yield Platform(proc, dsn)
    proc.close()


class PgKiosk(Kiosk):
    """The flow tests' kiosk helper, its backend the platform process on PostgreSQL."""

    platform: BackendProcess

    @property
    def backend(self) -> Any:
        return self.platform

    def seed(self, **person: Any) -> None:
        r = httpx.post(f"{self.platform.url}/v1/operator/seed", json={"persons": [person]}, timeout=10,
                       headers={"Authorization": f"Bearer {self.platform.operator_token}"})
        assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory, platform: Platform) -> Iterator[PgKiosk]:
    from kiosk.app import build_kiosk
    from kiosk.enroll import enroll

    tmp = tmp_path_factory.mktemp("ui-ecard-pin")
    config = site_config(tmp, kiosk={"id": KIOSK_ID}, backend={"embedded": False, "url": platform.proc.url},
                         ui={"idle_timeout_s": 90, "countdown_s": 5})
    _signer, answer = enroll(config, platform.proc.enrollment_token(KIOSK_ID))      # `kiosk enroll`
    assert type(answer).__name__ == "Enrolled", answer
    services = build_kiosk(config)
    assert not services.problems, services.problems
    k = PgKiosk(services, tmp)
    k.platform = platform.proc
    try:
        # The key ceremony: the custodians' components into the pad's e-card master index and the platform.
        problem = demo_ceremony(services.pinpad_simulator, platform.proc.url, platform.proc.operator_token,
                                KIOSK_ID, config.pinpad.pin_algorithm)
        assert problem is None, problem
        for key, rel in {"T1": LIVE, "other": OTHER_PERSON}.items():
            done = services.face.template_from_image(cv2.imread(str(face_file(rel)))).wait(20)
            assert done.ok and done.result is not None, done
            k.templates[key] = base64.b64encode(done.result.to_bytes()).decode()
            done.result.wipe()
        yield k
    finally:
        services.close()


class Citizen:
    """Drives the shell like a person with only a phone: its code, the screen's buttons, the pad."""

    def __init__(self, qtbot: Any, window: Any, kiosk: PgKiosk) -> None:
        self.qtbot, self.window, self.kiosk = qtbot, window, kiosk
        self.pad = kiosk.services.pinpad_simulator

    def text(self) -> str:
        return screen_text(self.window)

    def sees(self, *needles: str, timeout: float = 30.0) -> str:
        return sees(self.qtbot, self.window, *needles, timeout=timeout)

    def touch(self, text: str, timeout: float = 30.0) -> None:
        def find() -> QPushButton | None:
            for btn in self.window.findChildren(QPushButton):
                if btn.isVisible() and btn.isEnabled() and text in btn.text():
                    return btn
            return None
        try:
            self.qtbot.waitUntil(lambda: find() is not None, timeout=int(timeout * 1000))
        except Exception:
            raise AssertionError(f"no button {text!r}; the screen shows:\n{self.text()}") from None
        self.qtbot.mouseClick(find(), Qt.MouseButton.LeftButton)

    def types(self, digits: str, mode: str = "pin") -> None:
        self.qtbot.waitUntil(lambda: self.pad.entry_mode == mode, timeout=30000)
        for d in digits:
            self.pad.press(d)
        self.pad.press("enter")

    def signs_in_with_ecard(self, id_number: str) -> None:
        """The phone's dynamic code from the platform, in front of the camera; the e-card button."""
        p = self.kiosk.platform
        r = httpx.post(f"{p.url}/v1/dev/ecard/codes", json={"id_number": id_number}, timeout=10,
                       headers={"Authorization": f"Bearer {p.operator_token}"})
        assert r.status_code == 200, r.text
        frame = render(r.json()["code"], PhoneShot(code_fraction=0.25, yaw_deg=10, glare=0.3, moire=0.4))
        staging = self.kiosk.tmp / "camera.tmp.png"
        cv2.imwrite(str(staging), frame)
        staging.replace(self.kiosk.tmp / "camera.jpg")
        self.qtbot.waitUntil(lambda: self.window.current_page == "attract", timeout=10000)
        self.qtbot.mouseClick(self.window.attract.ecard_button, Qt.MouseButton.LeftButton)
        self.sees(zh(E.SIGNED_IN_TITLE))
        self.qtbot.waitUntil(lambda: self.kiosk.services.session.identity is not None, timeout=10000)
        self.kiosk.camera_shows(LIVE)          # the camera now sees the citizen's face
        self.back_home()

    def back_home(self) -> None:
        """"Back to home" on the result screen."""
        self.qtbot.waitUntil(lambda: self.window.result.home_button.isVisible(), timeout=30000)
        self.qtbot.mouseClick(self.window.result.home_button, Qt.MouseButton.LeftButton)

    def opens_ecard_pin(self) -> None:
        self.qtbot.waitUntil(lambda: self.window.current_page == "home", timeout=30000)
        self.qtbot.mouseClick(self.window.home.service_buttons["ecard_pin"], Qt.MouseButton.LeftButton)
        self.sees(zh(EP.CHOOSE))

    def new_pin(self, pin: str) -> None:
        self.sees(zh(EP.NEW_TITLE), zh(EP.NEW_INSTRUCTION))
        self.types(pin)
        self.sees(zh(EP.NEW_AGAIN_TITLE))
        self.types(pin)


@pytest.fixture
def citizen(qtbot: Any, make_window: Any, kiosk: PgKiosk, caplog: pytest.LogCaptureFixture) -> Iterator[Citizen]:
    caplog.set_level(logging.DEBUG)
    services = kiosk.services
    bridge = bridge_for(services)
    window = make_window(core=services.session, bridge=bridge, flows=flow_factories(services))
    yield Citizen(qtbot, window, kiosk)
    if services.session.visit is not None:
        services.session.end_visit(EndReason.FINISHED)
    services.flows.cancel("test end")
    bridge.detach_all()
    kiosk.camera_shows(LIVE)
    # No PIN typed here ever reaches a log line (message or fields) of the kiosk or its drivers.
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert not [p for p in TYPED_PINS if p in logged]


def pin_state(platform: Platform, id_number: str) -> dict[str, Any] | None:
    engine = sa.create_engine(platform.dsn.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT failures, locked_at FROM ecard_pins WHERE id_number = :i"),
                               {"i": id_number}).mappings().first()
        return dict(row) if row else None
    finally:
        engine.dispose()


def test_set_then_change_on_the_pad_with_the_tries_left_shown(citizen: Citizen, kiosk: PgKiosk,
                                                               platform: Platform) -> None:
    id_number, phone = kiosk.person("林秀英")
    citizen.signs_in_with_ecard(id_number)
    citizen.opens_ecard_pin()
    # The screen names this PIN plainly and says it is not the card's.
    assert "电子社保卡密码" in citizen.text() and "两者互相独立" in citizen.text()
    citizen.touch(zh(EP.CHOICE_SET))
    citizen.sees(zh(EP.PAD_TITLE))                             # over the dots too: the e-card's PIN
    assert "请在密码键盘上输入社保卡密码" not in citizen.text()
    citizen.new_pin("123456")                                   # a sequence: the card PIN's own rule
    citizen.sees(zh(RULE_MESSAGES[WeakPinRule.SEQUENCE]))
    citizen.touch(zh(RETRY))
    citizen.new_pin("807162")
    citizen.sees(zh(EP.SET_TITLE), zh(EP.ALERT_SENT))
    assert phone is not None and any("电子社保卡密码已于" in m["text"] for m in kiosk.sms_messages(phone))

    citizen.back_home()
    citizen.opens_ecard_pin()
    citizen.touch(zh(EP.CHOICE_CHANGE))
    citizen.sees(zh(EP.OLD_TITLE), "不是社保卡密码")
    citizen.types("593048")                                     # wrong old PIN
    citizen.new_pin("640395")
    citizen.sees(zh(EP.WRONG_PIN, n=4))
    citizen.touch(zh(RETRY))
    citizen.sees(zh(EP.OLD_TRIES, n=4))
    citizen.types("807162")
    citizen.new_pin("640395")
    citizen.sees(zh(EP.CHANGED_TITLE))
    assert pin_state(platform, id_number) == {"failures": 0, "locked_at": None}
    records = [r for r in kiosk.records() if r["type"] == "ecard_pin"]
    assert [r["payload"]["purpose"] for r in records[-2:]] == ["set", "change"]
    assert records[-1]["payload"]["method"] == "e_card"


def test_wrong_pins_lock_it_then_a_reset_by_face_and_sms_unlocks(citizen: Citizen, kiosk: PgKiosk,
                                                                  platform: Platform) -> None:
    id_number, phone = kiosk.person("黄志强")
    assert phone is not None
    citizen.signs_in_with_ecard(id_number)
    citizen.opens_ecard_pin()
    citizen.touch(zh(EP.CHOICE_SET))
    citizen.new_pin("807162")
    citizen.sees(zh(EP.SET_TITLE))
    citizen.back_home()
    citizen.opens_ecard_pin()
    citizen.touch(zh(EP.CHOICE_CHANGE))
    for left in (4, 3, 2, 1):
        citizen.sees(zh(EP.OLD_TITLE))
        citizen.types("918273")
        citizen.new_pin("640395")
        citizen.sees(zh(EP.WRONG_PIN, n=left))
        citizen.touch(zh(RETRY))
    citizen.types("918273")
    citizen.new_pin("640395")
    citizen.sees(zh(EP.LOCKED), zh(EP.LOCKED_TODO))
    state = pin_state(platform, id_number)
    assert state is not None and state["failures"] == 5 and state["locked_at"] is not None
    # Try again -> the choice; change is refused while locked; forgot -> face + SMS -> new PIN.
    citizen.touch(zh(RETRY))
    citizen.touch(zh(EP.CHOICE_CHANGE))
    citizen.sees(zh(EP.LOCKED))
    citizen.touch(zh(RETRY))
    citizen.touch(zh(EP.CHOICE_RESET))
    citizen.sees(zh(M.CONSENT_INSTRUCTION))
    citizen.touch(zh(M.AGREE))
    citizen.sees(zh(M.SMS_TITLE), timeout=60)
    citizen.types(kiosk.latest_code(phone)(), mode="plain")
    citizen.new_pin("000135")
    citizen.sees(zh(EP.RESET_TITLE), timeout=30)
    SEEN_BLOCKS.append(last_block(kiosk, id_number, "000135"))
    assert pin_state(platform, id_number) == {"failures": 0, "locked_at": None}
    assert any("电子社保卡密码重置" in m["text"] for m in kiosk.sms_messages(phone))
    reset = [r for r in kiosk.records() if r["type"] == "ecard_pin"][-1]["payload"]
    assert reset["purpose"] == "reset" and reset["checks"] == ["face", "sms"] and reset["face_outcome"] == "match"


def test_backend_down_gives_clear_guidance(citizen: Citizen, kiosk: PgKiosk, platform: Platform) -> None:
    id_number, _phone = kiosk.person("郑国华")
    citizen.signs_in_with_ecard(id_number)
    platform.proc.stop()
    try:
        citizen.opens_ecard_pin()
        citizen.touch(zh(EP.CHOICE_SET))
        citizen.sees(zh(M.BACKEND_DOWN), zh(EP.DOWN_TODO))
    finally:
        platform.proc.start()
    failed = [r for r in kiosk.records() if r["type"] == "attempt_failed"][-1]["payload"]
    assert failed["service"] == "ecard_pin" and failed["reason"] == "backend_unavailable"
    # Down while saving: the request may have arrived, so the kiosk does not claim nothing changed.
    citizen.touch(zh(GO_HOME))
    citizen.opens_ecard_pin()
    citizen.touch(zh(EP.CHOICE_SET))
    citizen.sees(zh(EP.NEW_TITLE))
    citizen.types("807162")
    citizen.sees(zh(EP.NEW_AGAIN_TITLE))
    platform.proc.stop()
    try:
        citizen.types("807162")
        citizen.sees(zh(EP.UNCERTAIN), zh(EP.UNCERTAIN_TODO))
    finally:
        platform.proc.start()


def expire_pin_sessions(platform: Platform, id_number: str) -> None:
    """Every open e-card PIN session of ``id_number`` past its 5 minutes, in the platform's own table
    (as the minutes passing would)."""
    engine = sa.create_engine(platform.dsn.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            done = conn.execute(sa.text("UPDATE ecard_pin_sessions SET expires_at = '2020-01-01 00:00:00+00' "
                                        "WHERE id_number = :i AND used_at IS NULL"), {"i": id_number})
            assert done.rowcount >= 1
    finally:
        engine.dispose()


def test_an_expired_pin_session_says_start_again(citizen: Citizen, kiosk: PgKiosk, platform: Platform) -> None:
    id_number, _phone = kiosk.person("周丽娟")
    citizen.signs_in_with_ecard(id_number)
    citizen.opens_ecard_pin()
    citizen.touch(zh(EP.CHOICE_SET))
    citizen.sees(zh(EP.NEW_TITLE))
    citizen.types("807162")
    citizen.sees(zh(EP.NEW_AGAIN_TITLE))
    expire_pin_sessions(platform, id_number)         # the citizen took more than five minutes
    citizen.types("807162")
    citizen.sees(zh(EP.SESSION_OVER), zh(EP.SESSION_OVER_TODO))
    assert zh(M.SOMETHING_WENT_WRONG) not in citizen.text()
    assert pin_state(platform, id_number) is None            # nothing was saved
    failed = [r for r in kiosk.records() if r["type"] == "attempt_failed"][-1]["payload"]
    assert failed["service"] == "ecard_pin" and failed["reason"] == "session_over"
    citizen.touch(zh(RETRY))                                  # a fresh session: the PINs again
    citizen.new_pin("807162")
    citizen.sees(zh(EP.SET_TITLE))
    assert pin_state(platform, id_number) == {"failures": 0, "locked_at": None}


def test_account_status_in_an_e_card_visit_is_the_bureau_s_record(citizen: Citizen, kiosk: PgKiosk,
                                                                     platform: Platform) -> None:
    id_number, _phone = kiosk.person("欧阳明华", card_state="initial_pin")
    citizen.signs_in_with_ecard(id_number)
    citizen.qtbot.waitUntil(lambda: citizen.window.current_page == "home", timeout=30000)
    citizen.qtbot.mouseClick(citizen.window.home.service_buttons["card_status"], Qt.MouseButton.LeftButton)
    text = citizen.sees(zh(E.ACCOUNT_TITLE), zh(E.CHIP_NOT_READ))
    # The bureau's state of the card, the masked name and ID; no card asked for, no card PIN.
    assert zh(M.STATE_INITIAL_PIN) in text and "欧**华" in text and id_number not in text
    assert zh(M.READ_CARD_TITLE) not in text and zh(M.INSERT_CARD_TITLE) not in text
    [record] = [r for r in kiosk.records() if r["type"] == "card_status"][-1:]
    assert record["payload"] == {"id_number": id_number, "state": "initial_pin", "pin_verified": False,
                                 "method": "e_card", "chip_read": False}
    # A service that writes the card is not on visit_services: it still says it needs the card.
    citizen.back_home()
    citizen.qtbot.waitUntil(lambda: citizen.window.current_page == "home", timeout=30000)
    citizen.window.start_service("pin_change")
    citizen.sees(zh(NEEDS_SOCIAL_SECURITY_CARD))
    # And card status too, where the site's [ecard] visit_services leaves it out.
    session = kiosk.services.session
    configured = session.ecard_services
    session.ecard_services = frozenset({"ecard_pin", "real_name"})
    try:
        citizen.touch(zh(GO_HOME))
        citizen.qtbot.waitUntil(lambda: citizen.window.current_page == "home", timeout=30000)
        citizen.window.start_service("card_status")
        citizen.sees(zh(NEEDS_SOCIAL_SECURITY_CARD))
        assert zh(E.ACCOUNT_TITLE) not in citizen.text()
    finally:
        session.ecard_services = configured
    # The bureau unreachable: the backend sentence, not a card question.
    citizen.touch(zh(GO_HOME))
    citizen.qtbot.waitUntil(lambda: citizen.window.current_page == "home", timeout=30000)
    platform.proc.stop()
    try:
        citizen.window.start_service("card_status")
        citizen.sees(zh(M.BACKEND_DOWN), zh(M.BACKEND_DOWN_TODO))
    finally:
        platform.proc.start()
    failed = [r for r in kiosk.records() if r["type"] == "attempt_failed"][-1]["payload"]
    assert failed["service"] == "card_status" and failed["reason"] == "backend_unavailable"


def test_real_name_registration_in_an_e_card_visit_uses_the_signed_in_identity(citizen: Citizen, kiosk: PgKiosk,
                                                                                platform: Platform) -> None:
    id_number, phone = kiosk.person("司马玉兰", template=None)
    assert phone is not None
    card_number = f"62220202{id_number[-8:]}000"
    r = httpx.post(f"{kiosk.platform.url}/v1/operator/seed", timeout=10,
                   headers={"Authorization": f"Bearer {kiosk.platform.operator_token}"},
                   json={"bank_accounts": [{"bank_code": "ICBC", "card_number": card_number, "name": "司马玉兰",
                                            "id_number": id_number, "phone": phone, "kind": "debit"}]})
    assert r.status_code == 200, r.text
    citizen.signs_in_with_ecard(id_number)
    citizen.qtbot.waitUntil(lambda: citizen.window.current_page == "home", timeout=30000)
    citizen.qtbot.mouseClick(citizen.window.home.service_buttons["real_name"], Qt.MouseButton.LeftButton)
    citizen.sees(zh(M.BANK_QUESTION))
    assert zh(M.READ_CARD_TITLE) not in citizen.text() and zh(M.INSERT_CARD_TITLE) not in citizen.text()
    citizen.touch("中国工商银行")
    citizen.touch(zh(M.AGREE))
    citizen.sees(zh(M.BANK_CARD_TITLE))
    citizen.types(card_number, mode="plain")
    citizen.sees(zh(M.PHONE_TITLE))
    citizen.types(phone, mode="plain")
    citizen.sees(zh(M.SMS_TITLE), timeout=60)
    citizen.types(kiosk.latest_code(phone)(), mode="plain")
    text = citizen.sees(zh(M.REGISTERED_TITLE))
    assert "司**兰" in text and id_number not in text
    record = [r for r in kiosk.records() if r["type"] == "registration"][-1]["payload"]
    assert record == {"id_number": id_number, "bank_code": "ICBC", "outcome": "created", "method": "e_card"}
    engine = sa.create_engine(platform.dsn.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            # The bank was asked with the bureau's record of the name, not the masked one.
            names = conn.execute(sa.text("SELECT name FROM bank_verifications WHERE id_number = :i"),
                                 {"i": id_number}).scalars().all()
    finally:
        engine.dispose()
    assert names == ["司马玉兰"]


def test_no_pin_block_or_key_anywhere(kiosk: PgKiosk, platform: Platform) -> None:
    """After the flows above: the kiosk's files (store, outbox, logs), the platform's log and every
    row of its database hold no PIN typed, and no key of the ceremony."""
    secrets_hex = [combined().hex(), *(c.lower() for c in DEMO_COMPONENTS)]
    assert SEEN_BLOCKS, "the reset test ran first and noted its PIN block"
    needles = [*TYPED_PINS, *secrets_hex, *SEEN_BLOCKS]
    blobs: dict[str, str] = {}
    for root in (kiosk.tmp, platform.proc.data_dir):
        for path in Path(root).rglob("*"):
            if path.is_file() and path.suffix not in (".jpg", ".png"):
                blobs[str(path)] = path.read_bytes().decode("latin-1").lower()
    engine = sa.create_engine(platform.dsn.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            tables = [t for (t,) in conn.execute(sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
            assert "ecard_pins" in tables
            for table in tables:
                query = f'SELECT t::text FROM "{table}" t'      # noqa: S608  (names from pg_tables)
                rows = conn.execute(sa.text(query)).scalars().all()
                blobs[f"db:{table}"] = "\n".join(rows).lower()      # bytea prints as \\x<hex>: searched too
            assert conn.execute(sa.text("SELECT count(*) FROM ecard_pins")).scalar() >= 2
    finally:
        engine.dispose()
    leaks = [(where, n) for where, text in blobs.items() for n in needles if n.lower() in text]
    assert not leaks, leaks


def test_an_e_card_visit_is_served_on_a_kiosk_whose_card_reader_is_gone(qtbot: Any, make_window: Any,
                                                                        kiosk: PgKiosk, platform: Platform) -> None:
    """The e-card's services need no card reader; a card visit's services still say the reader is out."""
    from ui.bridge import CITIZEN_CARD_READER
    from ui.main import bridge_for_devices
    from ui.window import NO_CARD_READER

    services = kiosk.services
    bridge = bridge_for_devices({name: d for name, d in services.devices.items() if name != "smartcard"})
    assert not bridge.has(CITIZEN_CARD_READER)
    window = make_window(core=services.session, bridge=bridge, flows=flow_factories(services))
    citizen = Citizen(qtbot, window, kiosk)
    try:
        id_number, _phone = kiosk.person("司马秀兰")
        citizen.signs_in_with_ecard(id_number)
        qtbot.waitUntil(lambda: window.current_page == "home", timeout=30000)
        window.start_service("card_status")
        text = citizen.sees(zh(E.ACCOUNT_TITLE), zh(E.CHIP_NOT_READ))
        assert zh(NO_CARD_READER) not in text
        services.session.end_visit(EndReason.FINISHED)
        # Without an e-card visit the same service meets the missing reader and says so.
        qtbot.waitUntil(lambda: services.session.visit is None, timeout=10000)
        services.session.start_visit("touch")
        window.start_service("card_status")
        citizen.sees(zh(NO_CARD_READER))
    finally:
        if services.session.visit is not None:
            services.session.end_visit(EndReason.FINISHED)
        services.flows.cancel("test end")
        bridge.detach_all()
        kiosk.camera_shows(LIVE)
