"""Service 4, retiree certification (养老金领取资格认证).

Card, or for a retiree without the card the ID number typed on the pad and the name confirmed ->
already certified for this period? (told so; again only if policy allows) -> consent -> face
liveness + 1:1 match -> result with the period it covers -> record ("certification", passed or
failed). The enrolled template comes from a :class:`kiosk.flows.templates.TemplateSource`: the
backend online, the field profile's encrypted roster offline; the record syncs later. In the field
the signed-in operator's id is written on the record.
"""

from __future__ import annotations

import calendar
import hashlib
from datetime import date
from typing import Any

from kiosk.flows.base import Choice, NextStep, ResultLine
from kiosk.flows.common import FlowContext, FlowOutcome, face_fields, service_flow
from kiosk.flows.templates import PersonDirectory
from kiosk.identity import IdentitySource
from kiosk.messages import flows as M
from kiosk.privacy import mask_id_number, mask_name

SERVICE = "retiree_certification"
PERIOD_MONTHS = {"year": 12, "half_year": 6, "quarter": 3}
STATE_NAMESPACE = "certification"     # local state: hashed ID -> certified until (offline repeat check)


@service_flow(SERVICE, 4)
def retiree_certification(ctx: FlowContext, *,
                          operator_id: str | None = None, id_number: str | None = None) -> FlowOutcome:
    """``id_number``: a person the field operator picked from the roster (UI); the flow then skips
    the card / typed-number question but still asks the person to confirm the name."""
    deps = ctx.deps
    ctx.operator_id = operator_id or deps.operator_id
    ctx.require("camera", "face", "store")
    method, id_number, name = _identify(ctx) if id_number is None else _preselected(ctx, id_number)
    certified_until = _check_person(ctx, method, id_number, name)
    today = deps.today()
    valid_until = add_months(today, PERIOD_MONTHS[deps.config.policy.certification_period])
    if certified_until is not None and certified_until >= today:
        if not _recertify_wanted(ctx, certified_until):
            ctx.commit("certification_check", {"id_number": id_number, "result": "already_certified",
                                               "certified_until": certified_until.isoformat()})
            return ctx.done(M.ALREADY_CERTIFIED_TITLE, M.ALREADY_CERTIFIED, _lines(ctx, id_number, name),
                            code="already_certified", until=certified_until.isoformat())
    consent = ctx.consent(2)
    reference = ctx.reference_template(id_number)

    def failed_record(decision: Any, reason: str) -> str:
        return ctx.commit("certification", {"id_number": id_number, "result": "failed", "reason": reason,
                                            "method": method, "channel": "kiosk", **face_fields(decision)})

    decision = ctx.face_check(3, reference, consent, on_final_failure=failed_record)
    sealed = {"capture": decision.sealed_capture} if decision.sealed_capture else None
    ctx.commit("certification", {"id_number": id_number, "result": "passed", "method": method, "channel": "kiosk",
                                 "period": deps.config.policy.certification_period, "valid_from": today.isoformat(),
                                 "valid_until": valid_until.isoformat(), **face_fields(decision)},
               state={(STATE_NAMESPACE, person_key(id_number)): valid_until.isoformat()}, sealed=sealed)
    ctx.step("certified", 4, M.CERTIFIED_TITLE, M.CERTIFIED_INSTRUCTION)
    lines = [*_lines(ctx, id_number, name), ResultLine(M.LABEL_PERIOD, f"{today.isoformat()} – {valid_until.isoformat()}")]
    return ctx.done(M.CERTIFIED_TITLE, M.CERTIFIED_MESSAGE, lines, start=today.isoformat(),
                    until=valid_until.isoformat())


def person_key(id_number: str) -> str:
    """Local state is keyed by a hash: the store never needs the ID number to find a certification."""
    return hashlib.sha256(id_number.upper().encode("ascii")).hexdigest()


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _lines(ctx: FlowContext, id_number: str, name: str | None) -> list[ResultLine]:
    lines = [ResultLine(M.LABEL_ID_NUMBER, mask_id_number(id_number))]
    if name:
        lines.insert(0, ResultLine(M.LABEL_NAME, name if "*" in name else mask_name(name)))
    return lines


# -- who is it ------------------------------------------------------------------------------------
def _identify(ctx: FlowContext) -> tuple[str, str, str | None]:
    """("card" | "id_card" | "id_number", ID number, name or masked name)."""
    identity = ctx.deps.identity
    if identity is not None and identity.source is IdentitySource.ID_CARD:
        # The session identified the visit by the ID card (its SAM authenticated the card): no
        # card question, no typed number, no name to confirm; the face match still decides.
        ctx.id_number = identity.id_number
        ctx.begin_visit("id_card", identity.id_number, identity.name)
        return "id_card", identity.id_number, identity.name
    card_in = False
    if ctx.deps.card is not None:
        info = ctx.deps.card.reader_info().wait(5)
        card_in = bool(info.ok and info.result is not None and info.result.card_present)
    if not card_in:
        options = [Choice("card", M.WITH_CARD, enabled=ctx.deps.card is not None),
                   Choice("id_number", M.WITHOUT_CARD, enabled=ctx.deps.pinpad is not None)]
        ctx.step("identify", 1, M.IDENTIFY_TITLE, M.IDENTIFY_INSTRUCTION)
        if ctx.ask("identify", M.IDENTIFY_QUESTION, options) == "id_number":
            return "id_number", _type_id_number(ctx), None
    info = ctx.read_card(1)
    return "card", info.holder.ssn, info.holder.name


