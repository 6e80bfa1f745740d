"""The field operator's screens (offscreen Qt) on the real core: store, outbox, operator gate and
roster vault; the sync worker pointed at a closed port (the kiosk is offline)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from fieldhelpers import roster_answer, signed_operator_list, signing_key_b64, store_list

from kiosk.i18n import set_language

pytestmark = pytest.mark.gui
PASSWORD = "ui password 77"


@pytest.fixture
def field(tmp_path: Path):  # type: ignore[no-untyped-def]
    from kiosk.backend_client import BackendClient
    from kiosk.config.schema import BackendSection, FieldSection, KioskConfig, KioskSection
    from kiosk.field.service import FieldKiosk
    from kiosk.signing import create_key
    from kiosk.store import Store
    from kiosk.sync import SyncWorker

    set_language("zh_CN")
    review = X25519PrivateKey.generate()
    config = KioskConfig(kiosk=KioskSection(id="field-ui-01", data_dir=str(tmp_path)),
                         backend=BackendSection(url="http://127.0.0.1:9", embedded=False),
                         field=FieldSection(signing_key=signing_key_b64(review), roster_kdf_n=1024,
                                            districts="天河区", power_supply_dir=str(tmp_path / "power")))
    signer = create_key(tmp_path / "k.key")
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id="field-ui-01", signer=signer)
    store_list(store, signed_operator_list(review, [{"operator_id": "op-7", "name": "周敏", "password": PASSWORD}]))
    client = BackendClient("http://127.0.0.1:9", "field-ui-01", signer, timeout_s=0.5)
    worker = SyncWorker(store, client, backoff_initial_s=5, backoff_max_s=5)
    kiosk = FieldKiosk(config=config, store=store, client=client, worker=worker, face=None, camera=None)
    yield kiosk
    kiosk.stop()
    client.close()
    store.close()


def _style(qapp) -> None:  # type: ignore[no-untyped-def]
    from ui import theme

    theme.apply_font(qapp, "Noto Sans CJK SC")
    qapp.setStyleSheet(theme.style_sheet("Noto Sans CJK SC"))


def test_sign_in_screen_refuses_a_wrong_password_and_signs_in_in_chinese(qtbot, qapp, field) -> None:  # type: ignore[no-untyped-def]
    from ui.field import OperatorSignInScreen

    _style(qapp)
    screen = OperatorSignInScreen(field)
    qtbot.addWidget(screen)
    assert screen.title.text() == "操作员登录"
    screen.operator_id.setText("op-7")
    screen.password.setText("wrong one")
    screen.submit()
    qtbot.waitUntil(lambda: screen.sign_in_button.isEnabled(), timeout=10_000)
    assert "密码" in screen.message.text() and field.gate.session is None
    screen.password.setText(PASSWORD)
    with qtbot.waitSignal(screen.signed_in, timeout=10_000):
        screen.submit()
    assert field.gate.session.operator_id == "op-7" and screen.password.text() == ""


def test_roster_report_and_conflict_screens_show_masked_data(qtbot, qapp, field, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kiosk.field.certify import FieldCertifier
    from kiosk.outbox import Outbox
    from ui.field import BatteryIndicator, DayReportScreen, RosterScreen, SyncConflictScreen

    _style(qapp)
    session = field.gate.sign_in_password("op-7", bytearray(PASSWORD.encode()))
    answer = roster_answer(4)
    _info, key = field.vault.save(answer, operator_id="op-7", secret=bytearray(PASSWORD.encode()))
    session.roster_key, session.roster = key, field.vault.open(key)
    first, second = (p["id_number"] for p in answer["persons"][:2])
    person = FieldCertifier.pick(session.roster.get(second))
    field.certifier.skip(person, "not_home")
    ref = field.store.commit_result("certification", {"id_number": first, "result": "passed", "method": "face"},
                                    operator_id="op-7")
    Outbox(field.store).mark_synced([{"id": ref.id, "status": "accepted", "outcome": "deceased",
                                      "message": "The bureau records this person as deceased"}])

    roster = RosterScreen(field)
    qtbot.addWidget(roster)
    assert "4 人" in roster.status.text() or "4" in roster.status.text()
    texts = [roster.persons.item(i).text() for i in range(roster.persons.count())]
    assert len(texts) == 4 and all(first not in t and "测试人0000" not in t for t in texts)
    assert any("已跳过" in t for t in texts)

    report = DayReportScreen(field, tmp_path / "reports")
    qtbot.addWidget(report)
    values = {name.text(): value.text() for name, value in report.count_labels}
    assert values["已认证"] == "1" and values["已跳过"] == "1" and values["待核对的结果"] == "1"
    report.export()
    qtbot.waitUntil(lambda: "已保存" in report.message.text(), timeout=20_000)
    assert len(list((tmp_path / "reports").glob("*.pdf"))) == 1

    sync = SyncConflictScreen(field)
    qtbot.addWidget(sync)
    sync.resize(1920, 1080)
    shown = " ".join(w.findChild(type(sync.status)).text() for w in sync.conflict_rows)
    assert "社保局记录为已故" in shown and first[:4] + "*" * 10 + first[-4:] in shown and first not in shown
    sync.grab().save(str(tmp_path / "sync.png"))
    assert (tmp_path / "sync.png").stat().st_size > 10_000

    (tmp_path / "power" / "BAT0").mkdir(parents=True)
    for name, value in {"type": "Battery", "capacity": "9", "status": "Discharging"}.items():
        (tmp_path / "power" / "BAT0" / name).write_text(value)
    battery = BatteryIndicator(field.battery, field.config.field.battery_min_percent)
    qtbot.addWidget(battery)
    assert "电量 9%" in battery.text.text() and "⚠" in battery.text.text()
    time.sleep(0)


def test_flow_deps_need_an_active_operator_and_carry_the_roster_first(field) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from kiosk.field.operators import SignInError
    from kiosk.field.templates import RosterTemplates

    services = SimpleNamespace(config=field.config, card=None, pinpad=None, camera=None, face=None,
                               sync=SimpleNamespace(client=field.client, store=field.store))
    with pytest.raises(SignInError):
        field.flow_deps(services)
    field.gate.sign_in_password("op-7", bytearray(PASSWORD.encode()))
    deps = field.flow_deps(services)
    assert deps.operator_id == "op-7" and isinstance(deps.templates.sources[0], RosterTemplates)


def test_the_sign_in_screen_updates_the_operator_list_or_says_why_not(qtbot, qapp, field) -> None:  # type: ignore[no-untyped-def]
    from ui.field import OperatorSignInScreen

    screen = OperatorSignInScreen(field)
    qtbot.addWidget(screen)
    screen.update_list()                                   # the kiosk is offline (closed port)
    qtbot.waitUntil(lambda: "无法连接社保局" in screen.message.text(), timeout=15_000)
