"""Who a visit is for, how that was established, and what it allows.

The session core (kiosk/session.py) holds one :class:`VisitIdentity` per visit and decides with
:func:`allows` which services it opens; the flows read it instead of each asking again. Sources:

* the social-security card in the reader: every service (the card is the visit's key);
* the resident ID card read by the ID-card reader (its SAM authenticated the card): services
  that need no social-security card — retiree certification, and the temporary loss report of
  the social-security card (which only an ID card or the e-card can start: the card is lost);
* the e-card sign-in (电子社保卡): the services listed in the configuration (``[ecard]
  visit_services``, kiosk/config/schema.py validates it; SessionCore passes it here), by default
  account status, retiree certification, real-name registration, the e-card PIN services and the
  loss report; services that write the social-security card are never among them (they need it);
* an ID number typed on the pad (a fallback that proves nothing): retiree certification only,
  where the flow confirms the name and the face match is what proves the person.

The ID number's check character is checked with the project's one GB 11643 helper
(ISO 7064 MOD 11-2), :func:`kiosk.flows.retiree.complete_id_number`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from drivers.idcard.api import IdCardData, IdCardErrorCode, idcard_error
from kiosk.privacy import mask_id_number


class IdentitySource(StrEnum):
    SOCIAL_SECURITY_CARD = "sscard"
    ID_CARD = "id_card"
    E_CARD = "e_card"
    TYPED_ID_NUMBER = "typed"


# service key -> the identity sources that may start it. A visit with no identity yet (a touch)
# may start anything: the service itself asks for the card or the number.
# An e-card visit follows the configuration when SessionCore has one (the defaults below match it).
SERVICE_SOURCES: dict[str, frozenset[IdentitySource]] = {
    "card_status": frozenset({IdentitySource.SOCIAL_SECURITY_CARD, IdentitySource.E_CARD}),
    "pin_change": frozenset({IdentitySource.SOCIAL_SECURITY_CARD}),
    "pin_reset": frozenset({IdentitySource.SOCIAL_SECURITY_CARD}),
    "real_name": frozenset({IdentitySource.SOCIAL_SECURITY_CARD, IdentitySource.E_CARD}),
    "retiree_certification": frozenset(IdentitySource),
    "card_loss": frozenset({IdentitySource.ID_CARD, IdentitySource.E_CARD}),
    "ecard_pin": frozenset({IdentitySource.SOCIAL_SECURITY_CARD, IdentitySource.E_CARD}),
}


@dataclass(frozen=True)
class VisitIdentity:
    source: IdentitySource
    id_number: str = field(default="", repr=False)     # "" while a social-security card is unread
    name: str = field(default="", repr=False)

    def __repr__(self) -> str:
        shown = mask_id_number(self.id_number) if self.id_number else "-"
        return f"VisitIdentity({self.source.value}, {shown})"

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.id_number)


def allows(identity: VisitIdentity | None, service: str, ecard_services: Collection[str] | None = None) -> bool:
    """``ecard_services``: the configured ``[ecard] visit_services`` (None: the defaults above)."""
    if identity is None:
        return True
    if identity.source is IdentitySource.E_CARD and ecard_services is not None:
        return service in ecard_services
    return identity.source in SERVICE_SOURCES.get(service, frozenset(IdentitySource))


def id_number_valid(id_number: str) -> bool:
    """18 characters whose last is the right GB 11643 check character."""
    from kiosk.flows.retiree import complete_id_number

    return len(id_number) == 18 and complete_id_number(id_number[:17]) == id_number.upper()


@dataclass(frozen=True)
class IdCardRefused:
    """An ID card that was read (or failed to read) but cannot identify this visit: ``reason`` is an
    IdCardErrorCode value or "expired"; kiosk/messages/idcard.py words it."""

    reason: str
    until: date | None = None


def identity_from_id_card(completion: Any, today: date) -> VisitIdentity | IdCardRefused:
    """A read_card completion -> the visit's identity, or why it cannot be one."""
    if not completion.ok or completion.result is None:
        error = idcard_error(completion) or IdCardErrorCode.UNKNOWN_STATUS
        return IdCardRefused(error.value)
    data: IdCardData = completion.result
    holder = data.holder
    if holder.expired(today):
        return IdCardRefused("expired", holder.valid_until)
    if not id_number_valid(holder.id_number):
        return IdCardRefused(IdCardErrorCode.ID_NUMBER_CHECK.value)
    return VisitIdentity(IdentitySource.ID_CARD, holder.id_number, holder.name)