def _preselected(ctx: FlowContext, id_number: str) -> tuple[str, str, None]:
    """A number chosen by staff (roster row): checked like a typed one, then treated as typed."""
    wanted = id_number.strip().upper()
    checked = complete_id_number(wanted[:17]) if len(wanted) == 18 else None
    if checked is None or checked != wanted:
        raise ValueError("the preselected ID number is not a valid 18-character ID number")
    ctx.id_number = checked
    ctx.begin_visit("typed", checked)
    return "id_number", checked, None


def _type_id_number(ctx: FlowContext) -> str:
    while True:
        typed = ctx.enter_plain("id_number", 1, M.ID_NUMBER_TITLE, M.ID_NUMBER_INSTRUCTION, min_len=17, max_len=18)
        assert typed is not None
        digits = typed.decode("ascii")
        typed[:] = bytes(len(typed))
        id_number = complete_id_number(digits)
        if id_number is not None:
            ctx.id_number = id_number
            ctx.begin_visit("typed", id_number)
            return id_number
        choice = ctx.show_error(ctx.guidance(M.ID_NUMBER_INVALID, M.ID_NUMBER_INVALID_TODO,
                                             (NextStep.RETRY, NextStep.HOME)))
        if choice is not NextStep.RETRY:
            ctx.fail("id_number_invalid", ctx.guidance(M.ID_NUMBER_INVALID, M.START_AGAIN, (NextStep.HOME,)),
                     step="id_number", show=False)


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def complete_id_number(digits: str) -> str | None:
    """17 digits -> the 18-character number with its GB 11643 check character (the pad has no X key);
    18 digits -> itself when its check digit is right; anything else None."""
    if not digits.isdigit() or len(digits) not in (17, 18):
        return None
    check = _CHECK[sum(int(d) * w for d, w in zip(digits[:17], _WEIGHTS, strict=True)) % 11]
    if len(digits) == 17:
        return digits + check
    return digits if digits[17] == check else None


def _check_person(ctx: FlowContext, method: str, id_number: str, name: str | None) -> date | None:
    """Ask the bureau (or, offline, the template source) about the person; confirm a typed person's
    name. Returns the date the person is certified until, if known."""
    from kiosk.backend_client import NotFound, PersonSummary

    answer: Any = ctx.deps.client.person_summary(id_number) if ctx.deps.client is not None else None
    ctx.token.check()
    local = ctx.deps.store.get_state(STATE_NAMESPACE, person_key(id_number))
    until = [date.fromisoformat(local)] if local else []
    if isinstance(answer, NotFound):
        ctx.fail("unknown_person", ctx.counter_guidance(M.UNKNOWN_PERSON))
    if isinstance(answer, PersonSummary):
        data = answer.data
        if data.get("deceased"):
            ctx.fail("not_eligible", ctx.counter_guidance(M.CANNOT_CERTIFY_HERE))
        if method == "id_number":
            _confirm_name(ctx, str(data.get("name_masked") or ""))
        if data.get("certified_until"):
            until.append(date.fromisoformat(str(data["certified_until"])))
    elif method == "id_number":
        # Offline: only a source that knows names (the field roster) can confirm who this is.
        templates = ctx.deps.templates
        known = templates.name_for(id_number) if isinstance(templates, PersonDirectory) else None
        if not known:
            ctx.fail("offline_no_name", ctx.guidance(M.OFFLINE_NEED_CARD, M.OFFLINE_NEED_CARD_TODO,
                                                     (NextStep.COUNTER, NextStep.HOME)))
        _confirm_name(ctx, mask_name(known))
    return max(until) if until else None


def _confirm_name(ctx: FlowContext, masked_name: str) -> None:
    answer = ctx.ask("confirm_name", M.CONFIRM_NAME, [Choice("yes", M.YES_THIS_IS_ME), Choice("no", M.NO_NOT_ME)],
                     name=masked_name)
    if answer != "yes":
        ctx.fail("name_not_confirmed", ctx.guidance(M.NAME_NOT_CONFIRMED, M.NAME_NOT_CONFIRMED_TODO,
                                                    (NextStep.HOME, NextStep.COUNTER)), step="confirm_name")


def _recertify_wanted(ctx: FlowContext, certified_until: date) -> bool:
    if not ctx.config.policy.allow_recertify_in_period:
        return False
    answer = ctx.ask("recertify", M.RECERTIFY_QUESTION, [Choice("again", M.CERTIFY_AGAIN), Choice("no", M.NO_THANKS)],
                     until=certified_until.isoformat())
    return answer == "again"
