"""Card status and PIN change through the real card driver (virtual card + PSAM) and the PIN pad
simulator: wrong PIN to lock, the last-try warning, the initial PIN forced change, weak PINs refused
inside the card call, the card pulled at each step."""

from __future__ import annotations

import pytest
from flowhelpers import GOOD_PIN, Kiosk, new_phone

from drivers.smartcard.api import CardOutcome
from kiosk.flows.base import NextStep
from kiosk.messages import card as card_messages
from kiosk.messages import flows as M
from kiosk.pin_policy import RULE_MESSAGES, WeakPinRule
from kiosk.privacy import mask_id_number, mask_name


def test_card_status_shows_masked_details_and_records_it(kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("张建国")
    kiosk.insert(id_number, "张建国")
    p = kiosk.presenter(entries=[("pin", GOOD_PIN)])
    outcome = kiosk.run("card_status", p)
    assert outcome is not None and outcome.ok and outcome.code == "normal"
    lines = p.result.data["lines"]
    assert lines[M.LABEL_NAME] == mask_name("张建国") == "张*国"
    assert lines[M.LABEL_ID_NUMBER] == mask_id_number(id_number) and id_number not in str(p.shown)
    assert lines[M.LABEL_CARD_NUMBER] == "A12345678"
    assert lines[M.LABEL_EXPIRES] == "2033-05-12" and lines[M.LABEL_TRIES_LEFT] == "3"
    assert M.LABEL_BUREAU not in lines                # the bureau was asked (reported lost or not)
    [record] = kiosk.records_of(outcome)
    assert record["type"] == "card_status" and record["payload"] == {
        "id_number": id_number, "state": "normal", "pin_verified": True}


def test_card_status_reported_lost_from_the_bureau(kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("李四海", card_state="reported_lost")
    kiosk.insert(id_number, "李四海")
    p = kiosk.presenter(entries=[("pin", GOOD_PIN)])
    outcome = kiosk.run("card_status", p)
    assert outcome is not None and not outcome.ok and outcome.code == "reported_lost"
    assert p.result.text == M.MSG_REPORTED_LOST and p.result.data["lines"][M.LABEL_STATE] == "已挂失"
    assert kiosk.records_of(outcome)[0]["payload"]["state"] == "reported_lost"


def test_wrong_pin_to_lock_warns_before_the_last_try(kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("王五")
    card = kiosk.insert(id_number, "王五")
    p = kiosk.presenter(entries=[("pin", "111111"), ("pin", "222222"), ("pin", "333333")],
                        errors=[NextStep.RETRY, NextStep.RETRY], answers={"last_try": "continue"})
    outcome = kiosk.run("card_status", p)
    assert outcome is not None and outcome.code == "pin_locked" and not outcome.ok
    # The tries shown come from the card's own counter; the last one was asked before it was spent.
    assert [e.data["n"] for e in p.errors] == [2, 1]
    assert [e.key for e in p.errors] == [card_messages.TRIES_LEFT] * 2
    asks = [s.key for s in p.shown if s.kind in ("ask", "pin_entry")]
    assert asks == ["pin", "pin", "last_try", "pin"]
    assert [s.data["tries_left"] for s in p.of_kind("pin_entry")] == [3, 2, 1]
    assert card.blocked and p.result.data["lines"][M.LABEL_STATE] == "密码已锁定"
    assert p.result.text == card_messages.OUTCOME[CardOutcome.BLOCKED]
    reasons = [(r["type"], r["payload"].get("reason") or r["payload"].get("state")) for r in kiosk.records_of(outcome)]
    assert reasons == [("attempt_failed", "wrong_pin"), ("attempt_failed", "wrong_pin"),
                       ("attempt_failed", "wrong_pin_locked"), ("card_status", "pin_locked")]


def test_declining_the_last_try_keeps_the_pin_unlocked(kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("赵六")
    card = kiosk.insert(id_number, "赵六")
    card.tries_left = 1
    p = kiosk.presenter(answers={"last_try": "stop"})
    outcome = kiosk.run("pin_change", p)
    assert outcome is not None and outcome.code == "last_try_declined"
    assert not p.of_kind("pin_entry") and card.tries_left == 1 and not card.blocked
    assert p.errors[-1].key == M.LAST_TRY_DECLINED
    assert kiosk.records_of(outcome)[0]["payload"]["reason"] == "last_try_declined"


def test_initial_pin_card_is_led_straight_to_the_pin_change(kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("钱七")
    card = kiosk.insert(id_number, "钱七", pin="123456")
    p = kiosk.presenter(entries=[("pin", "123456"), ("pin", GOOD_PIN), ("pin", GOOD_PIN)],
                        answers={"initial_pin": "change"})
    outcome = kiosk.run("card_status", p)
    assert outcome is not None and outcome.ok
    assert card.pin == GOOD_PIN and not card.in_initial_state
    assert p.result.text == M.PIN_CHANGED_MESSAGE
    [record] = kiosk.records_of(outcome)
    assert record["type"] == "pin_change" and record["payload"] == {"id_number": id_number, "from_initial": True}


def test_initial_pin_card_may_only_be_queried(kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("孙八")
    kiosk.insert(id_number, "孙八", pin="123456")
    p = kiosk.presenter(entries=[("pin", "123456")], answers={"initial_pin": "status_only"})
    outcome = kiosk.run("card_status", p)
    assert outcome is not None and outcome.code == "initial_pin" and not outcome.ok
    assert p.result.data["lines"][M.LABEL_STATE] == "初始密码未修改"


def test_pin_change_refuses_weak_pins_on_the_first_entry(kiosk: Kiosk) -> None:
    """Each weak new PIN is refused right after its first entry (the card driver's check-only call
    decrypts the block and runs the same policy the change command runs again): never asked twice."""
    id_number, _ = kiosk.person("周九")          # born 1955-03-15
    card = kiosk.insert(id_number, "周九")
    weak = ["111111", "654321", "550315", "031555", id_number[-6:], GOOD_PIN, "123456"]
    entries = [("pin", GOOD_PIN), ("pin", "147258"), ("pin", "147259")]      # old; then a mismatch
    entries += [("pin", pin) for pin in weak]
    entries += [("pin", "704918"), ("pin", "704918")]
    p = kiosk.presenter(entries=entries, errors=[NextStep.RETRY] * (len(weak) + 1))
    outcome = kiosk.run("pin_change", p)
    assert outcome is not None and outcome.ok, p.errors
    shown = [e.key for e in p.errors]
    assert shown == [RULE_MESSAGES[r] for r in (
        WeakPinRule.MISMATCH, WeakPinRule.ALL_SAME, WeakPinRule.SEQUENCE, WeakPinRule.BIRTH_DATE,
        WeakPinRule.BIRTH_DATE, WeakPinRule.ID_SUFFIX, WeakPinRule.SAME_AS_OLD, WeakPinRule.INITIAL_PIN)]
    assert all(e.text == M.CHOOSE_NEW_PIN_AGAIN for e in p.errors[1:])         # and what to do
    asked = [s.key for s in p.of_kind("step") if "pin" in s.key]
    assert asked == ["old_pin", "new_pin", "new_pin_again"] + ["new_pin"] * len(weak) + ["new_pin", "new_pin_again"]
    assert card.pin == "704918" and p.unused_entries == 0
    [record] = kiosk.records_of(outcome)
    assert record["type"] == "pin_change" and "704918" not in json_text(record) and GOOD_PIN not in json_text(record)


def test_pin_change_refuses_the_bound_phones_last_six_digits(kiosk: Kiosk) -> None:
    """The kiosk never gets the phone number: the backend's summary carries a salted scrypt verifier
    of its last six digits, and the check runs right after the first entry like every other rule."""
    phone = new_phone()[:5] + "847361"
    id_number, _ = kiosk.person("钱十一", phone=phone)
    card = kiosk.insert(id_number, "钱十一")
    p = kiosk.presenter(entries=[("pin", GOOD_PIN), ("pin", "847361"),
                                 ("pin", "704918"), ("pin", "704918")], errors=[NextStep.RETRY])
    outcome = kiosk.run("pin_change", p)
    assert outcome is not None and outcome.ok, p.errors
    assert [e.key for e in p.errors] == [RULE_MESSAGES[WeakPinRule.PHONE_SUFFIX]]
    assert card.pin == "704918" and p.unused_entries == 0


def test_wrong_old_pin_shows_tries_then_citizen_leaves(kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("吴十")
    card = kiosk.insert(id_number, "吴十")
    p = kiosk.presenter(entries=[("pin", "999999")], errors=[NextStep.HOME])
    outcome = kiosk.run("pin_change", p)
    assert outcome is not None and outcome.code == "wrong_pin" and outcome.next_step is NextStep.HOME
    assert card.tries_left == 2 and card.pin == GOOD_PIN
    assert p.errors[0].data["n"] == 2
    assert kiosk.records_of(outcome)[0]["payload"]["tries_left"] == 2


@pytest.mark.parametrize("hook", ["step:old_pin", "entry:pin", "step:new_pin_again", "step:changing"])
def test_card_pulled_at_each_step_ends_the_flow_with_nothing_written(kiosk: Kiosk, hook: str) -> None:
    id_number, _ = kiosk.person("郑十一")
    card = kiosk.insert(id_number, "郑十一")
    before = len(kiosk.records())
    entries = [("pin", GOOD_PIN), ("pin", "704918"), ("pin", "704918")]
    pulled = []
    p = kiosk.presenter(entries=entries, hooks={hook: lambda: (pulled.append(1), kiosk.remove_card())})
    outcome = kiosk.run("pin_change", p)
    assert pulled and outcome is None and kiosk.last_cancel_reason == "card_removed"
    assert card.pin == GOOD_PIN, "the card was changed although it was pulled"
    assert len(kiosk.records()) == before, "a record was written for a visit that ended under the flow"
    assert p.result is None


def json_text(record: dict) -> str:
    import json

    return json.dumps(record, ensure_ascii=False)


def test_a_visit_ending_as_the_pin_entry_starts_cancels_the_pads_entry(kiosk: Kiosk) -> None:
    """The screen refuses the PIN step because the visit just ended (the shell's presenter raises
    FlowCanceled once closed): the pad entry already started is cancelled, not left waiting for
    keys (the next citizen's entry would queue behind it; seen in the 1,000-visit benchmark)."""
    import time

    from flowhelpers import wait_until

    from kiosk.flows.base import FlowCanceled

    id_number, _ = kiosk.person("白雪梅")
    kiosk.insert(id_number, "白雪梅")

    def visit_ends() -> None:
        raise FlowCanceled("visit ended")

    p = kiosk.presenter(hooks={"entry:pin": visit_ends})
    assert kiosk.run("card_status", p) is None
    pad = kiosk.services.pinpad_simulator
    time.sleep(1.0)                                  # long enough for a left-over entry to open on the pad
    wait_until(lambda: pad.entry_mode == "idle", 3, "the pad's entry to be cancelled")
    p = kiosk.presenter(entries=[("pin", GOOD_PIN)])
    outcome = kiosk.run("card_status", p)
    assert outcome is not None and outcome.ok
