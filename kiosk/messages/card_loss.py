"""Citizen-facing sentences of the temporary loss report (临时挂失) and of a lost card inserted later.

msgids are English (``N_``); the Chinese is in locale/zh_CN/LC_MESSAGES/card_loss.po.
"""

from __future__ import annotations

from kiosk.i18n import N_

SERVICE_TITLE = N_("Report card lost")
SERVICE_SUBTITLE = N_("Lost your card? Block it for now, or unblock it")
NEEDS_ID_CARD = N_("This service needs your ID card.")
NEEDS_ID_CARD_TODO = N_("Please lay your resident ID card on the ID card reader, then choose this service again.")
QUESTION = N_("What would you like to do?")
REPORT = N_("Report my card lost (it is blocked at once)")
REPORT_NOTE = N_("Nobody can use the card until you cancel the report.")
CANCEL = N_("I found my card: cancel the loss report")
ALREADY_LOST_NOTE = N_("Your card is already reported lost.")
NOT_LOST_NOTE = N_("Your card is not reported lost.")
REPORTED_TITLE = N_("Card reported lost")
REPORTED_MESSAGE = N_("Your social security card is blocked. If you find it, cancel the report here with your ID "
                      "card; for a new card, go to the service counter.")
CANCELLED_TITLE = N_("Loss report cancelled")
CANCELLED_MESSAGE = N_("Your social security card can be used again.")
LABEL_ACTION = N_("Done")
CARD_LOST = N_("This card has been reported lost and cannot be used.")
CARD_LOST_TODO = N_("If it is your card and you found it, choose \"Report card lost\" on the home screen with your "
                    "ID card to cancel the report; otherwise please hand it in at the service counter.")
