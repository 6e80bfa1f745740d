"""Temporary loss report of the social-security card and its cancellation, end to end: the visit
identified by the ID card, face liveness + match against the template of the embedded backend, the
SMS code from its dev outbox typed on the pad; the record syncs and the backend marks the card
reported lost; the lost card inserted later is refused with what to do; the cancellation frees it."""

from __future__ import annotations

import dataclasses

from flowhelpers import Kiosk, wait_until

from kiosk.flows.base import NextStep
from kiosk.identity import IdentitySource, VisitIdentity
from kiosk.messages import card_loss as L


def _bureau_state(kiosk: Kiosk, id_number: str) -> str:
    answer = kiosk.services.sync.client.person_summary(id_number)
    return str(answer.data["card_state"])


def _by_id_card(kiosk: Kiosk, id_number: str, name: str):
    return dataclasses.replace(kiosk.deps, identity=VisitIdentity(IdentitySource.ID_CARD, id_number, name))


def test_report_refuse_then_cancel(kiosk: Kiosk) -> None:
    id_number, phone = kiosk.person("吴美玲")
    p = kiosk.presenter(answers={"loss_action": "report", "consent": "accept"},
                        entries=[("sms_code", kiosk.latest_code(phone))])
    outcome = kiosk.run("card_loss", p, deps=_by_id_card(kiosk, id_number, "吴美玲"))
    assert outcome is not None and outcome.ok and outcome.code == "report", p.errors
    assert p.step_keys[:4] == ["loss_action", "consent", "face", "sms_code"]
    [record] = [r for r in kiosk.records_of(outcome) if r["type"] == "card_loss"]
    assert record["payload"]["action"] == "report" and record["payload"]["method"] == "id_card"
    assert record["payload"]["checks"] == ["id_card", "face", "sms"]
    # Synced: the bureau now says the card is reported lost.
    wait_until(lambda: _bureau_state(kiosk, id_number) == "reported_lost", 15, "the backend to mark the card lost")

    # The lost card inserted later is refused, with what to do.
    kiosk.insert(id_number, "吴美玲")
    refused = kiosk.presenter(errors=[NextStep.ANOTHER_CARD])
    outcome = kiosk.run("card_status", refused)
    assert outcome is not None and not outcome.ok and outcome.code == "card_reported_lost"
    assert [e.key for e in refused.errors] == [L.CARD_LOST]
    kiosk.remove_card()

    # Found it: cancel the report (the report choice is now disabled).
    p = kiosk.presenter(answers={"loss_action": "cancel", "consent": "accept"},
                        entries=[("sms_code", kiosk.latest_code(phone))])
    outcome = kiosk.run("card_loss", p, deps=_by_id_card(kiosk, id_number, "吴美玲"))
    assert outcome is not None and outcome.ok and outcome.code == "cancel", p.errors
    options = {k: enabled for k, enabled, _ in p.of_kind("ask")[0].data["options"]}
    assert options == {"report": False, "cancel": True}
    wait_until(lambda: _bureau_state(kiosk, id_number) == "normal", 15, "the backend to free the card")


def test_without_the_id_card_the_service_says_what_to_do(kiosk: Kiosk) -> None:
    p = kiosk.presenter(errors=[NextStep.HOME])
    outcome = kiosk.run("card_loss", p)
    assert outcome is not None and not outcome.ok and outcome.code == "needs_id_card"
    assert [e.key for e in p.errors] == [L.NEEDS_ID_CARD]
