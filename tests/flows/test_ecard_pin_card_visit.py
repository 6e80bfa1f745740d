"""The e-card PIN in a card visit (issue 11): the holder is read from the social-security card, the
PINs typed on the pad simulator under the e-card working key, the demo kiosk's embedded platform
(its stand-in key ceremony ran at start) keeps them. The e-card visit itself is tested on screen
with PostgreSQL in tests/ui/test_ecard_pin_service.py."""

from __future__ import annotations

import httpx
from flowhelpers import GOOD_PIN, Kiosk

from kiosk.messages import ecard_pin as EP


def has_an_ecard(kiosk: Kiosk, id_number: str) -> None:
    """The platform opens the citizen's e-card with the first code it issues."""
    r = httpx.post(f"{kiosk.backend.url}/v1/dev/ecard/codes", json={"id_number": id_number}, timeout=10,
                   headers={"Authorization": f"Bearer {kiosk.backend.operator_token}"})
    assert r.status_code == 200, r.text


def test_a_card_visit_sets_the_card_holder_s_e_card_pin(kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("韩玉兰")
    has_an_ecard(kiosk, id_number)
    kiosk.insert(id_number, "韩玉兰")
    p = kiosk.presenter(answers={"ecard_pin_mode": "set"}, entries=[("pin", "807162"), ("pin", "807162")])
    outcome = kiosk.run("ecard_pin", p)
    assert outcome is not None and outcome.ok, p.shown[-3:]
    assert p.result.key == "ecard_pin" and p.result.text == EP.DONE_MESSAGE
    [record] = kiosk.records_of(outcome)
    assert record["type"] == "ecard_pin" and record["payload"]["method"] == "sscard"
    assert record["payload"]["purpose"] == "set" and "807162" not in str(kiosk.records())
    # The flow names the e-card PIN over the dots (it is not the card's PIN).
    entries = [s for s in p.shown if s.kind == "pin_entry"]
    assert len(entries) == 2 and all(s.data["pin_title"] == EP.PAD_TITLE for s in entries)
    # The card's own PIN is untouched: it still opens card status.
    p = kiosk.presenter(entries=[("pin", GOOD_PIN)])
    status = kiosk.run("card_status", p)
    assert status is not None and status.ok
    assert all("pin_title" not in s.data for s in p.shown if s.kind == "pin_entry")


def test_a_card_holder_without_an_e_card_is_told_so(kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("邓志明")
    kiosk.insert(id_number, "邓志明")
    p = kiosk.presenter(answers={"ecard_pin_mode": "set"})
    outcome = kiosk.run("ecard_pin", p)
    assert outcome is not None and not outcome.ok and outcome.code == "no_ecard"
    assert p.shown[-1].kind == "error" and p.shown[-1].key == EP.NO_ECARD
