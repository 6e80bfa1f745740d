"""What the kiosk tells a citizen when an e-card sign-in code is refused: one thing to do each.

msgids are English (``N_``); the Chinese is in locale/zh_CN/LC_MESSAGES/ecard.po.
"""

from __future__ import annotations

from kiosk.ecard.code import CodeRefusal
from kiosk.i18n import N_, _

REFUSAL: dict[CodeRefusal, str] = {
    CodeRefusal.NOT_A_CODE: N_("This is not an electronic social security card code. Open the e-card in your "
                               "app and show its QR code."),
    CodeRefusal.FOREIGN_PLATFORM: N_("This code is from a platform this kiosk does not accept. Show the code of "
                                     "your electronic social security card."),
    CodeRefusal.TAMPERED: N_("This code cannot be verified. Refresh the code on your phone and show it again."),
    CodeRefusal.EXPIRED: N_("This code has expired. Refresh the code on your phone and show it again."),
    CodeRefusal.NOT_YET_VALID: N_("This code cannot be checked at this kiosk now. Please use another kiosk or "
                                  "go to the service counter."),
    CodeRefusal.ALREADY_USED: N_("This code has already been used. Show the live code on your phone, "
                                 "not a picture of it."),
}

UNKNOWN_PERSON: str = N_("Your e-card is not known at this bureau. Please go to the service counter.")


def refusal_sentence(refusal: CodeRefusal) -> str:
    return _(REFUSAL[refusal])

# The sign-in service on screen (kiosk/flows/ecard.py).
SERVICE_TITLE: str = N_("E-card sign-in")
SERVICE_SUBTITLE: str = N_("Show the QR code of your electronic social security card")
SCAN_TITLE: str = N_("Show your e-card code")
SCAN_INSTRUCTION: str = N_("Open the electronic social security card in your phone app and hold its QR code up to "
                           "the camera above the screen, about 30 cm away, screen facing the camera.")
NO_CODE: str = N_("No e-card code was seen.")
NO_CODE_TODO: str = N_("Hold the phone still in front of the camera, screen brightness up, and try again.")
NO_TRUST: str = N_("This kiosk cannot check e-card codes now.")
SIGNED_IN_TITLE: str = N_("Signed in with your e-card")
SIGNED_IN_MESSAGE: str = N_("Choose a service on the home screen. Services that write to the social security "
                            "card still need the card.")
REFUSED_TODO: str = N_("Touch Try again, or go to the service counter.")

# Account status and real-name registration in an e-card visit (kiosk/flows/ecard_visit.py): the
# card's chip is not read, so only what the social security office records is shown.
ACCOUNT_TITLE: str = N_("Your social security account")
ACCOUNT_INSTRUCTION: str = N_("As the social security office records it. You signed in with the e-card, so the "
                              "card's chip was not read.")
LABEL_CHIP: str = N_("Card chip")
CHIP_NOT_READ: str = N_("Not read: insert the card to see its dates and PIN tries left")
STATE_ASK_COUNTER: str = N_("Please ask at the service counter")
