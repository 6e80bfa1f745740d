"""Operator-facing sentences for the core's error codes and the bureau's outcomes (msgids)."""

from __future__ import annotations

from kiosk.field.report import OUTCOME_LABELS
from kiosk.i18n import N_

ERROR_TEXTS = {
    "wrong_credentials": N_("Operator id or password not recognised. Try again."),
    "paused": N_("Too many wrong sign-ins. Wait five minutes, or call the office."),
    "already_signed_in": N_("Another operator is signed in. Sign out first."),
    "signed_out": N_("Sign in first."),
    "locked": N_("The session is locked. Unlock it with your password."),
    "list_missing": N_("No operator list on this kiosk. Connect to the network and download it."),
    "list_expired": N_("The operator list is too old. Connect to the network and download it again."),
    "list_bad_signature": N_("The operator list is not signed by the bureau. Download it again online."),
    "list_unavailable": N_("The bureau cannot be reached. Connect to the network and try again."),
    "card_not_authorised": N_("This card is not on the authorised operators list. Use your own staff card."),
    "card_unreadable": N_("The staff card could not be read. Insert it again."),
    "pin_not_entered": N_("No PIN was entered. Start the sign-in again."),
    "no_roster": N_("No roster on this kiosk. Download one while online."),
    "expired": N_("The roster has expired and was deleted. Download a new one while online."),
    "other_operator": N_("This roster belongs to another operator. Download a new one while online."),
    "wrong_secret": N_("The roster does not open with this password."),
    "damaged": N_("The roster is damaged. Download it again while online."),
}


OUTCOME_TITLES = OUTCOME_LABELS          # one wording for the screen and the PDF

OUTCOME_ADVICE = {
    "already_certified": N_("Nothing to do: the earlier certification stands. The visit is kept on record."),
    "deceased": N_("Do not certify again. Report the visit to the office; staff will review it."),
    "unknown_person": N_("Check the ID number with the office; staff will review the record."),
}
