"""`kiosk doctor`'s ID-card checks against a simulated reader on a real pty (as the serial backend
sees it), and the session core's identity rules."""

from __future__ import annotations

import dataclasses
import os
from datetime import date

from drivers.api import Completion, CompletionCode
from drivers.idcard.api import DocumentKind, IdCardData, IdCardErrorCode
from drivers.idcard.simulator import EXPIRED, NORMAL, IdCardReaderSimulator
from kiosk.config import load_config
from kiosk.doctor import Verdict, run_checks
from kiosk.identity import IdCardRefused, IdentitySource, VisitIdentity, identity_from_id_card
from kiosk.session import SessionCore, VisitState


def serial_config(port: str) -> object:
    config = load_config("demo", environ={})
    return dataclasses.replace(config, idcard=dataclasses.replace(config.idcard, backend="serial", port=port,
                                                                  answer_timeout_s=0.3))


def test_doctor_finds_the_reader_and_its_sam_on_the_serial_port() -> None:
    sim = IdCardReaderSimulator()
    port = sim.start()
    try:
        results = run_checks(serial_config(port), ["idcard"])  # type: ignore[arg-type]
        assert [(r.name, r.verdict) for r in results] == [("ID-card reader", Verdict.OK),
                                                           ("ID-card reader SAM", Verdict.OK)]
        assert "05.01-20101012-0000012345-1234567890" in results[1].detail
        sim.faults.self_test_failed = True
        [failed] = run_checks(serial_config(port), ["idcard"])  # type: ignore[arg-type]
        assert failed.verdict is Verdict.PROBLEM and "self-test" in failed.detail and failed.todo
        sim.faults.self_test_failed = False
        sim.unplug()
        [gone] = run_checks(serial_config(port), ["idcard"])  # type: ignore[arg-type]
        assert gone.verdict is Verdict.PROBLEM and "does not exist" in gone.detail and "plug" in gone.todo
    finally:
        sim.stop()
    assert not os.path.exists(port)


def test_doctor_on_the_demo_profile_and_when_disabled() -> None:
    config = load_config("demo", environ={})
    assert [r.verdict for r in run_checks(config, ["idcard"])] == [Verdict.OK, Verdict.OK]
    [off] = run_checks(load_config("field", environ={}), ["idcard"])
    assert off.verdict is Verdict.OK and "not configured" in off.detail


def read(holder: object) -> Completion[IdCardData]:
    return Completion("readCard", CompletionCode.SUCCESS, IdCardData(DocumentKind.RESIDENT_ID, holder, 1024))  # type: ignore[arg-type]


def test_identity_from_a_read() -> None:
    today = date(2026, 12, 6)
    identity = identity_from_id_card(read(NORMAL), today)
    assert identity == VisitIdentity(IdentitySource.ID_CARD, NORMAL.id_number, NORMAL.name)
    assert NORMAL.id_number not in repr(identity) and NORMAL.name not in repr(identity)
    assert identity_from_id_card(read(EXPIRED), today) == IdCardRefused("expired", date(2025, 6, 1))
    forged = dataclasses.replace(NORMAL, id_number=NORMAL.id_number[:17] + "9")
    assert identity_from_id_card(read(forged), today) == IdCardRefused(IdCardErrorCode.ID_NUMBER_CHECK.value)
    failed = Completion("readCard", CompletionCode.USER_ERROR, error_code=IdCardErrorCode.FOREIGN_CARD.value)
    assert identity_from_id_card(failed, today) == IdCardRefused("foreignPermanentResidentCard")


def test_the_session_decides_identity_and_what_it_allows() -> None:
    core = SessionCore(60, 10)
    me = VisitIdentity(IdentitySource.ID_CARD, NORMAL.id_number, NORMAL.name)
    assert core.identify(me) is None                       # starts the visit
    assert core.state is VisitState.HOME and core.visit is not None and core.visit.trigger == "id_card"
    assert core.allows("retiree_certification") and not core.allows("pin_change")
    assert core.identify(VisitIdentity(IdentitySource.ID_CARD, EXPIRED.id_number)) == "other_person"
    assert core.identify(me) is None                       # the same card again: fine
    core.choose_service("retiree_certification")
    core.enter_step("consent", 2, 4)
    assert core.identify(me) == "busy"
    core.back_home()
    core.card_inserted()                                   # the social-security card takes over
    identity = core.identity
    assert identity is not None and identity.source is IdentitySource.SOCIAL_SECURITY_CARD
    assert core.allows("pin_change") and core.allows("retiree_certification")
    core.card_removed()                                    # its removal ends the visit, identity gone
    assert core.visit is None and core.identity is None and core.allows("pin_change")


def test_removing_the_id_card_does_not_end_the_visit() -> None:
    # The ID card is shown, not kept in a slot: elderly citizens take it back at once.
    core = SessionCore(60, 10)
    core.identify(VisitIdentity(IdentitySource.ID_CARD, NORMAL.id_number, NORMAL.name))
    assert core.visit is not None and core.state is VisitState.HOME
