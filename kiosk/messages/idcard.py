"""What the kiosk tells a citizen about the ID card on the reader: what happened, what to do.

msgids are English (``N_``); the Chinese is in locale/zh_CN/LC_MESSAGES/idcard.po.
"""

from __future__ import annotations

from drivers.idcard.api import IdCardErrorCode
from kiosk.i18n import N_

READ_AGAIN = N_("Please lift your ID card, lay it flat on the reader again and keep it still until the screen "
                "changes.")
COUNTER = N_("Please go to the service counter with this card.")

# reason (IdCardErrorCode value, "expired", "other_person") -> (what happened, what to do)
REASONS: dict[str, tuple[str, str]] = {
    IdCardErrorCode.NO_CARD.value: (N_("No ID card was found on the reader."), READ_AGAIN),
    IdCardErrorCode.SELECT_FAILED.value: (N_("Your ID card could not be read."), READ_AGAIN),
    IdCardErrorCode.CARD_REMOVED.value: (N_("The ID card was moved before it was read."), READ_AGAIN),
    IdCardErrorCode.CARD_AUTH_FAILED.value: (N_("This ID card could not be verified."), COUNTER),
    IdCardErrorCode.UNKNOWN_CARD_TYPE.value: (N_("This is not a resident ID card."),
                                              N_("Please lay your resident ID card on the reader, or insert your "
                                                 "social security card.")),
    IdCardErrorCode.FOREIGN_CARD.value: (
        N_("This is a foreign permanent resident ID card. This kiosk can only read the resident ID card of "
           "the People's Republic of China."), COUNTER),
    IdCardErrorCode.HMT_CARD.value: (
        N_("This is a residence permit for Hong Kong, Macao and Taiwan residents. This kiosk can only read the "
           "resident ID card."), COUNTER),
    IdCardErrorCode.UNKNOWN_DOCUMENT.value: (N_("This card cannot be read at this kiosk."), COUNTER),
    IdCardErrorCode.MALFORMED_TEXT.value: (N_("The data on your ID card cannot be read."), COUNTER),
    IdCardErrorCode.ID_NUMBER_CHECK.value: (N_("The ID number on this card is not valid."), COUNTER),
    "expired": (N_("Your ID card expired on {until}."),
                N_("Please renew it at the public security office. Until then, insert your social security "
                   "card, or go to the service counter.")),
    "other_person": (N_("Another person's visit is still open on this kiosk."),
                     N_("Please finish that visit first, then lay your ID card on the reader again.")),
}
READER_FAULT = (N_("The ID card reader is not working right now."),
                N_("Please insert your social security card instead, or go to the service counter."))
NEEDS_SOCIAL_SECURITY_CARD = N_("This service needs your social security card.")
INSERT_SOCIAL_SECURITY_CARD = N_("Please insert your social security card, chip first. Your ID card is enough for "
                                 "retiree certification.")


def reason_text(reason: str) -> tuple[str, str]:
    """(what happened, what to do) msgids for a refusal reason; reader faults share one sentence."""
    return REASONS.get(reason, READER_FAULT)


def needs_for(service: str) -> tuple[str, str]:
    """(what happened, what to do) when the visit's identity cannot start ``service``."""
    if service == "card_loss":
        from kiosk.messages import card_loss

        return card_loss.NEEDS_ID_CARD, card_loss.NEEDS_ID_CARD_TODO
    return NEEDS_SOCIAL_SECURITY_CARD, INSERT_SOCIAL_SECURITY_CARD
