"""The steps every service shares: the card, PIN entry, the new PIN twice, consent, face, SMS, records.

A :class:`FlowContext` wraps one run of one service: the presenter, the cancel token, the
failure counter per identity step, the card being used and the records written. Flows are
linear functions over it; a service ends either by returning a :class:`FlowOutcome` (success or
an informational result) or by :meth:`FlowContext.fail`, which FIRST commits the failure record
and THEN shows the guidance, so what the citizen saw and the record always agree even if the card
is pulled while the error is on screen. The visit ending (card pulled, idle, cancel) surfaces as
:class:`FlowCanceled` at the next wait and writes nothing.
"""

from __future__ import annotations

import hmac
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from drivers.api import CommandHandle, Completion, CompletionCode
from drivers.smartcard.api import (
    CardInfo,
    CardInserted,
    CardOutcome,
    CardRemoved,
    NewPinCheck,
    PinBlockInput,
    PinRefused,
    card_outcome,
)
from kiosk.flows.base import (
    CancelToken,
    Choice,
    FailureCounter,
    FlowCanceled,
    Guidance,
    NextStep,
    Presenter,
    ResultLine,
    StepPicture,
    await_command,
)
from kiosk.flows.deps import FlowDeps, face_policy
from kiosk.messages import card as card_messages
from kiosk.messages import face as face_messages
from kiosk.messages import flows as M
from kiosk.messages.pinpad import message_for as pad_message_for
from kiosk.pin_policy import RULE_MESSAGES, PhoneSuffixCheck, PinPolicy, WeakPinError, WeakPinRule

log = logging.getLogger(__name__)

CARD_REMOVED_REASON = "card_removed"
CONSENT_TEXT_ID = "face-consent-v1"      # names the consent text version written on records


@dataclass(frozen=True)
class FlowOutcome:
    """How a service ended (for the UI host, tests and logs; never personal data)."""

    service: str
    ok: bool
    code: str                                   # "done", "already_certified", or the failure reason
    record_ids: tuple[str, ...] = ()            # every record this run committed, in order
    next_step: NextStep | None = None           # the action the citizen chose on the final error
    identity: Any = field(default=None, repr=False)   # kiosk.identity.VisitIdentity a sign-in established


class FlowStop(Exception):
    """Unwinds a flow after its final screen; carries the outcome."""

    def __init__(self, outcome: FlowOutcome) -> None:
        super().__init__(outcome.code)
        self.outcome = outcome


@dataclass
class SmsSent:
    """One SMS code sent: ``key`` is what the check needs (request id or verification id)."""

    key: str
    phone_masked: str
    resend_after_s: int
    expires_in_s: int
    sent_at: float = field(default_factory=time.monotonic)

    def resend_wait_s(self) -> float:
        return max(0.0, self.sent_at + self.resend_after_s - time.monotonic())


@dataclass(frozen=True)
class SmsCheck:
    """The answer to one code: ``reason`` "ok" (``value`` is the flow's payload), "wrong_code",
    "expired", "too_many_attempts", "already_used", "unknown_request" or "unavailable"."""

    reason: str
    attempts_left: int = 0
    value: Any = None


def policy_check(policy: PinPolicy) -> Callable[[bytearray, bytearray | None], None]:
    """The weak-PIN policy as the card driver's ``new_pin_check`` (runs inside the audited PIN
    function, the only place a pad-entered PIN exists in clear)."""

    def check(new: bytearray, old: bytearray | None) -> None:
        try:
            policy.check(new, old)
        except WeakPinError as exc:
            raise PinRefused(exc.rule.value) from None

    return check


def weak_rule_message(refused_rule: str | None) -> str:
    try:
        return RULE_MESSAGES[WeakPinRule(refused_rule or "")]
    except ValueError:
        return card_messages.OUTCOME[CardOutcome.WEAK_PIN]


