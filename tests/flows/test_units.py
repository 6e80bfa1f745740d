"""Unit tests without devices: the policy adapter for the card's new_pin_check (every rule), the
ScriptedPresenter, the registry and the template sources."""

from __future__ import annotations

import base64
import json
import threading

import numpy as np
import pytest

from drivers.smartcard.api import PinRefused
from kiosk.flows.base import CancelToken, Choice, FlowCanceled, FlowRunner, Guidance, NextStep
from kiosk.flows.common import FlowOutcome, policy_check, weak_rule_message
from kiosk.flows.registry import SERVICES, service_function, start_service
from kiosk.flows.scripted import ScriptedPresenter, ScriptError, keys_for
from kiosk.flows.templates import (
    FirstFound,
    NoTemplate,
    TemplateSource,
    TemplateUnavailable,
    decode_template,
)
from kiosk.i18n import catalog
from kiosk.messages import flows as M
from kiosk.pin_policy import RULE_MESSAGES, PinPolicy, WeakPinRule
from models.template import FaceTemplate

ID_NUMBER = "440106195803152718"    # born 1958-03-15
PHONE = "13812345097"
CHECK = policy_check(PinPolicy("123456", ID_NUMBER, PHONE))


@pytest.mark.parametrize(("new", "old", "rule"), [
    ("12345", None, WeakPinRule.FORMAT),
    ("000000", None, WeakPinRule.ALL_SAME),
    ("234567", None, WeakPinRule.SEQUENCE),
    ("876543", None, WeakPinRule.SEQUENCE),
    ("135790", "135790", WeakPinRule.SAME_AS_OLD),
    ("580315", None, WeakPinRule.BIRTH_DATE),
    ("031558", None, WeakPinRule.BIRTH_DATE),
    ("150358", None, WeakPinRule.BIRTH_DATE),
    ("195803", None, WeakPinRule.BIRTH_DATE),
    ("031958", None, WeakPinRule.BIRTH_DATE),
    ("152718", None, WeakPinRule.ID_SUFFIX),
    ("345097", None, WeakPinRule.PHONE_SUFFIX),
])
def test_policy_check_raises_pin_refused_naming_the_rule(new: str, old: str | None, rule: WeakPinRule) -> None:
    with pytest.raises(PinRefused) as err:
        CHECK(bytearray(new.encode()), bytearray(old.encode()) if old else None)
    assert err.value.rule == rule.value and new not in str(err.value) and new not in repr(err.value)
    assert weak_rule_message(err.value.rule) == RULE_MESSAGES[rule]
    assert catalog("zh_CN")[RULE_MESSAGES[rule]]


def test_policy_check_refuses_the_initial_pin_when_it_is_no_sequence() -> None:
    check = policy_check(PinPolicy("802417", ID_NUMBER, PHONE))
    with pytest.raises(PinRefused) as err:
        check(bytearray(b"802417"), None)
    assert err.value.rule == WeakPinRule.INITIAL_PIN.value


def test_policy_check_accepts_a_good_pin() -> None:
    CHECK(bytearray(b"704918"), bytearray(b"258036"))      # no exception


def test_unknown_rule_falls_back_to_the_card_sentence() -> None:
    assert weak_rule_message("something_new") == "This PIN is too easy to guess. Please choose another one."


# -- ScriptedPresenter ------------------------------------------------------------------------------
def test_scripted_presenter_answers_records_and_refuses_unscripted_questions() -> None:
    typed: list[tuple[str, list[str]]] = []
    p = ScriptedPresenter(answers={"consent": "accept", "bank": ["A", "B"]}, entries=[("pin", "123456")],
                          errors=[NextStep.RETRY], typist=lambda kind, keys: typed.append((kind, list(keys))))
    options = [Choice("A", "a"), Choice("B", "b")]
    assert p.ask("bank", "q", options) == "A" and p.ask("bank", "q", options) == "B"
    with pytest.raises(ScriptError):
        p.ask("bank", "q", options)
    with pytest.raises(ScriptError):
        p.ask("consent", "q", options)                  # "accept" is not an option here
    p.bind_pin_entry(object(), tries_left=2)
    assert typed == [("pin", [*"123456", "enter"])]
    with pytest.raises(ScriptError):
        p.bind_plain_entry(object(), "phone")           # nothing scripted for it
    guidance = Guidance("what", "todo", (NextStep.RETRY, NextStep.HOME))
    assert p.show_error(guidance) is NextStep.RETRY
    assert p.show_error(guidance) is NextStep.HOME       # the default once the script is used up
    assert [s.kind for s in p.shown].count("error") == 2 and p.of_kind("pin_entry")[0].data["tries_left"] == 2


def test_scripted_presenter_raises_flow_canceled_once_the_visit_ended() -> None:
    token = CancelToken()
    p = ScriptedPresenter(answers={"x": "a"}, token=token)
    token.cancel("card_removed")
    with pytest.raises(FlowCanceled):
        p.ask("x", "q", [Choice("a", "a")])


def test_keys_for() -> None:
    assert keys_for("12") == ["1", "2", "enter"]
    assert keys_for(["1", "cancel"]) == ["1", "cancel"]


