"""What the kiosk tells a person whose card was taken out (or went silent) after it was told to
change its PIN but before the kiosk got the answer. msgids English; Chinese in reconcile.po."""

from __future__ import annotations

from kiosk.i18n import N_

OPERATION: dict[str, str] = {
    "pin_change": N_("changing your PIN"),
    "pin_reset": N_("setting your new PIN"),
    "pin_unblock": N_("unlocking your PIN"),
}
APPLIED = N_("Last time your card was taken out while the kiosk was {operation}, before the kiosk got the "
             "card's answer. We have now checked your card: it was done. Please use your new PIN from now on.")
APPLIED_UNBLOCK = N_("Last time your card was taken out while the kiosk was {operation}, before the kiosk got the "
                     "card's answer. We have now checked your card: it was done. Your PIN is unlocked.")
NOT_APPLIED = N_("Last time your card was taken out while the kiosk was {operation}, before the kiosk got the "
                 "card's answer. We have now checked your card: it was NOT done. Your PIN has not changed; you "
                 "can do it again.")
STILL_UNKNOWN = N_("Last time your card was taken out while the kiosk was {operation}. We could not find out "
                   "whether it was done. Please go to the service counter with your ID card, or call {hotline}.")
CONTINUE = N_("OK, continue")
