"""Operator list, sign-in, lock and sign-out; roster encryption at rest, expiry purge; battery;
the roster as the flows' TemplateSource."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from fieldhelpers import Clock, roster_answer, signed_operator_list, signing_key_b64, store_list

from kiosk.field.battery import read_battery
from kiosk.field.operators import OperatorDirectory, OperatorGate, OperatorState, SignInError
from kiosk.field.vault import NAMESPACE, RosterError, RosterVault
from kiosk.signing import create_key
from kiosk.store import Store

PASSWORD = "correct horse 42"
CARD = "440106198003071234"


@pytest.fixture
def review_private() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Store(tmp_path / "kiosk.sqlite3", kiosk_id="field-test-01", signer=create_key(tmp_path / "k.key"))
    yield s
    s.close()


@pytest.fixture
def wall() -> Clock:
    return Clock(time.time())


@pytest.fixture
def directory(store: Store, review_private: X25519PrivateKey, wall: Clock) -> OperatorDirectory:
    store_list(store, signed_operator_list(review_private, [
        {"operator_id": "op-7", "name": "周敏", "password": PASSWORD, "card": CARD},
        {"operator_id": "op-8", "name": "吴刚", "password": "other password"}], issued=wall.now))
    return OperatorDirectory(store, pinned_key_b64=signing_key_b64(review_private), max_age_days=30, clock=wall)


def _pw(text: str = PASSWORD) -> bytearray:
    return bytearray(text.encode())


def test_the_operator_list_is_checked_every_time_it_is_read(store: Store, directory: OperatorDirectory,
                                                           review_private: X25519PrivateKey, wall: Clock) -> None:
    assert [e.operator_id for e in directory.entries()] == ["op-7", "op-8"]
    doc = json.loads(store.get_meta("field.operator_list") or "")
    doc["operators"][1]["password_hash"] = doc["operators"][0]["password_hash"]   # edited on disk
    store_list(store, doc)
    with pytest.raises(SignInError) as bad:
        directory.entries()
    assert bad.value.code == "list_bad_signature"
    other = OperatorDirectory(store, pinned_key_b64=signing_key_b64(X25519PrivateKey.generate()), clock=wall)
    store_list(store, signed_operator_list(review_private, [{"operator_id": "op-7", "name": "x", "password": PASSWORD}],
                                           issued=wall.now))
    with pytest.raises(SignInError) as foreign:
        other.entries()                     # signed, but not by the key this kiosk trusts
    assert foreign.value.code == "list_bad_signature"
    wall.advance(31 * 86400)
    with pytest.raises(SignInError) as old:
        directory.entries()
    assert old.value.code == "list_expired"
    store.set_meta("field.operator_list", "")
    with pytest.raises(SignInError) as missing:
        directory.entries()
    assert missing.value.code == "list_missing"


def test_sign_in_lock_unlock_and_sign_out_wipes_the_session(directory: OperatorDirectory) -> None:
    mono = Clock(1000.0)
    gate = OperatorGate(directory, lock_after_s=300, clock=mono)
    states: list[OperatorState] = []
    gate.subscribe(states.append)
    with pytest.raises(SignInError) as wrong:
        gate.sign_in_password("op-7", _pw("wrong password"))
    assert wrong.value.code == "wrong_credentials"
    with pytest.raises(SignInError):
        gate.sign_in_password("nobody", _pw())
    session = gate.sign_in_password("op-7", _pw())
    assert gate.state() is OperatorState.ACTIVE and "周敏" not in repr(session)
    key = bytearray(b"\x11" * 32)
    session.roster_key = key
    mono.advance(299)
    gate.touch()                                   # activity postpones the lock
    mono.advance(299)
    assert gate.require_active() is session
    mono.advance(300)
    assert gate.tick() is OperatorState.LOCKED and states[-1] is OperatorState.LOCKED
    with pytest.raises(SignInError) as locked:
        gate.require_active()
    assert locked.value.code == "locked"
    gate.touch()                                   # a touch does not unlock
    assert gate.state() is OperatorState.LOCKED
    with pytest.raises(SignInError):
        gate.unlock(password=_pw("other password"))   # another operator's password
    gate.unlock(password=_pw())
    assert gate.state() is OperatorState.ACTIVE and session.roster_key is key
    with pytest.raises(SignInError) as busy:
        gate.sign_in_password("op-8", _pw("other password"))
    assert busy.value.code == "already_signed_in"
    gate.sign_out()
    assert key == bytearray(32) and session.roster_key is None and session.name == ""
    assert gate.session is None and gate.state() is OperatorState.SIGNED_OUT
    with pytest.raises(SignInError) as out:
        gate.require_active()
    assert out.value.code == "signed_out"


def test_card_sign_in_needs_a_listed_card_and_the_cards_own_pin_check(directory: OperatorDirectory) -> None:
    gate = OperatorGate(directory, lock_after_s=300, clock=Clock(0.0))
    with pytest.raises(SignInError) as unknown:
        gate.sign_in_card("440106199001011111", pin_verified=True)
    assert unknown.value.code == "card_not_authorised"
    with pytest.raises(SignInError) as pin:
        gate.sign_in_card(CARD, pin_verified=False)
    assert pin.value.code == "wrong_credentials"
    assert gate.sign_in_card(CARD.lower(), pin_verified=True).operator_id == "op-7"


def test_wrong_secrets_pause_the_sign_in(directory: OperatorDirectory) -> None:
    mono = Clock(0.0)
    gate = OperatorGate(directory, lock_after_s=300, clock=mono)
    for _ in range(5):
        with pytest.raises(SignInError):
            gate.sign_in_password("op-7", _pw("guess"))
    with pytest.raises(SignInError) as paused:
        gate.sign_in_password("op-7", _pw())       # even the right one, for a while
    assert paused.value.code == "paused"
    mono.advance(301)
    assert gate.sign_in_password("op-7", _pw()).operator_id == "op-7"


def test_the_roster_is_encrypted_at_rest_and_opens_only_for_its_operator(store: Store, tmp_path: Path) -> None:
    wall = Clock(time.time())
    vault = RosterVault(store, expiry_days=14, kdf_n=1024, clock=wall)
    answer = roster_answer(30)
    info, key = vault.save(answer, operator_id="op-7", secret=_pw())
    assert info.count == 30 and info.districts == ("天河区",)
    on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("kiosk.sqlite3*"))
    for person in answer["persons"][:5]:
        assert person["name"].encode() not in on_disk and person["id_number"].encode() not in on_disk
        assert base64.b64decode(person["template"])[:64] not in on_disk
        assert person["address"].encode() not in on_disk
    roster = vault.open(vault.unlock("op-7", _pw()))
    first = answer["persons"][0]
    assert roster.get(first["id_number"]).name == first["name"]
    assert roster.get(first["id_number"]).has_template
    assert [e.name for e in roster.search(first["id_number"][-6:])] == [first["name"]]
    with pytest.raises(RosterError) as wrong:
        vault.unlock("op-7", _pw("not it"))
    assert wrong.value.code == "wrong_secret"
    with pytest.raises(RosterError) as other:
        vault.unlock("op-8", _pw())
    assert other.value.code == "other_operator"
    doc = store.get_state(NAMESPACE, "current")
    doc["expires_at"] += 30 * 86400                       # someone moves the expiry on disk
    with store.transaction() as tx:
        tx.put_state(NAMESPACE, "current", doc)
    with pytest.raises(RosterError) as moved:
        vault.unlock("op-7", _pw())
    assert moved.value.code == "wrong_secret"             # the header is bound to both ciphertexts
    roster.wipe()
    assert key != bytearray(32)


def test_an_expired_roster_is_refused_and_purged_by_the_job_and_at_start_up(store: Store, tmp_path: Path) -> None:
    from kiosk.config.schema import FieldSection, KioskConfig
    from kiosk.field.service import FieldKiosk

    wall = Clock(time.time())
    vault = RosterVault(store, expiry_days=14, kdf_n=1024, clock=wall)
    _info, key = vault.save(roster_answer(5), operator_id="op-7", secret=_pw())
    roster = vault.open(key)
    with store.transaction() as tx:
        vault.mark_done(tx, roster, roster.entries[0].id_number, {"result": "passed"})
    wall.advance(13 * 86400)
    assert not vault.purge_if_expired() and vault.info() is not None
    wall.advance(1 * 86400)
    with pytest.raises(RosterError) as expired:
        vault.open(key)
    assert expired.value.code == "expired"
    with store.read() as conn:
        left = conn.execute("SELECT count(*) FROM local_state WHERE namespace LIKE 'field.%'").fetchone()[0]
    assert left == 0 and vault.info() is None

    vault.save(roster_answer(5), operator_id="op-7", secret=_pw())       # the purge job
    wall.advance(15 * 86400)
    assert vault.purge_if_expired() and vault.info() is None

    RosterVault(store, expiry_days=14, kdf_n=1024, clock=time.time).save(roster_answer(5), operator_id="op-7",
                                                                         secret=_pw())
    config = KioskConfig(field=FieldSection(roster_expiry_days=14, roster_kdf_n=1024))
    FieldKiosk(config=config, store=store, client=None, worker=None, face=None, camera=None,
               wall_clock=lambda: time.time() + 15 * 86400)              # start-up 15 days later
    assert RosterVault(store, expiry_days=14).info() is None


def test_the_roster_is_the_flows_template_source(store: Store, directory: OperatorDirectory) -> None:
    from kiosk.field.templates import RosterTemplates
    from kiosk.flows.templates import NoTemplate, TemplateSource, TemplateUnavailable
    from models.template import FaceTemplate

    mono = Clock(0.0)
    gate = OperatorGate(directory, lock_after_s=300, clock=mono)
    vault = RosterVault(store, expiry_days=14, kdf_n=1024)
    answer = roster_answer(3)
    source = RosterTemplates(gate, vault)
    assert isinstance(source, TemplateSource)
    idn = answer["persons"][1]["id_number"]
    assert isinstance(source.template_for(idn), TemplateUnavailable)          # nobody signed in
    session = gate.sign_in_password("op-7", _pw())
    _info, key = vault.save(answer, operator_id="op-7", secret=_pw())
    session.roster_key, session.roster = key, vault.open(key)
    tpl = source.template_for(idn)
    enrolled = FaceTemplate.from_bytes(base64.b64decode(answer["persons"][1]["template"]))
    assert isinstance(tpl, FaceTemplate) and tpl.similarity(enrolled) > 0.9999
    assert source.name_for(idn) == answer["persons"][1]["name"]
    assert source.template_for("440106200001010000") == NoTemplate("not_on_roster")
    state = source.done_state(idn, result="passed", operator_id="op-7")
    store.commit_result("certification", {"id_number": idn, "result": "passed"}, operator_id="op-7", state=state)
    assert vault.done_marks(session.roster)[idn]["result"] == "passed"
    mono.advance(301)
    assert isinstance(source.template_for(idn), TemplateUnavailable)          # locked


def test_battery_from_the_power_supply_class(tmp_path: Path) -> None:
    def supply(name: str, **files: str) -> None:
        (tmp_path / name).mkdir()
        for key, value in files.items():
            (tmp_path / name / key).write_text(value + "\n")

    assert read_battery(tmp_path).percent is None                  # mains only / no battery reported
    assert read_battery(tmp_path / "missing").percent is None
    supply("AC", type="Mains", online="0")
    supply("BAT0", type="Battery", present="1", capacity="57", status="Discharging")
    supply("BAT1", type="Battery", present="1", capacity="18", status="Discharging")
    status = read_battery(tmp_path)
    assert (status.percent, status.charging, status.source) == (18, False, "BAT1")
    assert status.below(20) and not status.below(18)
    (tmp_path / "BAT1" / "status").write_text("Charging\n")
    assert not read_battery(tmp_path).below(20)                    # on the charger: allowed


def test_records_a_flow_wrote_without_the_mark_are_marked_at_the_next_roster_open(store: Store) -> None:
    vault = RosterVault(store, expiry_days=14, kdf_n=1024)
    answer = roster_answer(3)
    _info, _key = vault.save(answer, operator_id="op-7", secret=_pw())
    idn = answer["persons"][2]["id_number"]
    ref = store.commit_result("certification", {"id_number": idn, "result": "passed"}, operator_id="op-7")
    store.commit_result("certification", {"id_number": "440106200001010000", "result": "passed"}, operator_id="op-7")
    roster = vault.open(vault.unlock("op-7", _pw()))
    assert vault.done_marks(roster) == {}
    assert vault.reconcile(roster) == 1 and vault.reconcile(roster) == 0
    assert vault.done_marks(roster)[idn]["record_id"] == ref.id


def test_doctor_reports_battery_operator_list_and_roster(tmp_path: Path, review_private: X25519PrivateKey) -> None:
    from kiosk.config.schema import FieldSection, KioskConfig, KioskSection
    from kiosk.doctor import Verdict
    from kiosk.doctor.field import checks

    (tmp_path / "power" / "BAT0").mkdir(parents=True)
    for name, value in {"type": "Battery", "capacity": "15", "status": "Discharging"}.items():
        (tmp_path / "power" / "BAT0" / name).write_text(value)
    config = KioskConfig(kiosk=KioskSection(id="field-doc-01", profile="field", data_dir=str(tmp_path)),
                         field=FieldSection(signing_key=signing_key_b64(review_private),
                                            power_supply_dir=str(tmp_path / "power")))
    assert {r.name: r.verdict for r in checks(config)} == {"battery": Verdict.WARN, "field roster": Verdict.WARN}
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id="field-doc-01")
    store_list(store, signed_operator_list(review_private, [{"operator_id": "op-7", "name": "x", "password": PASSWORD}]))
    RosterVault(store, expiry_days=14, kdf_n=1024).save(roster_answer(2), operator_id="op-7", secret=_pw())
    store.close()
    results = {r.name: r for r in checks(config)}
    assert results["operator list"].verdict is Verdict.OK and "1 operators" in results["operator list"].detail
    assert results["field roster"].verdict is Verdict.OK and "2 persons" in results["field roster"].detail
    assert checks(KioskConfig()) == []                      # not the field profile: nothing to say
