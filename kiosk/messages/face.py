"""What the kiosk says and shows for each face-check code: quality prompts, challenge steps, outcomes.

Short sentences a person can act on, spoken and written. msgids are English (``N_``); the Chinese is
in locale/zh_CN/LC_MESSAGES/face.po. Use :func:`text` to get the sentence in the current language.
"""

from __future__ import annotations

from kiosk.i18n import N_, _
from models.challenge import ChallengeFailure, ChallengeStep
from models.policy import FaceOutcome
from models.quality import QualityReason
from models.reference import ReferenceProblem

QUALITY: dict[QualityReason, str] = {
    QualityReason.OK: N_("Hold still, checking your face."),
    QualityReason.NO_FACE: N_("Please face the camera."),
    QualityReason.MULTIPLE_FACES: N_("Only one person in front of the camera, please."),
    QualityReason.TOO_FAR: N_("Please come a little closer."),
    QualityReason.TOO_CLOSE: N_("Please move back a little."),
    QualityReason.OFF_CENTRE: N_("Please move your face into the frame."),
    QualityReason.TOO_DARK: N_("Too dark. Please keep your face well lit."),
    QualityReason.TOO_BRIGHT: N_("Too bright. Please avoid strong light on your face."),
    QualityReason.BLURRED: N_("Please hold still."),
    QualityReason.EYES_COVERED: N_("Please take off your sunglasses."),
    QualityReason.FACE_OCCLUDED: N_("Please take off your mask or hat."),
    QualityReason.NOT_FRONTAL: N_("Please look straight at the camera."),
    QualityReason.HEAD_TILTED: N_("Please hold your head upright."),
}

CHALLENGE: dict[ChallengeStep, str] = {
    ChallengeStep.TURN_LEFT: N_("Please turn your head to the left, then look back."),
    ChallengeStep.TURN_RIGHT: N_("Please turn your head to the right, then look back."),
    ChallengeStep.NOD: N_("Please nod: lower your chin, then look back."),
    ChallengeStep.LOOK_UP: N_("Please raise your chin, then look back."),
    ChallengeStep.BLINK: N_("Please close your eyes, then open them."),
    ChallengeStep.OPEN_MOUTH: N_("Please open your mouth wide, then close it."),
}

CHALLENGE_FAILURE: dict[ChallengeFailure, str] = {
    ChallengeFailure.TOO_SLOW: N_("The movement was not seen in time. Let's try again."),
    ChallengeFailure.NOT_NEUTRAL: N_("Please look straight at the camera first. Let's try again."),
    ChallengeFailure.TOO_FAST: N_("Please move your head slowly. Let's try again."),
    ChallengeFailure.FACE_LOST: N_("Please keep your face in the frame. Let's try again."),
    ChallengeFailure.WRONG_MOVE: N_("Please follow the direction shown. Let's try again."),
}

OUTCOME: dict[FaceOutcome, str] = {
    FaceOutcome.MATCH: N_("Face check passed."),
    FaceOutcome.NO_MATCH: N_("Your face could not be matched. Please try again."),
    FaceOutcome.SPOOF: N_("Please use your real face, not a photo or a screen. Please try again."),
    FaceOutcome.CHALLENGE_FAILED: N_("The movement check did not pass. Please try again."),
    FaceOutcome.NO_USABLE_FRAME: N_("Your face could not be seen clearly. Please follow the prompts and try again."),
    FaceOutcome.GO_TO_COUNTER: N_("The face check did not pass. Please go to the service counter with your ID card, "
                                  "or call 12333."),
    FaceOutcome.BAD_REFERENCE: N_("Your registered photo cannot be used for a face check. Please go to the "
                                  "service counter."),
    FaceOutcome.CAMERA_UNAVAILABLE: N_("The camera is not working. Please go to the service counter or call 12333."),
}

# BAD_REFERENCE, by cause: the person is sent to the counter, and told what the counter will do
# (register a new photo); the kiosk itself cannot repair a reference.
REFERENCE: dict[ReferenceProblem, str] = {
    ReferenceProblem.DAMAGED: N_("Your registered photo is damaged. Please go to the service counter to have a new "
                                 "photo taken."),
    ReferenceProblem.NOT_AN_IMAGE: N_("Your registered photo cannot be read. Please go to the service counter to "
                                      "have a new photo taken."),
    ReferenceProblem.NO_FACE: N_("No face can be found in your registered photo. Please go to the service counter "
                                 "to have a new photo taken."),
    ReferenceProblem.MULTIPLE_FACES: N_("Your registered photo shows more than one person. Please go to the service "
                                        "counter to have a new photo taken."),
    ReferenceProblem.FACE_TOO_SMALL: N_("The face in your registered photo is too small. Please go to the service "
                                        "counter to have a new photo taken."),
}


def outcome_msgid(decision: object) -> str:
    """The msgid for a FaceDecision's outcome, with the reference's cause when there is one."""
    problem = getattr(decision, "reference_problem", None)
    if problem is not None and problem in REFERENCE:
        return REFERENCE[problem]
    return OUTCOME[decision.outcome]  # type: ignore[attr-defined]


RECORDED_SOURCE: str = N_("Demonstration: no camera is connected, a recorded picture is used.")
CONSENT: str = N_("To confirm it is you, the kiosk will take your picture and compare it with your registered "
                  "photo. The picture is not stored. Do you agree?")


def text(code: QualityReason | ChallengeStep | ChallengeFailure | FaceOutcome | ReferenceProblem) -> str:
    """The sentence for a code, in the current language."""
    for table in (QUALITY, CHALLENGE, CHALLENGE_FAILURE, OUTCOME, REFERENCE):
        if code in table:
            return _(table[code])  # type: ignore[index]
    raise KeyError(f"no face message for {code!r}")
