"""Certification in the field: find the person, check the face against the roster, record it.

One :meth:`FieldCertifier.certify` call is one face attempt. The record is written (and the person
marked done on the roster, in the SAME store transaction) when the face is accepted, or when the
attempts of the visit are used up (a ``failed`` certification, so the bureau sees the visit).
A person who is not on the roster can only be certified online: the enrolled template comes from
the backend then, and offline the certifier refuses with a clear reason.

Assisted cases (bedridden, cognitive decline: the person cannot do the head movements) follow
``field.assisted_policy``: ``passive_attested`` = passive liveness + 1:1 match, the operator's
attestation with a reason, a sealed capture for the bureau's reviewers, and the result
``pending_review`` (the backend records it and changes nothing until staff decide). ``off``
refuses them. Never silent: the reason and the operator are in the signed record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from kiosk.field.battery import BatteryStatus
from kiosk.field.operators import OperatorGate, OperatorSession, SignInError
from kiosk.field.vault import Roster, RosterEntry, RosterError, RosterVault
from kiosk.i18n import N_
from kiosk.outbox import RecordRef
from kiosk.privacy import mask_id_number, mask_name
from kiosk.store import ReviewKeyMissingError, Store

log = logging.getLogger(__name__)

CONSENT_TEXT_ID = "field-face-consent-v1"
ASSISTED_REASONS = {
    "bedridden": N_("Bedridden: cannot sit up or turn the head"),
    "cognitive_decline": N_("Cognitive decline: cannot follow the instructions"),
    "physical_disability": N_("Physical disability: cannot move the head as asked"),
}
SKIP_REASONS = {
    "not_home": N_("Not at home"),
    "refused": N_("Refused the certification"),
    "hospital": N_("In hospital"),
    "moved": N_("Moved away"),
    "deceased_reported": N_("Reported deceased by the family"),
}


class FieldError(Exception):
    """A certification cannot start or be recorded; ``code`` is stable, ``message`` is a msgid
    telling the operator what to do next."""

    def __init__(self, code: str, message: str, **format_args: Any) -> None:
        super().__init__(message.format(**format_args) if format_args else message)
        self.code = code
        self.message = message
        self.format_args = format_args


@dataclass(frozen=True)
class Person:
    """Who is being certified. ``id_number`` stays in memory; screens show the masked forms."""

    id_number: str = field(repr=False)
    id_masked: str
    name_masked: str
    on_roster: bool
    due_date: str = ""
    district: str = ""


@dataclass(frozen=True)
class AssistedCase:
    reason: str                       # a key of ASSISTED_REASONS
    attested: bool                    # the operator confirms seeing the person, who cannot do the moves
    note: str = ""                    # free text by the operator (no personal data, please)


@dataclass(frozen=True)
class FieldResult:
    """``outcome``: passed | pending_review | failed | retry (not recorded: attempts are left)."""

    outcome: str
    person: Person
    face_outcome: str
    attempts_left: int
    record: RecordRef | None = None
    match_score: float | None = None
    liveness_score: float | None = None


class FieldCertifier:
    def __init__(self, *, store: Store, gate: OperatorGate, vault: RosterVault, face: Any, camera: Any,
                 client: Any, face_config: Any, field_config: Any,
                 battery: Callable[[], BatteryStatus], card: Any = None) -> None:
        self.store = store
        self.gate = gate
        self.vault = vault
        self.face = face
        self.camera = camera
        self.client = client
        self.face_config = face_config
        self.field_config = field_config
        self.battery = battery
        self.card = card

    # -- the roster in the session -------------------------------------------------------------
    def open_roster(self, password: bytearray) -> Roster:
        """Unlock the roster with the signed-in operator's password (kept only as the data key)."""
        session = self.gate.require_active()
        if session.roster is not None:
            return session.roster
        key = self.vault.unlock(session.operator_id, password)
        roster = self.vault.open(key)
        self.vault.reconcile(roster)
        session.roster_key, session.roster = key, roster
        return roster

    def download_roster(self, districts: list[str], password: bytearray) -> Roster:
        """Online, before going out: fetch, encrypt under the operator's password, open."""
        from kiosk.backend_client import Roster as RosterAnswer

        session = self.gate.require_active()
        answer = self.client.roster(districts, operator_id=session.operator_id, password=password)
        if not isinstance(answer, RosterAnswer):
            reason = getattr(answer, "reason", "") or getattr(answer, "error", "")
            raise FieldError("roster_unavailable", N_("The roster could not be downloaded ({reason}). Connect to "
                                                      "the network and try again."), reason=reason)
        if session.roster is not None:
            session.roster.wipe()
            session.roster = None
        _info, key = self.vault.save(answer.data, operator_id=session.operator_id, secret=password)
        session.roster_key, session.roster = key, self.vault.open(key)
        return session.roster

    def _roster(self, session: OperatorSession) -> Roster | None:
        if session.roster is None:
            return None
        if self.vault.info() is None or self.vault.purge_if_expired():
            session.roster.wipe()
            session.roster = None
            raise FieldError("roster_expired", N_("The roster has expired and was deleted. Download a new one "
                                                  "while online."))
        return session.roster

    # -- finding the person --------------------------------------------------------------------
    def find(self, id_number: str) -> Person:
        """By ID number (typed, or read from the card); the roster first, then the backend online."""
        id_number = id_number.strip().upper()
        if not 15 <= len(id_number) <= 18:
            raise FieldError("bad_id", N_("An ID number has 18 characters (old ones 15). Check it and type it "
                                          "again."))
        session = self.gate.require_active()
        roster = self._roster(session)
        if roster is None and self.vault.info() is not None and not self.vault.purge_if_expired():
            # Searching only the backend while a roster sits locked on disk would send an offline
            # operator to "not on the roster" for people who are on it.
            raise FieldError("roster_locked", N_("Open the roster first (operator password)."))
        entry = roster.get(id_number) if roster is not None else None
        if entry is not None:
            return self.pick(entry)
        return Person(id_number, mask_id_number(id_number), "", on_roster=False)

    def find_by_card(self, timeout_s: float = 15.0) -> Person:
        """Read the inserted social-security card and look its holder up."""
        if self.card is None:
            raise FieldError("no_reader", N_("No card reader: type the ID number instead."))
        done = self.card.read_card().wait(timeout_s)
        if not done.ok or done.result is None:
            raise FieldError("card_unreadable", N_("The card could not be read. Insert it again, or type the ID "
                                                   "number."))
        return self.find(done.result.holder.ssn)

    @staticmethod
    def pick(entry: RosterEntry) -> Person:
        return Person(entry.id_number, entry.id_masked or mask_id_number(entry.id_number), mask_name(entry.name),
                      on_roster=True, due_date=entry.due_date, district=entry.district)

    # -- checks before the camera starts -------------------------------------------------------
    def preflight(self) -> OperatorSession:
        session = self.gate.require_active()
        status = self.battery()
        if status.below(self.field_config.battery_min_percent):
            raise FieldError("battery_low", N_("Battery at {percent}%: charge the kiosk before the next "
                                               "certification (at least {minimum}%)."),
                             percent=status.percent, minimum=self.field_config.battery_min_percent)
        return session

    def _reference(self, session: OperatorSession, person: Person) -> Any:
        from models.template import FaceTemplate

        if person.on_roster:
            roster = self._roster(session)
            entry = roster.get(person.id_number) if roster is not None else None
            if entry is None:
                raise FieldError("roster_locked", N_("Open the roster first (operator password)."))
            mark = self.vault.done_marks_for(roster, person.id_number)
            if mark is not None and mark.get("result") in ("passed", "pending_review"):
                raise FieldError("already_done", N_("This person was already certified today on this kiosk."))
            try:
                return entry.template()
            except RosterError as exc:
                raise FieldError("no_template", str(exc)) from None
        from kiosk.backend_client import FaceTemplate as TemplateAnswer
        from kiosk.backend_client import NotFound, ServiceUnavailable

        # Not on the roster: the backend gives the template only for the person of this kiosk's visit.
        self.client.begin_visit(person.id_number, "typed")
        answer = self.client.face_template(person.id_number)
        if isinstance(answer, ServiceUnavailable):
            raise FieldError("not_on_roster_offline", N_("This person is not on the roster, and a person not on "
                                                         "the roster can only be certified online. Note the "
                                                         "visit and come back with a network."))
        if isinstance(answer, NotFound):
            raise FieldError("no_template", N_("No enrolled face for this person: they certify at the counter "
                                               "(or staff visit with the enrolment kit)."))
        if not isinstance(answer, TemplateAnswer):
            raise FieldError("backend_refused", N_("The bureau refused the request. Call the office."))
        import base64

        return FaceTemplate.from_bytes(base64.b64decode(answer.data["template"]), source="backend")

    def _policy(self, assisted: AssistedCase | None) -> Any:
        policy = self.face_config.policy(require_match=True, require_passive_liveness=True)
        if assisted is None:
            return policy
        if self.field_config.assisted_policy == "off":
            raise FieldError("assisted_off", N_("The bureau does not allow assisted certification on this kiosk: "
                                                "the person is certified by a home visit of the review team."))
        if assisted.reason not in ASSISTED_REASONS or not assisted.attested:
            raise FieldError("assisted_incomplete", N_("Choose the reason and confirm your attestation first."))
        review = self.store.review_key()
        if review is None:
            raise FieldError("no_review_key", N_("The kiosk has no review key yet: go online once, then try "
                                                 "again."))
        # Passive liveness and the match still decide; only the head movements are dropped.
        return replace(policy, active_challenge=False, keep_capture_for_review=True, review_public_key=review.raw)

    # -- the attempt ---------------------------------------------------------------------------
    def certify(self, person: Person, *, attempts: Any, consent: Any,
                assisted: AssistedCase | None = None, wait_s: float | None = None) -> FieldResult:
        """One face attempt for ``person``; ``attempts`` is the visit's FaceAttempts."""
        from drivers.camera.api import require_consent

        require_consent(consent)
        session = self.preflight()
        policy = self._policy(assisted)
        reference = self._reference(session, person)
        try:
            self.camera.start(consent)
            try:
                handle = self.face.verify(reference, policy, consent=consent, attempts=attempts)
                done = handle.wait(wait_s if wait_s is not None else policy.decision_timeout_s + 15.0)
            finally:
                self.camera.stop()
        finally:
            reference.wipe()
        self.gate.touch()
        decision = done.result
        if decision is None:
            raise FieldError("face_unavailable", N_("The face check did not answer. Restart the kiosk; if it "
                                                    "happens again, call support."))
        if decision.accepted:
            outcome = "pending_review" if assisted is not None else "passed"
        elif decision.go_to_counter or decision.attempts_left == 0:
            outcome = "failed"
        else:
            return FieldResult("retry", person, decision.outcome.value, decision.attempts_left,
                               match_score=decision.match_score, liveness_score=decision.liveness_score)
        record = self._commit(session, person, outcome, decision, assisted)
        return FieldResult(outcome, person, decision.outcome.value, decision.attempts_left, record,
                           decision.match_score, decision.liveness_score)

    def _commit(self, session: OperatorSession, person: Person, outcome: str, decision: Any,
                assisted: AssistedCase | None) -> RecordRef:
        payload: dict[str, Any] = {
            "id_number": person.id_number, "result": outcome, "channel": "field",
            "method": "assisted" if assisted is not None else "face",
            "face_outcome": decision.outcome.value, "attempt": decision.attempt,
            "match_score": None if decision.match_score is None else round(float(decision.match_score), 4),
            "liveness_score": None if decision.liveness_score is None else round(float(decision.liveness_score), 4),
            "on_roster": person.on_roster,
            "decision_s": round(float(getattr(decision, "elapsed_s", 0.0)), 2),   # the console's figure
        }
        roster = session.roster if person.on_roster else None
        if roster is not None:
            payload["roster_id"] = roster.info.roster_id
        if assisted is not None:
            payload["assisted"] = {"reason": assisted.reason, "attested_by": session.operator_id,
                                   "note": assisted.note[:200], "review": "manual"}
        sealed = None
        if assisted is not None and decision.sealed_capture:
            # Already sealed by the verifier (models.review, "SFR1"); sealed again as a record field so
            # the backend's reviewers get it through GET /v1/operator/records/{id}/sealed/capture.
            sealed = {"capture": decision.sealed_capture}
        try:
            with self.store.transaction() as tx:
                ref = tx.add_record("certification", payload, operator_id=session.operator_id, sealed=sealed)
                if roster is not None:
                    self.vault.mark_done(tx, roster, person.id_number,
                                         {"result": outcome, "record_id": ref.id, "at": time.time(),
                                          "operator_id": session.operator_id})
        except ReviewKeyMissingError:
            raise FieldError("no_review_key", N_("The kiosk has no review key yet: go online once, then try "
                                                 "again.")) from None
        log.info("field certification recorded", extra={"record": ref.id, "result": outcome,
                                                        "person": person.id_masked,
                                                        "operator": session.operator_id})
        return ref

    def skip(self, person: Person, reason: str) -> RecordRef:
        """The operator could not certify this person today (not at home, refused...): recorded."""
        if reason not in SKIP_REASONS:
            raise FieldError("bad_reason", N_("Choose one of the listed reasons."))
        session = self.gate.require_active()
        roster = self._roster(session) if person.on_roster else None
        with self.store.transaction() as tx:
            ref = tx.add_record("field_visit", {"id_number": person.id_number, "result": "skipped",
                                                "reason": reason, "channel": "field"},
                                operator_id=session.operator_id)
            if roster is not None:
                self.vault.mark_done(tx, roster, person.id_number,
                                     {"result": "skipped", "record_id": ref.id, "at": time.time(),
                                      "operator_id": session.operator_id})
        return ref


def consent(accepted: bool = True) -> Any:
    """The CameraConsent for the field's consent text (kiosk.messages.face.CONSENT is shown)."""
    from drivers.camera.api import CameraConsent

    return CameraConsent(CONSENT_TEXT_ID, accepted)


def raise_for_operator(exc: SignInError) -> FieldError:
    return FieldError(exc.code, str(exc))