# -- registry ---------------------------------------------------------------------------------------
def test_registry_has_the_ui_keys() -> None:
    assert set(SERVICES) == {"card_status", "pin_change", "pin_reset", "retiree_certification", "real_name",
                             "card_loss", "ecard_signin", "ecard_pin"}
    with pytest.raises(KeyError, match="unknown service"):
        service_function("pension")


def test_a_service_missing_its_devices_is_guided_and_recorded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kiosk.config import load_config
    from kiosk.flows.deps import FlowDeps
    from kiosk.signing import Signer
    from kiosk.store import Store

    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id="unit-kiosk", signer=Signer.generate())
    deps = FlowDeps(load_config("demo", environ={}), store=store)
    p = ScriptedPresenter()
    done = threading.Event()
    got: list[FlowOutcome | None] = []
    start_service(FlowRunner(), "pin_change", deps, p, lambda outcome, error: (got.append(outcome), done.set()))
    assert done.wait(5)
    assert got[0] is not None and got[0].code == "kiosk_part_missing"
    assert p.errors[0].key == M.SERVICE_NOT_AVAILABLE
    with store.read() as conn:
        rows = conn.execute("SELECT id, type, envelope FROM outbox").fetchall()
    store.close()
    assert [(r[0], r[1]) for r in rows] == [(got[0].record_ids[0], "attempt_failed")]
    assert json.loads(rows[0][2])["payload"] == {"service": "pin_change", "step": "start",
                                                 "reason": "kiosk_part_missing", "shown": M.SERVICE_NOT_AVAILABLE,
                                                 "missing": "card,pinpad"}


# -- template sources -------------------------------------------------------------------------------
def _b64(vector: np.ndarray) -> str:
    return base64.b64encode(vector.astype(np.float32).tobytes()).decode()


def test_decode_template() -> None:
    tpl = decode_template(_b64(np.ones(128)), source="backend")
    assert isinstance(tpl, FaceTemplate) and tpl.source == "backend"
    assert isinstance(decode_template(_b64(np.ones(5)), "x"), TemplateUnavailable)
    assert isinstance(decode_template("***", "x"), TemplateUnavailable)
    assert isinstance(decode_template(None, "x"), TemplateUnavailable)


class _Fixed:
    def __init__(self, answer: object) -> None:
        self.answer = answer

    def template_for(self, id_number: str) -> object:
        return self.answer


def test_first_found_order_and_fallbacks() -> None:
    tpl = decode_template(_b64(np.ones(128)), source="roster")
    assert isinstance(_Fixed(None), TemplateSource)
    assert FirstFound([_Fixed(NoTemplate()), _Fixed(tpl)]).template_for("x") is tpl
    assert isinstance(FirstFound([_Fixed(NoTemplate()), _Fixed(TemplateUnavailable("down"))]).template_for("x"),
                      TemplateUnavailable)
    assert FirstFound([_Fixed(NoTemplate("no_template"))]).template_for("x") == NoTemplate("no_template")


def test_a_visit_cut_by_a_crash_is_recorded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kiosk.flows.registry import visit_end_recorder
    from kiosk.session import SessionCore
    from kiosk.signing import Signer
    from kiosk.store import Store

    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id="unit-kiosk", signer=Signer.generate())
    marker = tmp_path / "visit-in-progress"
    crashed = SessionCore(60, 15, marker_path=marker)
    crashed.start_visit("card")
    visit_id = crashed.visit.id
    crashed.on_visit_end(visit_end_recorder(store))
    crashed.cancel()                                   # an ordinary end: nothing to add
    marker.write_text(visit_id)                        # as if the process had died mid-visit
    restarted = SessionCore(60, 15, marker_path=marker)
    restarted.on_visit_end(visit_end_recorder(store))
    assert restarted.recover_after_crash() == visit_id
    with store.read() as conn:
        rows = conn.execute("SELECT type, envelope FROM outbox").fetchall()
    store.close()
    assert [(t, json.loads(e)["payload"]) for t, e in rows] == [("visit_crash", {"visit_id": visit_id,
                                                                                  "service": None})]


def test_sms_resend_too_soon_waits_on_the_same_step() -> None:
    """The backend's 429 resend_too_soon: the wait is shown as the current step (a valid 'n of
    total', which the Qt screen requires), then the code is asked for again."""
    from kiosk.backend_client import Rejected
    from kiosk.config import load_config
    from kiosk.flows.common import FlowContext, SmsSent
    from kiosk.flows.deps import FlowDeps

    presenter = ScriptedPresenter()
    ctx = FlowContext("pin_reset", FlowDeps(load_config("demo", environ={})), presenter, CancelToken(), 7)
    ctx.step("sms_code", 5, M.SMS_WAIT_TITLE, M.SMS_WAIT_INSTRUCTION, seconds=1)
    answers = [Rejected(429, "resend_too_soon", "wait", retry_after_s=0.05),
               SmsSent("req-1", "138****8000", 60, 300)]
    sent = ctx.send_sms(lambda: answers.pop(0))
    assert sent.key == "req-1" and answers == []
    wait_steps = [s for s in presenter.of_kind("step") if s.key == "sms_wait"]
    assert len(wait_steps) == 1 and wait_steps[0].data["index"] == 5 and wait_steps[0].data["total"] == 7


def test_scripted_presenter_refuses_an_impossible_step() -> None:
    with pytest.raises(ValueError, match="expected 1 <= index <= total"):
        ScriptedPresenter().step("x", 0, 3, "t", "i")
