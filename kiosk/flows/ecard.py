"""E-card sign-in as a service: the phone's dynamic code shown to the camera identifies the visit.

Step 1 shows how to hold the phone; the camera runs for the code only (kiosk/ecard/scan.py), the
code is checked offline against the pinned platform key and redeemed once at the platform
(kiosk/ecard/signin.py, which records every attempt). On success the outcome carries the visit's
identity (source: e-card); the shell hands it to the session core on the UI thread, and
kiosk/identity.py decides which services the visit may then start.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kiosk.backend_client import EcardPlatformKey
from kiosk.ecard.code import CodeRefusal
from kiosk.ecard.scan import sign_in_by_ecard
from kiosk.ecard.signin import EcardSignIn
from kiosk.flows.base import NextStep, ResultLine, StepPicture
from kiosk.flows.common import FlowContext, FlowOutcome, service_flow
from kiosk.identity import VisitIdentity
from kiosk.messages import ecard as E
from kiosk.messages import flows as M

SERVICE = "ecard_signin"
SCAN_TIMEOUT_S = 45.0
TRUST_NAMESPACE = ("ecard", "platform_keys")       # pinned in the store while online: {iss: hex key}


class _TokenCancel:
    """kiosk/ecard/scan.py stops when this says so: the visit ended (card pulled, idle, cancel)."""

    def __init__(self, ctx: FlowContext) -> None:
        self._ctx = ctx

    def is_set(self) -> bool:
        return self._ctx.token.canceled


class _Identified:
    """Collects the identity on the flow thread; the UI thread gives it to the session core."""

    def __init__(self) -> None:
        self.identity: VisitIdentity | None = None

    def identify(self, identity: VisitIdentity) -> str | None:
        self.identity = identity
        return None


def trusted_platforms(ctx: FlowContext) -> dict[str, bytes]:
    """The platform keys this kiosk trusts: fetched while online and pinned in the store, so a
    platform that later answers with another key is not believed by this kiosk."""
    store = ctx.deps.store
    pinned: dict[str, str] = dict(store.get_state(*TRUST_NAMESPACE) or {}) if store is not None else {}
    if not pinned and ctx.deps.client is not None:
        answer: Any = ctx.deps.client.ecard_platform_key()
        if isinstance(answer, EcardPlatformKey):
            pinned = {answer.iss: answer.public_key.hex()}
            store.commit_result("ecard_platform_pinned", {"iss": answer.iss},
                                state={TRUST_NAMESPACE: pinned})
    return {iss: bytes.fromhex(key) for iss, key in pinned.items()}


def _read_code(reader: Any) -> Any:
    def read(image: Any) -> str | None:
        found = reader.read(image)
        return found.text if found is not None else None
    return read


@service_flow(SERVICE, 1)
def ecard_signin(ctx: FlowContext) -> FlowOutcome:
    from drivers.codescan.frames import FrameCodeReader

    ctx.require("camera", "client", "store")
    ctx.step("ecard_scan", 1, E.SCAN_TITLE, E.SCAN_INSTRUCTION, picture=StepPicture.PHONE)
    trusted = trusted_platforms(ctx)
    if not trusted:
        ctx.fail("no_platform_key", ctx.guidance(E.NO_TRUST, M.BACKEND_DOWN_TODO, (NextStep.COUNTER, NextStep.HOME)))
    collected = _Identified()
    signin = EcardSignIn(trusted, ctx.deps.client, ctx.deps.store)
    scan = sign_in_by_ecard(ctx.deps.camera, _read_code(FrameCodeReader()), signin, collected,
                            timeout_s=SCAN_TIMEOUT_S, cancel=_TokenCancel(ctx))       # type: ignore[arg-type]
    ctx.token.check()
    no_record = lambda: ""      # noqa: E731  (EcardSignIn wrote the attempt's record already)
    if scan.timed_out:
        ctx.fail("no_code", ctx.guidance(E.NO_CODE, E.NO_CODE_TODO, (NextStep.RETRY, NextStep.HOME)),
                 record=no_record)
    result = scan.result
    assert result is not None
    if not result.ok:
        if result.refusal is not None:
            actions = (NextStep.RETRY, NextStep.HOME) if result.refusal is not CodeRefusal.NOT_YET_VALID \
                else (NextStep.COUNTER, NextStep.HOME)
            ctx.fail(result.refusal.value, ctx.guidance(E.REFUSAL[result.refusal], E.REFUSED_TODO, actions),
                     record=no_record)
        if result.unavailable:
            ctx.fail("backend_unavailable", ctx.guidance(M.BACKEND_DOWN, M.BACKEND_DOWN_TODO,
                                                         (NextStep.COUNTER, NextStep.HOME)), record=no_record)
        ctx.fail("unknown_person", ctx.guidance(E.UNKNOWN_PERSON, M.GO_TO_COUNTER_WITH_ID,
                                                (NextStep.COUNTER, NextStep.HOME)), record=no_record)
    ctx.id_number = result.id_number
    outcome = ctx.done(E.SIGNED_IN_TITLE, E.SIGNED_IN_MESSAGE, [ResultLine(M.LABEL_NAME, result.name_masked)])
    return dataclasses.replace(outcome, identity=collected.identity)
