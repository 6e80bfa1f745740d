"""Retiree certification: with the card, without it (ID number on the pad, name confirmed), offline
from a template source such as the field roster (operator on the record), already certified for the
period, and a replayed face refused with a "failed" certification record."""

from __future__ import annotations

from datetime import date

from flowhelpers import SCREEN_REPLAY, Kiosk, new_id_number

from kiosk.flows.base import NextStep
from kiosk.flows.deps import FlowDeps
from kiosk.flows.retiree import add_months, complete_id_number, person_key
from kiosk.flows.templates import FirstFound, NoTemplate, TemplateUnavailable, decode_template
from kiosk.messages import flows as M
from models.template import FaceTemplate


def test_certification_with_the_card_then_already_certified(kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("张桂兰", retired=True)
    kiosk.insert(id_number, "张桂兰")
    p = kiosk.presenter(answers={"consent": "accept"})
    outcome = kiosk.run("retiree_certification", p)
    assert outcome is not None and outcome.ok, p.errors
    until = add_months(date.today(), 12)
    assert p.result.data["until"] == until.isoformat() and p.result.data["start"] == date.today().isoformat()
    assert p.result.data["lines"][M.LABEL_PERIOD].endswith(until.isoformat())
    [record] = kiosk.records_of(outcome)
    assert record["type"] == "certification" and record["operator_id"] is None
    payload = record["payload"]
    assert (payload["id_number"], payload["result"], payload["method"]) == (id_number, "passed", "card")
    assert payload["valid_until"] == until.isoformat() and payload["face_outcome"] == "match"
    assert kiosk.services.sync.store.get_state("certification", person_key(id_number)) == until.isoformat()
    # Again the same day: told so, no face check, nothing certified twice.
    again = kiosk.presenter()
    second = kiosk.run("retiree_certification", again)
    assert second is not None and second.code == "already_certified"
    assert "face" not in again.step_keys and again.result.data["until"] == until.isoformat()
    assert [r["payload"]["result"] for r in kiosk.records_of(second)] == ["already_certified"]


def test_certification_without_the_card_by_typed_id_number(kiosk: Kiosk) -> None:
    id_number = None
    while id_number is None or not id_number.endswith("X"):
        id_number = new_id_number_x()
    kiosk.seed(id_number=id_number, name="刘建军", phone=None, retired=True, face_template=kiosk.templates["T1"])
    p = kiosk.presenter(answers={"identify": "id_number", "confirm_name": "yes", "consent": "accept"},
                        entries=[("id_number", id_number[:17])])        # the pad has no X key
    outcome = kiosk.run("retiree_certification", p)
    assert outcome is not None and outcome.ok, p.errors
    assert p.of_kind("ask")[1].data["name"] == "刘*军"
    [record] = kiosk.records_of(outcome)
    assert record["payload"]["id_number"] == id_number and record["payload"]["method"] == "id_number"


def test_wrong_name_is_not_certified(kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("高秀英", retired=True)
    p = kiosk.presenter(answers={"identify": "id_number", "confirm_name": "no"}, entries=[("id_number", id_number)])
    outcome = kiosk.run("retiree_certification", p)
    assert outcome is not None and outcome.code == "name_not_confirmed" and "face" not in p.step_keys


def test_screen_replay_fails_and_records_a_failed_certification(kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("马德华", retired=True)
    kiosk.insert(id_number, "马德华")
    kiosk.camera_shows(SCREEN_REPLAY)
    p = kiosk.presenter(answers={"consent": "accept"}, errors=[NextStep.RETRY, NextStep.RETRY])
    outcome = kiosk.run("retiree_certification", p)
    assert outcome is not None and not outcome.ok and outcome.code == "face_spoof"
    [record] = kiosk.records_of(outcome)
    assert record["type"] == "certification" and record["payload"]["result"] == "failed"
    assert kiosk.services.sync.store.get_state("certification", person_key(id_number)) is None


class Roster:
    """A template source that knows names, as kiosk/field/ plugs in its encrypted roster."""

    def __init__(self, people: dict[str, tuple[str, str]]) -> None:
        self.people = people
        self.asked: list[str] = []

    def template_for(self, id_number: str) -> FaceTemplate | NoTemplate | TemplateUnavailable:
        self.asked.append(id_number)
        if id_number not in self.people:
            return NoTemplate("not_on_roster")
        return decode_template(self.people[id_number][1], source="roster")

    def name_for(self, id_number: str) -> str | None:
        return self.people.get(id_number, ("", ""))[0] or None


def test_offline_certification_from_the_roster_with_operator(kiosk: Kiosk) -> None:
    id_number = new_id_number()
    roster = Roster({id_number: ("胡永福", kiosk.templates["T1"])})
    base = kiosk.deps
    deps = FlowDeps(base.config, card=base.card, pinpad=base.pinpad, camera=base.camera, face=base.face,
                    client=base.client, store=base.store, templates=FirstFound([roster]))
    backend = kiosk.backend
    port = int(backend.url.rsplit(":", 1)[1])
    backend.stop()
    try:
        p = kiosk.presenter(answers={"identify": "id_number", "confirm_name": "yes", "consent": "accept"},
                            entries=[("id_number", id_number)])
        outcome = kiosk.run("retiree_certification", p, deps=deps, operator_id="op-17")
    finally:
        backend.start(port=port)
    assert outcome is not None and outcome.ok, p.errors
    assert roster.asked == [id_number] and p.of_kind("ask")[1].data["name"] == "胡*福"
    [record] = kiosk.records_of(outcome)
    assert record["operator_id"] == "op-17" and record["payload"]["result"] == "passed"


def test_offline_without_card_or_roster_says_what_to_do(kiosk: Kiosk) -> None:
    id_number = new_id_number()
    backend = kiosk.backend
    port = int(backend.url.rsplit(":", 1)[1])
    backend.stop()
    try:
        p = kiosk.presenter(answers={"identify": "id_number"}, entries=[("id_number", id_number)])
        outcome = kiosk.run("retiree_certification", p)
    finally:
        backend.start(port=port)
    assert outcome is not None and outcome.code == "offline_no_name"
    assert p.errors[-1].key == M.OFFLINE_NEED_CARD


def test_id_number_check_character() -> None:
    assert complete_id_number("11010519491231002") == "11010519491231002X"
    assert complete_id_number("11010519491231002X") is None          # typed digits only
    assert complete_id_number("110105194912310021") is None          # wrong check digit
    assert complete_id_number("1234") is None


def test_add_months_clamps_to_the_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 23), 12) == date(2027, 11, 23)
    assert add_months(date(2026, 11, 23), 3) == date(2027, 2, 23)


def new_id_number_x() -> str:
    """A fresh valid ID number; the caller loops until one ends in X."""
    from flowhelpers import _serial

    full = complete_id_number(f"44010619540101{next(_serial) % 1000:03d}")
    assert full is not None
    return full


def test_recertify_in_period_when_policy_allows(kiosk: Kiosk) -> None:
    from dataclasses import replace

    id_number, _ = kiosk.person("江海", retired=True, certified_until=add_months(date.today(), 6).isoformat())
    kiosk.insert(id_number, "江海")
    base = kiosk.deps
    config = replace(base.config, policy=replace(base.config.policy, allow_recertify_in_period=True))
    deps = FlowDeps(config, card=base.card, pinpad=base.pinpad, camera=base.camera, face=base.face,
                    client=base.client, store=base.store)
    p = kiosk.presenter(answers={"recertify": "again", "consent": "accept"})
    outcome = kiosk.run("retiree_certification", p, deps=deps)
    assert outcome is not None and outcome.ok and p.of_kind("ask")[0].key == "recertify"
    assert p.of_kind("ask")[0].data["until"] == add_months(date.today(), 6).isoformat()
    assert kiosk.records_of(outcome)[0]["payload"]["result"] == "passed"
