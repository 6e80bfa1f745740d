"""What the citizen services say: short sentences for the elderly, the same words spoken and shown.

msgids are English (``N_``); the Chinese is in locale/zh_CN/LC_MESSAGES/flows.po. Flows pass these
msgids to the Presenter (step titles, questions, guidance), which translates them when shown;
``{placeholders}`` are filled from the call's format arguments ({hotline} always).
"""

from __future__ import annotations

from kiosk.i18n import N_

READ_CARD_TITLE = N_("Reading your card")
READ_CARD_INSTRUCTION = N_("Please keep your card in the reader.")
INSERT_CARD_TITLE = N_("Insert your card")
INSERT_CARD_INSTRUCTION = N_("Insert your social security card with the chip first. Leave it in until the end.")
START_AGAIN = N_("Please start again from the home screen.")
CARD_PROBLEM_TODO = N_("If it happens again, go to the service counter with your ID card, or call {hotline}.")
GO_TO_COUNTER_WITH_ID = N_("Please go to the service counter with your ID card, or call {hotline}.")
SOMETHING_WENT_WRONG = N_("Sorry, something went wrong at this kiosk.")
SERVICE_NOT_AVAILABLE = N_("This service is not available at this kiosk now.")
USE_ANOTHER_KIOSK = N_("Please use another kiosk, or go to the service counter.")
BACKEND_DOWN = N_("The kiosk cannot reach the social security system right now.")
BACKEND_DOWN_TODO = N_("Please go to the service counter with your ID card, or try again later.")
UNKNOWN_PERSON = N_("The social security office has no record of you for this service.")
NO_BOUND_PHONE = N_("No mobile phone is registered for you, so no code can be sent.")
KEEP_CARD_IN = N_("Please wait and do not take out your card.")
PLEASE_WAIT = N_("Please wait a moment.")
AGREE = N_("I agree")
DISAGREE = N_("I do not agree")
DISAGREE_NOTE = N_("You can do this at the service counter instead.")
LEAVE_SERVICE = N_("Leave")
PIN_TITLE = N_("Enter your PIN")
PIN_INSTRUCTION = N_("Enter your 6-digit card PIN on the PIN pad, then press Enter.")
OLD_PIN_TITLE = N_("Enter your current PIN")
OLD_PIN_INSTRUCTION = N_("Enter your current 6-digit PIN on the PIN pad, then press Enter.")
NEW_PIN_TITLE = N_("Enter a new PIN")
NEW_PIN_INSTRUCTION = N_(
    "Choose 6 digits that are not easy to guess: not your birthday, not 123456, not your phone number. Press Enter."
)
NEW_PIN_AGAIN_TITLE = N_("Enter the new PIN again")
NEW_PIN_AGAIN_INSTRUCTION = N_("Enter the same new PIN once more, then press Enter.")
CHOOSE_NEW_PIN_AGAIN = N_("Please choose a new PIN and enter it twice.")
WRONG_PIN_TODO = N_('Please try again carefully. If you forgot your PIN, choose "PIN reset and unlock".')
LAST_TRY_WARNING = N_("Only one try is left. If this PIN is wrong, your card's PIN will be locked. Do you want to try?")
LAST_TRY_CONTINUE = N_("Yes, I will enter it")
LAST_TRY_STOP = N_("No, I forgot my PIN")
LAST_TRY_STOP_NOTE = N_('Choose "PIN reset and unlock" on the home screen.')
LAST_TRY_DECLINED = N_("You stopped before the last try. Your PIN is not locked.")
USE_RESET_OR_COUNTER = N_(
    'Choose "PIN reset and unlock" on the home screen, or go to the service counter with your ID card.'
)
CHANGING_TITLE = N_("Changing your PIN")
PIN_CHANGED_TITLE = N_("PIN changed")
PIN_CHANGED_MESSAGE = N_(
    "Your new PIN is set. Please remember it. A text message will be sent to your registered phone."
)
INITIAL_PIN_QUESTION = N_(
    "Your card still has its initial PIN. With it you can only look at your card. Please set your own PIN now."
)
CHANGE_PIN_NOW = N_("Set my PIN now")
ONLY_SHOW_STATUS = N_("Only show my card")
ONLY_SHOW_STATUS_NOTE = N_("Other services stay closed until the PIN is changed.")
STATUS_TITLE = N_("Your card")
STATUS_INSTRUCTION = N_("Here is your card's information.")
LABEL_NAME = N_("Name")
LABEL_ID_NUMBER = N_("ID number")
LABEL_CARD_NUMBER = N_("Card number")
LABEL_ISSUED = N_("Issued on")
LABEL_EXPIRES = N_("Valid until")
LABEL_STATE = N_("Card state")
LABEL_TRIES_LEFT = N_("PIN tries left")
LABEL_BUREAU = N_("Social security office")
LABEL_BANK = N_("Bank")
LABEL_PERIOD = N_("Certified for")
BUREAU_NOT_CHECKED = N_("Not checked (no connection)")
STATE_NORMAL = N_("Normal")
STATE_INITIAL_PIN = N_("Initial PIN not yet changed")
STATE_PIN_LOCKED = N_("PIN locked")
STATE_EXPIRED = N_("Expired")
STATE_REPORTED_LOST = N_("Reported lost")
MSG_NORMAL = N_("Your card is in normal use.")
MSG_INITIAL_PIN = N_('Your card still has its initial PIN. Please change it soon: choose "Change PIN".')
MSG_EXPIRED = N_("Your card has expired. Please renew it at the service counter with your ID card.")
MSG_REPORTED_LOST = N_(
    "This card is reported lost. Please go to the service counter with your ID card, or call {hotline}."
)
RESET_OR_UNLOCK = N_("What do you need?")
CHOICE_RESET = N_("I forgot my PIN: set a new PIN")
CHOICE_RESET_NOTE = N_("After checking your face and a text message code, you choose a new PIN.")
CHOICE_UNLOCK = N_("My PIN is locked and I remember it: unlock")
CHOICE_UNLOCK_NOTE = N_("Your PIN stays the same; the tries are restored.")
NOT_LOCKED_NOTE = N_("Your PIN is not locked.")
CONSENT_TITLE = N_("Face check")
CONSENT_INSTRUCTION = N_("Please read and choose.")
CONSENT_DECLINED = N_("The face check was not done, so we cannot confirm it is you here.")
NO_TEMPLATE = N_("There is no registered photo of you for a face check.")
FACE_TITLE = N_("Look at the camera")
FACE_INSTRUCTION = N_("Put your face inside the frame, in good light. No hat or sunglasses. Keep still.")
FACE_RETRY_TODO = N_("Touch Try again. You have {left} more tries here.")
SMS_TITLE = N_("Enter the text message code")
SMS_INSTRUCTION = N_(
    "A 6-digit code was sent to {phone}. Enter it on the PIN pad and press Enter. It is valid for {minutes} minutes. No code? Touch \"Send a new code\" below once its countdown ends."
)
SMS_OPTIONS = N_("What would you like to do?")
SMS_ENTER_AGAIN = N_("Enter the code")
SMS_RESEND = N_("Send a new code")
SMS_RESEND_WAIT = N_("You can ask for a new code in {seconds} seconds.")
SMS_NOT_ENTERED = N_("The text message code was not entered.")
SMS_WRONG = N_("The code is not right.")
SMS_WRONG_TODO = N_("Please check the text message and enter the code again. {left} tries left.")
SMS_TOO_MANY_WRONG = N_("The text message code was wrong too many times.")
SMS_EXPIRED = N_("The code has expired.")
SMS_EXPIRED_TODO = N_("Touch Try again to get a new code.")
SMS_WAIT_TITLE = N_("Please wait")
SMS_WAIT_INSTRUCTION = N_("A new code can be sent in {seconds} seconds.")
SMS_TOO_MANY = N_("Too many codes were asked for this phone.")
SMS_TOO_MANY_TODO = N_("Please try again in an hour, or go to the service counter.")
SMS_REFUSED = N_("The text message code could not be sent.")
RESETTING_TITLE = N_("Setting your new PIN")
PIN_RESET_TITLE = N_("New PIN set")
PIN_RESET_MESSAGE = N_(
    "Your card has a new PIN. Please remember it. A text message will be sent to your registered phone."
)
UNLOCKING_TITLE = N_("Unlocking your PIN")
PIN_UNLOCKED_TITLE = N_("PIN unlocked")
PIN_UNLOCKED_MESSAGE = N_(
    "Your PIN is unlocked. Use the same PIN as before. A text message will be sent to your registered phone."
)
IDENTIFY_TITLE = N_("Start the retiree certification")
IDENTIFY_INSTRUCTION = N_("Insert your social security card, or continue without it.")
IDENTIFY_QUESTION = N_("How do you want to start?")
WITH_CARD = N_("With my social security card")
WITHOUT_CARD = N_("Without the card: type my ID number")
ID_NUMBER_TITLE = N_("Enter your ID number")
ID_NUMBER_INSTRUCTION = N_(
    "Type your ID number on the PIN pad and press Enter. If it ends with X, type only the first 17 digits."
)
ID_NUMBER_INVALID = N_("This ID number is not valid.")
ID_NUMBER_INVALID_TODO = N_("Please check your ID card and type the number again.")
CONFIRM_NAME = N_("Is this your name: {name}?")
YES_THIS_IS_ME = N_("Yes, this is me")
NO_NOT_ME = N_("No")
NAME_NOT_CONFIRMED = N_("The name does not match.")
NAME_NOT_CONFIRMED_TODO = N_("Please check the ID number and start again, or go to the service counter.")
OFFLINE_NEED_CARD = N_("Without a network connection the kiosk cannot find you by ID number.")
OFFLINE_NEED_CARD_TODO = N_("Please use your social security card, or try again later.")
CANNOT_CERTIFY_HERE = N_("This certification cannot be done at the kiosk.")
ALREADY_CERTIFIED_TITLE = N_("Already certified")
ALREADY_CERTIFIED = N_("You are already certified until {until}. You do not need to do it again now.")
RECERTIFY_QUESTION = N_("You are already certified until {until}. Do you want to certify again?")
CERTIFY_AGAIN = N_("Certify again")
NO_THANKS = N_("No, thank you")
CERTIFIED_TITLE = N_("Certification passed")
CERTIFIED_INSTRUCTION = N_("Your certification is recorded.")
CERTIFIED_MESSAGE = N_("You are certified from {start} until {until}. Your pension continues.")
BANK_TITLE = N_("Choose your bank")
BANK_INSTRUCTION = N_("Choose the bank of the debit card you will use. Credit cards cannot be used.")
BANK_QUESTION = N_("Which bank is your debit card from?")
BANK_NOT_CONNECTED = N_("{bank} is not connected yet.")
CHOOSE_ANOTHER_BANK = N_("Please use a debit card of another bank in the list.")
BANK_NOTICE = N_(
    "To confirm it is you, the bank checks your name, ID number, bank card number and the phone number you gave the bank. This data is used only to verify your identity. Your bank account is not linked."
)
NOTICE_DECLINED = N_("Registration needs the bank check.")
NOTICE_DECLINED_TODO = N_("You can register at the service counter with your ID card instead.")
BANK_CARD_TITLE = N_("Enter your bank card number")
BANK_CARD_INSTRUCTION = N_("Type the number of your {bank} debit card on the PIN pad, then press Enter.")
PHONE_TITLE = N_("Enter your phone number")
PHONE_INSTRUCTION = N_("Type the mobile number you gave {bank}, then press Enter. The code will be sent there.")
BANK_VERIFY_TITLE = N_("Checking with the bank")
BANK_MISMATCH = N_("Your name, ID type or ID number does not match the bank's record.")
BANK_MISMATCH_TODO = N_(
    "1. Check the numbers you typed. 2. Try a debit card of another bank in the list (your phone number at this bank may have changed). 3. Update your details at the bank counter, then try again. 4. If it still fails, call {hotline} and leave your contact details."
)
BANK_REFUSED = N_("The bank check could not be done.")
CREDIT_CARD = N_("This is a credit card.")
USE_DEBIT_CARD = N_("Please use a debit card.")
REGISTERED_TITLE = N_("Registration done")
REGISTERED_MESSAGE = N_("Your account on the online service platform is ready. Log in with your ID number.")
ALREADY_REGISTERED = N_("You already have an account on the online service platform. Log in with your ID number.")

CARD_STATE: dict[str, str] = {
    "normal": STATE_NORMAL,
    "initial_pin": STATE_INITIAL_PIN,
    "pin_locked": STATE_PIN_LOCKED,
    "expired": STATE_EXPIRED,
    "reported_lost": STATE_REPORTED_LOST,
}

STATE_MESSAGE: dict[str, str] = {
    "normal": MSG_NORMAL,
    "initial_pin": MSG_INITIAL_PIN,
    "expired": MSG_EXPIRED,
    "reported_lost": MSG_REPORTED_LOST,
}