class FlowContext:
    def __init__(self, service: str, deps: FlowDeps, presenter: Presenter, token: CancelToken,
                 total_steps: int) -> None:
        self.service = service
        self.deps = deps
        self.config = deps.config
        self.presenter = presenter
        self.token = token
        self.total = total_steps
        self.failures = FailureCounter(deps.config.policy.max_step_failures)
        self.card_info: CardInfo | None = None
        self.id_number: str | None = None
        self.current_step = ""
        self.current_index = 1
        self.record_ids: list[str] = []
        self.operator_id: str | None = deps.operator_id
        self._unsubscribe: list[Callable[[], Any]] = []

    # -- waiting ----------------------------------------------------------------------------------
    def await_(self, handle: CommandHandle[Any]) -> Completion[Any]:
        """await_command, plus: a command that ended because the visit ended (cancelled by the token
        while it ran) is never taken for the device's answer."""
        completion = await_command(self.token, handle)
        self.token.check()
        return completion

    def await_bound(self, handle: CommandHandle[Any], bind: Callable[[CommandHandle[Any]], None]) -> Completion[Any]:
        """Show a started command on screen (``bind``), then wait for it. A visit that ends between
        the start and the wait (the screen refuses the bind) still cancels the command: a PIN entry
        left running would keep the pad waiting for keys, and the next visit's entry behind it."""
        try:
            bind(handle)
        except BaseException:
            handle.cancel()
            raise
        return self.await_(handle)

    # -- screens ----------------------------------------------------------------------------------
    @property
    def hotline(self) -> str:
        return self.config.policy.hotline

    def step(self, key: str, index: int, title: str, instruction: str, *, picture: StepPicture | None = None,
             **fmt: Any) -> None:
        self.token.check()
        self.current_step, self.current_index = key, index
        self.presenter.step(key, index, self.total, title, instruction, picture=picture, **fmt)
        self.token.check()

    def ask(self, key: str, question: str, options: Sequence[Choice], **fmt: Any) -> str:
        self.token.check()
        answer = self.presenter.ask(key, question, options, **fmt)
        self.token.check()
        return answer

    def show_error(self, guidance: Guidance) -> NextStep:
        self.token.check()
        if "hotline" not in guidance.format_args:
            guidance = Guidance(guidance.what_happened, guidance.what_to_do, guidance.actions,
                                {"hotline": self.hotline, **guidance.format_args})
        choice = self.presenter.show_error(guidance)
        self.token.check()
        return choice

    def guidance(self, what: str, todo: str, actions: Sequence[NextStep], **fmt: Any) -> Guidance:
        return Guidance(what, todo, tuple(actions), {"hotline": self.hotline, **fmt})

    def done(self, title: str, message: str, lines: Sequence[ResultLine] = (), *, ok: bool = True,
             code: str = "done", **fmt: Any) -> FlowOutcome:
        """Show the result (the records are already committed) and end the service."""
        self.token.check()
        self.presenter.show_result(self.service, ok, title, message, lines, **fmt)
        return FlowOutcome(self.service, ok, code, tuple(self.record_ids))

    # -- records ----------------------------------------------------------------------------------
    def commit(self, type: str, payload: dict[str, Any], *, state: dict[tuple[str, str], Any] | None = None,
               sealed: dict[str, bytes] | None = None) -> str:
        if self.deps.store is None:
            # Only when the store did not start (the service then ends at once, see require()).
            log.error("no store: record not written", extra={"service": self.service, "type": type})
            return ""
        ref = self.deps.store.commit_result(type, payload, operator_id=self.operator_id, state=state,
                                            sealed=sealed)
        self.record_ids.append(ref.id)
        log.info("record committed", extra={"service": self.service, "type": type, "record": ref.id})
        return ref.id

    def failure_payload(self, step: str, reason: str, shown: str, **extra: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {"service": self.service, "step": step, "reason": reason, "shown": shown}
        if self.id_number:
            payload["id_number"] = self.id_number
        payload.update(extra)
        return payload

    def fail(self, reason: str, guidance: Guidance, *, step: str | None = None, show: bool = True,
             record: Callable[[], str] | None = None, **extra: Any) -> NoReturn:
        """End the service in failure: commit the record first, then show what to do next."""
        step = step or self.current_step
        if record is not None:
            record()
        else:
            self.commit("attempt_failed", self.failure_payload(step, reason, guidance.what_happened, **extra))
        choice = self.show_error(guidance) if show else None
        raise FlowStop(FlowOutcome(self.service, False, reason, tuple(self.record_ids), choice))

    def offer_retry(self, reason: str, guidance: Guidance, *, step: str | None = None, **extra: Any) -> None:
        """A failure the citizen may try again: commit its record first, then show ``guidance`` (its
        actions hold Try again). Returns when Try again is chosen; any other choice ends the service
        in failure with ``reason``."""
        step = step or self.current_step
        self.commit("attempt_failed", self.failure_payload(step, reason, guidance.what_happened, **extra))
        choice = self.show_error(guidance)
        if choice is not NextStep.RETRY:
            raise FlowStop(FlowOutcome(self.service, False, reason, tuple(self.record_ids), choice))

    def counter_guidance(self, what: str) -> Guidance:
        return self.guidance(what, M.GO_TO_COUNTER_WITH_ID, (NextStep.COUNTER, NextStep.CALL_HOTLINE, NextStep.HOME))

    def fail_backend_down(self) -> NoReturn:
        self.fail("backend_unavailable", self.guidance(M.BACKEND_DOWN, M.BACKEND_DOWN_TODO,
                                                       (NextStep.COUNTER, NextStep.HOME)))

    # -- the card ---------------------------------------------------------------------------------
    def require(self, *parts: str) -> None:
        """Fail at once, before any step, when a part this service needs did not start."""
        missing = [p for p in parts if getattr(self.deps, p) is None]
        if missing:
            log.error("service needs a part that did not start", extra={"service": self.service, "missing": missing})
            self.fail("kiosk_part_missing", self.guidance(M.SERVICE_NOT_AVAILABLE, M.USE_ANOTHER_KIOSK,
                                                          (NextStep.COUNTER, NextStep.HOME)),
                      step="start", missing=",".join(missing))

    def read_card(self, index: int) -> CardInfo:
        """Read the inserted card (waiting for one if needed); from now on pulling it ends the flow."""
        inserted = threading.Event()
        unsubscribe = self.deps.card.subscribe(
            lambda event: inserted.set() if isinstance(event, CardInserted) else None)
        wait_s = float(self.config.ui.idle_timeout_s + self.config.ui.countdown_s)
        deadline = time.monotonic() + wait_s
        asked_to_insert = False
        self.step("read_card", index, M.READ_CARD_TITLE, M.READ_CARD_INSTRUCTION)
        try:
            while True:
                inserted.clear()
                completion = self.await_(self.deps.card.read_card())
                outcome = card_outcome(completion)
                if completion.ok and completion.result is not None:
                    break
                if outcome in (CardOutcome.NO_CARD, CardOutcome.CARD_REMOVED):
                    if not asked_to_insert:
                        self.step("insert_card", index, M.INSERT_CARD_TITLE, M.INSERT_CARD_INSTRUCTION)
                        asked_to_insert = True
                    if time.monotonic() > deadline:
                        self.fail("no_card", self.guidance(card_messages.OUTCOME[CardOutcome.NO_CARD],
                                                           M.START_AGAIN, (NextStep.HOME,)))
                    end = min(deadline, time.monotonic() + 1.0)
                    while not inserted.is_set() and time.monotonic() < end:
                        self.token.wait(0.1)
                    continue
                self.fail_card(completion, "read_card")
        finally:
            unsubscribe()
        info = completion.result
        self.card_info, self.id_number = info, info.holder.ssn
        self.begin_visit("sscard", info.holder.ssn, info.holder.name)
        from kiosk.flows.card_loss import lost_card_check

        lost_card_check(self, info.holder.ssn)      # a card reported lost is refused, with what to do
        self._watch_card()
        from kiosk.flows.reconcile import reconcile_on_read

        reconcile_on_read(self)          # a PIN write on this card whose answer was lost: settle it first
        return info

    def begin_visit(self, evidence: str, id_number: str, name: str | None = None) -> None:
        """The person signed in: the backend answers person data only for them (backend/visits.py)."""
        if self.deps.client is not None:
            self.deps.client.begin_visit(id_number, evidence, name)

    def _watch_card(self) -> None:
        def on_event(event: Any) -> None:
            if isinstance(event, CardRemoved):
                self.token.cancel(CARD_REMOVED_REASON)

        self._unsubscribe.append(self.deps.card.subscribe(on_event))

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            try:
                unsubscribe()
            except Exception:
                log.exception("unsubscribe failed")
        self._unsubscribe.clear()

    def card_command(self, handle: CommandHandle[Any]) -> Completion[Any]:
        """A card command that reads or checks (nothing written): a pulled card ends the flow."""
        completion = self.await_(handle)
        self._check_removed(completion)
        return completion

    def card_write(self, handle: CommandHandle[Any]) -> Completion[Any]:
        """A command that writes to the card: wait for its real end even if the visit ends meanwhile,
        so the caller can record what the card did before stopping (the card and the record agree)."""
        self.token.track(handle)
        try:
            while True:
                try:
                    completion = handle.wait(0.05)
                    break
                except TimeoutError:
                    continue
        finally:
            self.token.untrack(handle)
        return completion

    def _check_removed(self, completion: Completion[Any]) -> None:
        if card_outcome(completion) in (CardOutcome.CARD_REMOVED, CardOutcome.NO_CARD):
            self.token.cancel(CARD_REMOVED_REASON)
            raise FlowCanceled(CARD_REMOVED_REASON)

    def check_removed_after_write(self, completion: Completion[Any]) -> None:
        self._check_removed(completion)

    def card_guidance(self, completion: Completion[Any]) -> Guidance:
        if completion.code is CompletionCode.TIMEOUT:
            what = card_messages.TIMED_OUT
        else:
            what = card_messages.OUTCOME.get(card_outcome(completion), card_messages.OUTCOME[CardOutcome.UNKNOWN_STATUS])
        return self.guidance(what, M.CARD_PROBLEM_TODO, (NextStep.ANOTHER_CARD, NextStep.COUNTER, NextStep.HOME))

    def fail_card(self, completion: Completion[Any], step: str) -> NoReturn:
        outcome = card_outcome(completion)
        reason = "card_timeout" if completion.code is CompletionCode.TIMEOUT else f"card_{outcome.value}"
        self.fail(reason, self.card_guidance(completion), step=step)

    @property
    def card_number(self) -> str:
        assert self.card_info is not None
        return self.card_info.issuer.card_number

    # -- the PIN pad ------------------------------------------------------------------------------
    def _pad_error(self, completion: Completion[Any], step: str) -> None:
        """Show a pad problem; return to retry, or end the service."""
        message = pad_message_for(completion)
        assert message is not None
        actions = (NextStep.RETRY, NextStep.HOME) if message.retry else (NextStep.COUNTER, NextStep.HOME)
        choice = self.show_error(self.guidance(message.what, message.todo, actions))
        if choice is NextStep.RETRY and message.retry:
            return
        reason = f"pad_{completion.error_code or completion.code.value}"
        self.commit("attempt_failed", self.failure_payload(step, reason, message.what))
        raise FlowStop(FlowOutcome(self.service, False, reason, tuple(self.record_ids), choice))

    def enter_pin(self, key: str, index: int, title: str, instruction: str, *,
                  tries_left: int | None = None, pan: str | None = None, key_name: str = "pin",
                  pin_title: str | None = None, **fmt: Any) -> bytes:
        """One PIN on the pad; returns the encrypted block (ISO 9564 format 0, PAN = card number, or
        ``pan`` under the pad's working key ``key_name``: the e-card PIN service's own, which names
        its PIN over the dots with ``pin_title``)."""
        while True:
            self.step(key, index, title, instruction, **fmt)
            handle = self.deps.pinpad.start_pin_entry(pan=pan or self.card_number, min_len=6, max_len=6,
                                                      timeout_s=self.config.pinpad.pin_timeout_s, key_name=key_name)
            completion = self.await_bound(handle, lambda h: self.presenter.bind_pin_entry(h, tries_left,
                                                                                        pin_title=pin_title))
            if completion.ok and completion.result is not None:
                return completion.result.block
            self._pad_error(completion, key)

    def enter_plain(self, kind: str, index: int, title: str, instruction: str, *, min_len: int, max_len: int,
                    allow_cancel: bool = False, **fmt: Any) -> bytearray | None:
        """Digits typed on the pad (phone, SMS code, bank card, ID number) as a bytearray the caller
        zeroes; None when ``allow_cancel`` and the citizen pressed Cancel on the pad."""
        while True:
            self.step(kind, index, title, instruction, **fmt)
            handle = self.deps.pinpad.start_plain_entry(max_len, timeout_s=self.config.pinpad.pin_timeout_s,
                                                        min_len=min_len)
            completion = self.await_bound(handle, lambda h: self.presenter.bind_plain_entry(h, kind))
            if completion.ok and completion.result is not None:
                return bytearray(completion.result.encode("ascii"))
            if allow_cancel and completion.code is CompletionCode.CANCELED:
                return None
            self._pad_error(completion, kind)

    def new_pin_twice(self, index: int, check: NewPinCheck | None = None, old_block: bytes | None = None) -> bytes:
        """The new PIN twice. ISO 9564 format 0 is deterministic (same PIN, key and PAN give the same
        block), so equal blocks mean equal PINs; the digits never leave the pad to compare them.
        A weak first entry is refused before the second is asked (``check``, run by the card
        driver's audited PIN function on the decrypted block; ``old_block`` for "same as old")."""
        if self.config.pinpad.pin_block_format != "iso0":
            # Format 4 blocks are randomised: two entries of one PIN differ, no comparison possible here.
            log.error("new PIN confirmation needs pin_block_format iso0", extra={"service": self.service})
            self.fail("pin_block_format", self.guidance(M.SERVICE_NOT_AVAILABLE, M.USE_ANOTHER_KIOSK,
                                                        (NextStep.COUNTER, NextStep.HOME)))
        while True:
            first = self.enter_pin("new_pin", index, M.NEW_PIN_TITLE, M.NEW_PIN_INSTRUCTION)
            if not self._strong_enough(first, check, old_block):
                continue
            second = self.enter_pin("new_pin_again", index + 1, M.NEW_PIN_AGAIN_TITLE, M.NEW_PIN_AGAIN_INSTRUCTION)
            if len(first) == len(second) and hmac.compare_digest(first, second):
                return first
            choice = self.show_error(self.guidance(RULE_MESSAGES[WeakPinRule.MISMATCH], M.CHOOSE_NEW_PIN_AGAIN,
                                                   (NextStep.RETRY, NextStep.HOME)))
            if choice is not NextStep.RETRY:
                self.fail("pin_mismatch", self.guidance(RULE_MESSAGES[WeakPinRule.MISMATCH], M.START_AGAIN,
                                                        (NextStep.HOME,)), step="new_pin_again", show=False)

    def _strong_enough(self, block: bytes, check: NewPinCheck | None, old_block: bytes | None) -> bool:
        """Ask the card driver whether the card command would take this new PIN (check only, the
        card is not written). False when refused and the citizen chose to try another; a refusal
        they do not retry, or a card problem, ends the flow."""
        old = PinBlockInput(old_block) if old_block is not None else None
        completion = self.card_command(self.deps.card.check_new_pin(PinBlockInput(block), old, new_pin_check=check))
        result = completion.result
        if completion.ok and result is not None and result.ok:
            return True
        if completion.ok and self.new_pin_refused(result):
            return False
        self.fail_card(completion, "new_pin")

    def weak_pin_retry(self, refused_rule: str | None) -> None:
        """The card refused the new PIN by policy (nothing written): say which rule; retry or end."""
        what = weak_rule_message(refused_rule)
        choice = self.show_error(self.guidance(what, M.CHOOSE_NEW_PIN_AGAIN, (NextStep.RETRY, NextStep.HOME)))
        if choice is not NextStep.RETRY:
            self.fail("weak_pin", self.guidance(what, M.START_AGAIN, (NextStep.HOME,)), step="new_pin", show=False,
                      rule=refused_rule or "")

    def new_pin_refused(self, result: Any) -> bool:
        """True when the card refused the new PIN by policy (nothing written) and the citizen chose
        to try another; ends the flow when they did not. False for any other result."""
        if result is None:
            return False
        if result.outcome is CardOutcome.WEAK_PIN:
            self.weak_pin_retry(result.refused_rule)
            return True
        if result.outcome is CardOutcome.CANNOT_REVERT_TO_INITIAL:
            self.weak_pin_retry("initial_pin")
            return True
        return False

    def pin_policy(self, bound_phone: str | None = None, phone_check: PhoneSuffixCheck | None = None) -> PinPolicy:
        return PinPolicy(self.config.policy.initial_pin, self.id_number, bound_phone, phone_check)

    def phone_suffix_check(self, summary: Any = None) -> PhoneSuffixCheck | None:
        """The bound phone's suffix verifier from the person summary (``summary``, or asked now).
        Without the backend the PIN change still goes on, only without that one rule: logged."""
        from kiosk.backend_client import PersonSummary

        if summary is None and self.deps.client is not None and self.id_number is not None:
            summary = self.deps.client.person_summary(self.id_number)
            self.token.check()
        data = summary.data if isinstance(summary, PersonSummary) else None
        check = PhoneSuffixCheck.from_summary(data)
        if check is None and not (data is not None and not data.get("has_phone")):
            log.warning("phone-suffix rule not applied: no verifier from the backend",
                        extra={"service": self.service, "answer": type(summary).__name__})
        return check

    # -- consent and face -------------------------------------------------------------------------
    def consent(self, index: int) -> Any:
        from drivers.camera.api import CameraConsent

        self.step("consent", index, M.CONSENT_TITLE, M.CONSENT_INSTRUCTION)
        answer = self.ask("consent", face_messages.CONSENT,
                          [Choice("accept", M.AGREE), Choice("decline", M.DISAGREE, note=M.DISAGREE_NOTE)])
        if answer != "accept":
            self.fail("consent_declined", self.counter_guidance(M.CONSENT_DECLINED))
        return CameraConsent(CONSENT_TEXT_ID, accepted=True)

    def reference_template(self, id_number: str) -> Any:
        from kiosk.flows.templates import NoTemplate, TemplateUnavailable

        templates = self.deps.templates
        if templates is None:
            self.fail_backend_down()
        answer = templates.template_for(id_number)
        if isinstance(answer, TemplateUnavailable):
            log.warning("template source unavailable", extra={"service": self.service, "detail": answer.detail})
            self.fail_backend_down()
        if isinstance(answer, NoTemplate):
            self.fail(f"template_{answer.reason}", self.counter_guidance(M.NO_TEMPLATE))
        return answer

    def face_check(self, index: int, reference: Any, consent: Any,
                   on_final_failure: Callable[[Any, str], str] | None = None) -> Any:
        """Liveness + 1:1 match, retried up to the policy's limits; returns the accepted FaceDecision.
        On final failure ``on_final_failure(decision, reason)`` commits the record (default: attempt_failed)."""
        from models.policy import FaceOutcome

        policy = face_policy(self.deps)
        attempts = policy.new_attempts()
        try:
            while True:
                self.step("face", index, M.FACE_TITLE, M.FACE_INSTRUCTION)
                self.deps.camera.start(consent)
                try:
                    handle = self.deps.face.verify(reference, policy, consent=consent, attempts=attempts)
                    completion = self.await_bound(handle, self.presenter.bind_face)
                finally:
                    self.deps.camera.stop()
                decision = completion.result
                if decision is None:
                    self._face_final(None, "face_unavailable", face_messages.OUTCOME[FaceOutcome.CAMERA_UNAVAILABLE],
                                     on_final_failure)
                if decision.accepted:
                    return decision
                what = face_messages.outcome_msgid(decision)   # BAD_REFERENCE names its cause
                at_limit = self.failures.fail("face")
                if at_limit or decision.go_to_counter or decision.outcome in (
                        FaceOutcome.BAD_REFERENCE, FaceOutcome.CAMERA_UNAVAILABLE, FaceOutcome.GO_TO_COUNTER):
                    final = what if decision.outcome in (FaceOutcome.BAD_REFERENCE, FaceOutcome.CAMERA_UNAVAILABLE) \
                        else face_messages.OUTCOME[FaceOutcome.GO_TO_COUNTER]
                    self._face_final(decision, f"face_{decision.outcome.value}", final, on_final_failure)
                choice = self.show_error(self.guidance(what, M.FACE_RETRY_TODO, (NextStep.RETRY, NextStep.HOME),
                                                       left=self.failures.left("face")))
                if choice is not NextStep.RETRY:
                    self._face_final(decision, f"face_{decision.outcome.value}", what, on_final_failure, show=False)
        finally:
            reference.wipe()

    def _face_final(self, decision: Any, reason: str, what: str,
                    on_final_failure: Callable[[Any, str], str] | None, show: bool = True) -> NoReturn:
        guidance = self.counter_guidance(what)
        record = (lambda: on_final_failure(decision, reason)) if on_final_failure is not None else None
        self.fail(reason, guidance, step="face", show=show, record=record, **face_fields(decision))

    # -- SMS --------------------------------------------------------------------------------------
    def send_sms(self, send: Callable[[], Any]) -> SmsSent:
        """Ask the backend for a code (``send`` returns SmsSent or a backend_client failure)."""
        from kiosk.backend_client import NotFound, Rejected, ServiceUnavailable

        while True:
            answer = send()
            if isinstance(answer, SmsSent):
                return answer
            if isinstance(answer, ServiceUnavailable):
                self.fail_backend_down()
            if isinstance(answer, Rejected) and answer.status == 429 and answer.error == "resend_too_soon":
                wait = min(float(answer.retry_after_s or 5.0), 90.0)
                # Still the same step of the service: the wait is shown in its place.
                self.step("sms_wait", self.current_index, M.SMS_WAIT_TITLE, M.SMS_WAIT_INSTRUCTION,
                          seconds=math.ceil(wait))
                self.token.wait(wait)
                continue
            if isinstance(answer, Rejected) and answer.status == 429:
                self.fail("sms_rate_limited", self.guidance(M.SMS_TOO_MANY, M.SMS_TOO_MANY_TODO,
                                                            (NextStep.COUNTER, NextStep.HOME)))
            if isinstance(answer, Rejected) and answer.error == "no_bound_phone":
                self.fail("no_bound_phone", self.counter_guidance(M.NO_BOUND_PHONE))
            if isinstance(answer, NotFound):
                self.fail(answer.error or "unknown_person", self.counter_guidance(M.UNKNOWN_PERSON))
            self.fail("sms_refused", self.counter_guidance(M.SMS_REFUSED))

    def sms_code(self, index: int, send: Callable[[], Any], check: Callable[[str, bytearray], SmsCheck],
                 first: SmsSent | None = None) -> Any:
        """The SMS one-time code: typed on the pad, wrong codes counted, expiry and resend handled.
        Returns the successful check's value."""
        sent = first or self.send_sms(send)
        while True:
            code = self.enter_plain("sms_code", index, M.SMS_TITLE, M.SMS_INSTRUCTION, min_len=6, max_len=6,
                                    allow_cancel=True, phone=sent.phone_masked,
                                    minutes=max(1, sent.expires_in_s // 60),
                                    resend_s=math.ceil(max(0.0, sent.resend_wait_s())))   # the resend button
            if code is None:
                wait = sent.resend_wait_s()
                choice = self.ask("sms_options", M.SMS_OPTIONS, [
                    Choice("enter", M.SMS_ENTER_AGAIN),
                    Choice("resend", M.SMS_RESEND, enabled=wait <= 0, note=M.SMS_RESEND_WAIT if wait > 0 else ""),
                    Choice("leave", M.LEAVE_SERVICE)], seconds=math.ceil(wait))
                if choice == "resend" and sent.resend_wait_s() <= 0:
                    sent = self.send_sms(send)
                elif choice == "leave":
                    self.fail("sms_left", self.guidance(M.SMS_NOT_ENTERED, M.START_AGAIN, (NextStep.HOME,)),
                              step="sms_code", show=False)
                continue
            try:
                result = check(sent.key, code)
            finally:
                code[:] = bytes(len(code))
            if result.reason == "ok":
                return result.value
            if result.reason == "unavailable":
                self.fail_backend_down()
            if result.reason == "wrong_code":
                self.commit("attempt_failed", self.failure_payload("sms_code", "sms_wrong_code", M.SMS_WRONG))
                if self.failures.fail("sms") or result.attempts_left <= 0:
                    self.fail("sms_failed", self.counter_guidance(M.SMS_TOO_MANY_WRONG), step="sms_code")
                choice = self.show_error(self.guidance(M.SMS_WRONG, M.SMS_WRONG_TODO, (NextStep.RETRY, NextStep.HOME),
                                                       left=self.failures.left("sms")))
                if choice is not NextStep.RETRY:
                    raise FlowStop(FlowOutcome(self.service, False, "sms_wrong_code", tuple(self.record_ids), choice))
                continue
            if result.reason == "expired":
                choice = self.show_error(self.guidance(M.SMS_EXPIRED, M.SMS_EXPIRED_TODO, (NextStep.RETRY, NextStep.HOME)))
                if choice is not NextStep.RETRY:
                    self.fail("sms_expired", self.guidance(M.SMS_EXPIRED, M.START_AGAIN, (NextStep.HOME,)),
                              step="sms_code", show=False)
                # The backend decides the cooldown: "resend_too_soon" makes send_sms wait and ask again.
                sent = self.send_sms(send)
                continue
            # too_many_attempts, already_used, unknown_request: this code cannot be used any more.
            self.fail(f"sms_{result.reason}", self.counter_guidance(M.SMS_TOO_MANY_WRONG), step="sms_code")


def face_fields(decision: Any) -> dict[str, Any]:
    """What a record keeps of a face decision: the outcome, the attempt and the rounded scores."""
    if decision is None:
        return {"face_outcome": "unavailable"}
    fields: dict[str, Any] = {"face_outcome": decision.outcome.value, "face_attempt": decision.attempt}
    if decision.match_score is not None:
        fields["match_score"] = round(float(decision.match_score), 4)
    if decision.liveness_score is not None:
        fields["liveness_score"] = round(float(decision.liveness_score), 4)
    if decision.last_quality is not None and not decision.accepted:
        fields["last_quality"] = decision.last_quality.value
    if getattr(decision, "elapsed_s", 0.0):
        fields["decision_s"] = round(float(decision.elapsed_s), 2)   # the console's decision-time figure
    return fields


def sms_from_backend(answer: Any) -> Any:
    """kiosk.backend_client's SmsRequested -> SmsSent (other answers pass through)."""
    from kiosk.backend_client import SmsRequested

    if isinstance(answer, SmsRequested):
        return SmsSent(answer.request_id, answer.phone_masked, answer.resend_after_s, answer.expires_in_s)
    return answer


def sms_check_from_backend(answer: Any) -> SmsCheck:
    from kiosk.backend_client import SmsVerification

    if isinstance(answer, SmsVerification):
        return SmsCheck("ok" if answer.ok else (answer.reason or "wrong_code"), answer.attempts_left, True)
    return SmsCheck("unavailable")


ServiceBody = Callable[..., FlowOutcome]


def service_flow(service: str, total_steps: int) -> Callable[[ServiceBody], Callable[..., FlowOutcome]]:
    """Make ``body(ctx, **kw)`` a registry function ``(deps, presenter, token, **kw) -> FlowOutcome``:
    a FlowStop becomes its outcome, FlowCanceled (the visit ended) propagates to the FlowRunner, and
    an unexpected error is logged, recorded and shown as "go to the counter" instead of a frozen screen."""

    def wrap(body: ServiceBody) -> Callable[..., FlowOutcome]:
        def run(deps: FlowDeps, presenter: Presenter, token: CancelToken, **kw: Any) -> FlowOutcome:
            ctx = FlowContext(service, deps, presenter, token, total_steps)
            try:
                return body(ctx, **kw)
            except FlowStop as stop:
                return stop.outcome
            except FlowCanceled:
                raise
            except Exception as exc:
                log.exception("service flow failed", extra={"service": service, "step": ctx.current_step})
                return _internal_error(ctx, exc)
            finally:
                ctx.close()

        run.__name__ = run.__qualname__ = body.__name__.lstrip("_")
        run.__doc__ = body.__doc__
        return run

    return wrap


def _internal_error(ctx: FlowContext, exc: Exception) -> FlowOutcome:
    guidance = ctx.guidance(M.SOMETHING_WENT_WRONG, M.GO_TO_COUNTER_WITH_ID, (NextStep.COUNTER, NextStep.HOME))
    try:
        if ctx.deps.store is not None:
            ctx.commit("attempt_failed", ctx.failure_payload(ctx.current_step, "internal_error",
                                                             guidance.what_happened, error=type(exc).__name__))
        choice = ctx.show_error(guidance)
    except FlowCanceled:
        raise
    except Exception:
        log.exception("could not report the failure", extra={"service": ctx.service})
        choice = None
    return FlowOutcome(ctx.service, False, "internal_error", tuple(ctx.record_ids), choice)
