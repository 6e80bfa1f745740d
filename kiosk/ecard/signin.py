"""Sign in by the e-card's dynamic code: QR text -> checked offline -> redeemed once -> the citizen.

The kiosk refuses what it can by itself (not our format, an untrusted platform, a bad signature,
out of its time window) before any network traffic; the platform then spends the code, which is
what refuses a screenshot shown after the genuine use or a code replayed at another kiosk.
Every attempt, refused or not, is written as a signed record (``ecard_signin``) in the store;
the code text itself is never stored or logged, only its refusal reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk.backend_client import EcardSignedIn, NotFound, Rejected, ServiceUnavailable
from kiosk.ecard.code import CodeError, CodeRefusal, verify
from kiosk.i18n import _
from kiosk.messages.ecard import UNKNOWN_PERSON, refusal_sentence
from kiosk.privacy import mask_id_number

log = logging.getLogger(__name__)

RECORD_TYPE = "ecard_signin"
_BACKEND_REFUSALS = {
    "code_already_used": CodeRefusal.ALREADY_USED,
    "code_expired": CodeRefusal.EXPIRED,
    "code_foreign": CodeRefusal.FOREIGN_PLATFORM,
    "code_not_yet_valid": CodeRefusal.NOT_YET_VALID,
    "code_invalid": CodeRefusal.TAMPERED,
}


class Redeemer(Protocol):
    def redeem_ecard(self, code_text: str) -> EcardSignedIn | NotFound | Rejected | ServiceUnavailable: ...


class Recorder(Protocol):
    def commit_result(self, type: str, payload: Mapping[str, Any], **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class SignInResult:
    """``ok`` with the citizen's ID number, or a refusal with the sentence to show and speak."""

    ok: bool
    message: str
    refusal: CodeRefusal | None = None
    unavailable: bool = False                    # the platform could not be reached: try later/counter
    id_number: str | None = field(default=None, repr=False)
    name_masked: str = ""


class EcardSignIn:
    def __init__(self, trusted: Mapping[str, bytes], platform: Redeemer, recorder: Recorder, *,
                 clock: Callable[[], float] = time.time) -> None:
        self._trusted = dict(trusted)
        self._platform = platform
        self._recorder = recorder
        self._clock = clock

    def sign_in(self, code_text: str) -> SignInResult:
        try:
            checked = verify(code_text, self._trusted, self._clock())
        except CodeError as exc:
            return self._refused(exc.refusal, stage="kiosk")
        answer = self._platform.redeem_ecard(checked.text)
        if isinstance(answer, EcardSignedIn):
            self._recorder.commit_result(RECORD_TYPE, {"result": "passed", "iss": checked.iss,
                                                    "id_number": answer.id_number})
            log.info("e-card sign-in", extra={"person": mask_id_number(answer.id_number), "iss": checked.iss})
            return SignInResult(True, "", id_number=answer.id_number, name_masked=answer.name_masked)
        if isinstance(answer, Rejected) and answer.error in _BACKEND_REFUSALS:
            return self._refused(_BACKEND_REFUSALS[answer.error], stage="platform")
        if isinstance(answer, NotFound):
            self._recorder.commit_result(RECORD_TYPE, {"result": "refused", "reason": "unknown_person",
                                                    "stage": "platform"})
            return SignInResult(False, _(UNKNOWN_PERSON))
        reason = answer.reason if isinstance(answer, ServiceUnavailable) else f"{answer.status} {answer.error}"
        self._recorder.commit_result(RECORD_TYPE, {"result": "unavailable", "stage": "platform"})
        log.warning("e-card platform unavailable", extra={"reason": reason})
        message = answer.citizen_message if isinstance(answer, ServiceUnavailable) else \
            refusal_sentence(CodeRefusal.NOT_YET_VALID)
        return SignInResult(False, message, unavailable=True)

    def _refused(self, refusal: CodeRefusal, *, stage: str) -> SignInResult:
        self._recorder.commit_result(RECORD_TYPE, {"result": "refused", "reason": refusal.value, "stage": stage})
        log.info("e-card code refused", extra={"reason": refusal.value, "stage": stage})
        return SignInResult(False, refusal_sentence(refusal), refusal=refusal)
