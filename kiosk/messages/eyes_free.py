"""What the voice says in private (headphone) audio mode and on the eyes-free visit (docs/voice.md).

Spoken only: these are said in the headphones, and shown nowhere except the demo panel."""

from kiosk.i18n import N_

PRIVATE_ON = N_("Headphones connected. Personal details are now said only in your headphones.")
PRIVATE_OFF = N_("Headphones removed. Personal details are no longer said.")
KEY_MAP = N_("Keys: 2 and 8 move between the choices, Enter chooses, 0 says it again, 5 says these keys "
             "again, Cancel goes back. While you type digits, Clear with nothing typed says it again.")
OPTION_OF = N_("Choice {index} of {total}:")
