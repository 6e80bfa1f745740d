"""What the e-card PIN screens say (kiosk/flows/ecard_pin.py). Every PIN screen names the PIN
plainly as the e-card's and says it is not the social security card's PIN.

msgids are English (``N_``); the Chinese is in locale/zh_CN/LC_MESSAGES/ecard.po.
"""

from __future__ import annotations

from kiosk.i18n import N_

SERVICE_TITLE: str = N_("E-card PIN")
SERVICE_SUBTITLE: str = N_("Set, change or reset your e-card PIN")

CHOOSE: str = N_("What would you like to do with your e-card PIN? It is not your social "
                 "security card's PIN: the two are independent.")
CHOICE_SET: str = N_("Set the e-card PIN")
CHOICE_SET_NOTE: str = N_("First use: no e-card PIN yet")
CHOICE_CHANGE: str = N_("Change the e-card PIN")
CHOICE_CHANGE_NOTE: str = N_("You know the current e-card PIN")
CHOICE_RESET: str = N_("Forgot the e-card PIN")
CHOICE_RESET_NOTE: str = N_("Or it is locked: reset it with a face check and an SMS code")

INDEPENDENT: str = N_("This is the PIN of your electronic social security card, not the PIN of "
                      "your social security card. The two are independent.")
PAD_TITLE: str = N_("Enter your e-card PIN on the PIN pad")      # over the dots (ui/widgets/pin_entry.py)
OLD_TITLE: str = N_("Current e-card PIN")
OLD_INSTRUCTION: str = N_("Type your current e-card PIN on the PIN pad and press Enter. "
                          "It is not your social security card's PIN.")
OLD_TRIES: str = N_("Type your current e-card PIN on the PIN pad and press Enter. "
                    "{n} tries left before it locks.")
NEW_TITLE: str = N_("New e-card PIN")
NEW_INSTRUCTION: str = N_("Choose a new six-digit e-card PIN and type it on the PIN pad, then "
                          "press Enter. It does not change your social security card's PIN.")
NEW_AGAIN_TITLE: str = N_("New e-card PIN again")
NEW_AGAIN_INSTRUCTION: str = N_("Type the same new e-card PIN once more on the PIN pad and press Enter.")
SAVING_TITLE: str = N_("Saving your e-card PIN")
SAVING_INSTRUCTION: str = N_("Please wait a moment.")    # flows.po has it
PREPARING_TITLE: str = N_("Preparing the PIN pad")

SET_TITLE: str = N_("Your e-card PIN is set")
CHANGED_TITLE: str = N_("Your e-card PIN is changed")
RESET_TITLE: str = N_("Your e-card PIN is reset")
DONE_MESSAGE: str = N_("Use it for the electronic social security card from now on. Your social security card's "
                       "PIN has not changed.")
ALERT_SENT: str = N_("A text message about this was sent to your bound phone.")
LABEL_ALERT: str = N_("Notice")

NO_ECARD: str = N_("You have no electronic social security card yet.")
NO_ECARD_TODO: str = N_("Open it in the official app first, or go to the service counter with your ID card.")
ALREADY_SET: str = N_("Your e-card PIN is already set.")
ALREADY_SET_TODO: str = N_("Touch Try again and choose Change, or Forgot if you do not remember it.")
NOT_SET: str = N_("Your e-card has no PIN yet.")
NOT_SET_TODO: str = N_("Touch Try again and choose Set the e-card PIN.")
LOCKED: str = N_("Your e-card PIN is locked after too many wrong PINs.")
LOCKED_TODO: str = N_("Touch Try again and choose Forgot the e-card PIN to reset it with a face check and an "
                      "SMS code, or go to the service counter.")
WRONG_PIN: str = N_("The current e-card PIN is wrong. {n} tries left before it locks.")
WRONG_PIN_TODO: str = N_("Touch Try again to type it again, or choose Forgot the e-card PIN.")
CHOOSE_AGAIN_TODO: str = N_("Touch Try again to choose another e-card PIN.")
NOT_READY: str = N_("This kiosk cannot take e-card PINs right now.")
DOWN_TODO: str = N_("Your e-card PIN has not been changed here. Please try again later, or go to the service "
                    "counter with your ID card.")
UNCERTAIN: str = N_("The kiosk lost contact with the social security system while saving your e-card PIN.")
UNCERTAIN_TODO: str = N_("It may or may not have changed. Check with the official app, or go to the service "
                         "counter with your ID card.")
SESSION_OVER: str = N_("The time for typing your e-card PIN ran out, so it was not saved. Nothing was changed.")
SESSION_OVER_TODO: str = N_("Touch Try again to start the PIN entry again, and type each PIN within five minutes.")
