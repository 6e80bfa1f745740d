"""One citizen's visit, from the first touch (or card) to the wipe. Plain Python: no Qt, no threads.

The UI observes a :class:`SessionCore` and drives its clock (a timer calling :meth:`tick`); the
tests drive it with a fake clock. All calls come from one thread (the UI thread, or the test):
device events reach it through the UI's queued signals.

Every end of a visit (card pulled, timeout, cancel, finish, operator, crash-restart) goes through
:meth:`SessionCore.end_visit`, which wipes the visit's personal data and tells observers to clear
every widget that showed it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from kiosk.identity import IdentitySource, VisitIdentity, allows
from kiosk.logs import set_visit_id

log = logging.getLogger(__name__)


class VisitState(StrEnum):
    IDLE = "idle"                      # attract screen, no visit
    HOME = "home"                      # a visit started by a touch; services shown
    CARD_PRESENT = "card_present"      # a visit started by (or now holding) a card
    SERVICE_CHOSEN = "service_chosen"
    STEP = "step"
    RESULT = "result"


class EndReason(StrEnum):
    CARD_REMOVED = "card_removed"
    TIMEOUT = "timeout"
    CANCELED = "canceled"
    FINISHED = "finished"
    ERROR = "error"
    OPERATOR = "operator"
    CRASH_RESTART = "crash_restart"


class EventKind(StrEnum):
    STATE = "state"                    # state, service or step changed
    COUNTDOWN = "countdown"            # idle countdown running: ``countdown`` seconds left
    COUNTDOWN_CLEARED = "countdown_cleared"
    ENDED = "ended"                    # the visit ended: ``reason``; personal data is gone
    WIPED = "wiped"                    # observers must clear anything personal they show


@dataclass(frozen=True)
class Step:
    key: str                           # e.g. "pin_entry"; also the translation key of its title
    index: int                         # 1-based position shown as "step 2 of 4"
    total: int


@dataclass(frozen=True)
class SessionEvent:
    kind: EventKind
    state: VisitState
    visit_id: str | None
    service: str | None = None
    step: Step | None = None
    countdown: int | None = None
    reason: EndReason | None = None


class PersonalData:
    """Everything personal the visit learns (name, ID number, card data, phone...).

    Bytes are held in ``bytearray`` and zeroed on wipe; ``str`` values cannot be zeroed in
    CPython, so they are dropped and the references released.
    """

    def __init__(self) -> None:
        self._fields: dict[str, Any] = {}

    def __setitem__(self, key: str, value: Any) -> None:
        self._fields[key] = value

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._fields.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self._fields

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:  # never show values, even in a debugger's repr or a traceback
        return f"<PersonalData {len(self._fields)} fields>"

    def wipe(self) -> None:
        for value in self._fields.values():
            _zero(value)
        self._fields.clear()


def _zero(value: Any) -> None:
    if isinstance(value, bytearray):
        value[:] = b"\x00" * len(value)
    elif isinstance(value, dict):
        for inner in value.values():
            _zero(inner)
        value.clear()
    elif isinstance(value, list):
        for inner in value:
            _zero(inner)
        value.clear()
    elif hasattr(value, "wipe"):
        value.wipe()


@dataclass
class Visit:
    id: str
    started_at: float
    trigger: str
    service: str | None = None
    step: Step | None = None
    personal: PersonalData = field(default_factory=PersonalData)
    identity: VisitIdentity | None = None     # who the visit is for, and how that was established


Observer = Callable[[SessionEvent], None]


class SessionCore:
    def __init__(self, idle_timeout_s: float, countdown_s: int, *, result_timeout_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic, marker_path: Path | None = None,
                 ecard_services: Collection[str] | None = None) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.ecard_services = frozenset(ecard_services) if ecard_services is not None else None   # [ecard]
        self.countdown_s = countdown_s
        self.result_timeout_s = result_timeout_s if result_timeout_s is not None else idle_timeout_s
        self._clock = clock
        self._marker_path = marker_path
        self._observers: list[Observer] = []
        self._visit: Visit | None = None
        self._state = VisitState.IDLE
        self._last_activity = clock()
        self._countdown_shown: int | None = None
        self._end_listeners: list[Callable[[str, EndReason, str | None], None]] = []
        self.idle_since: float = time.time()     # wall-clock time the attract screen last came back

    # -- observation -------------------------------------------------------------------------
    def subscribe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def on_visit_end(self, listener: Callable[[str, EndReason, str | None], None]) -> None:
        """Called with (visit id, reason, service) before the wipe: flows record the outcome here."""
        self._end_listeners.append(listener)

    @property
    def clock(self) -> Callable[[], float]:
        """The core's clock (tests drive a fake one): other timers of the visit use the same."""
        return self._clock

    @property
    def state(self) -> VisitState:
        return self._state

    @property
    def is_idle(self) -> bool:
        """The attract screen: no visit in progress (the updater switches releases only then)."""
        return self._visit is None

    @property
    def visit(self) -> Visit | None:
        return self._visit

    @property
    def personal(self) -> PersonalData:
        if self._visit is None:
            raise RuntimeError("no visit in progress")
        return self._visit.personal

    def _emit(self, kind: EventKind, **extra: Any) -> None:
        visit = self._visit
        event = SessionEvent(kind, self._state, visit.id if visit else None,
                             visit.service if visit else None, visit.step if visit else None, **extra)
        for observer in list(self._observers):
            try:
                observer(event)
            except Exception:
                log.exception("session observer failed")

    # -- visit lifecycle -----------------------------------------------------------------------
    def start_visit(self, trigger: str = "touch") -> Visit:
        if self._visit is not None:
            return self._visit
        visit = Visit(id=str(uuid.uuid4()), started_at=time.time(), trigger=trigger)
        self._visit = visit
        set_visit_id(visit.id)
        self._write_marker(visit.id)
        self._state = VisitState.CARD_PRESENT if trigger == "card" else VisitState.HOME
        self.touch()
        log.info("visit started", extra={"trigger": trigger})
        self._emit(EventKind.STATE)
        return visit

    def card_inserted(self) -> None:
        if self._visit is None:
            self.start_visit("card")
            self._require_visit().identity = VisitIdentity(IdentitySource.SOCIAL_SECURITY_CARD)
        elif self._state is VisitState.HOME:
            # The social-security card is now the visit's key (its removal ends the visit).
            self._visit.identity = VisitIdentity(IdentitySource.SOCIAL_SECURITY_CARD)
            self._state = VisitState.CARD_PRESENT
            self.touch()
            self._emit(EventKind.STATE)

    # -- identity ------------------------------------------------------------------------------
    @property
    def identity(self) -> VisitIdentity | None:
        return self._visit.identity if self._visit is not None else None

    def identify(self, identity: VisitIdentity) -> str | None:
        """An identity document was read (ID card, e-card): it starts the visit, or identifies the
        one in progress. Returns None when accepted, else why not: "other_person" (the visit
        belongs to someone else: finish it first) or "busy" (a service is running; the document is
        not needed now). With the social-security card in the reader the card stays the key."""
        visit = self._visit
        if visit is None:
            visit = self.start_visit(identity.source.value)
        elif visit.identity is not None and visit.identity.id_number not in ("", identity.id_number):
            log.warning("identity refused: the visit belongs to another person",
                        extra={"source": identity.source.value})
            return "other_person"
        elif visit.identity is not None and visit.identity.source is IdentitySource.SOCIAL_SECURITY_CARD:
            return None
        elif self._state not in (VisitState.HOME, VisitState.RESULT):
            return "busy"
        visit.identity = identity
        self.touch()
        log.info("visit identified", extra={"source": identity.source.value, "person": identity.masked_id})
        self._emit(EventKind.STATE)
        return None

    def allows(self, service: str) -> bool:
        """Whether this visit's identity may start ``service`` (kiosk/identity.py decides)."""
        return allows(self.identity, service, self.ecard_services)

    def card_removed(self) -> None:
        """Pulling the card ends the visit at once, whatever step it was on."""
        if self._visit is not None:
            self.end_visit(EndReason.CARD_REMOVED)

    def choose_service(self, service: str) -> None:
        visit = self._require_visit()
        visit.service = service
        visit.step = None
        self._state = VisitState.SERVICE_CHOSEN
        self.touch()
        log.info("service chosen", extra={"service": service})
        self._emit(EventKind.STATE)

    def enter_step(self, key: str, index: int, total: int) -> None:
        visit = self._require_visit()
        visit.step = Step(key, index, total)
        self._state = VisitState.STEP
        self.touch()
        self._emit(EventKind.STATE)

    def show_result(self) -> None:
        self._require_visit()
        self._state = VisitState.RESULT
        self.touch()
        self._emit(EventKind.STATE)

    def back_home(self) -> None:
        """Leave a service but keep the visit (the citizen may choose another)."""
        visit = self._require_visit()
        visit.service, visit.step = None, None
        self._state = VisitState.HOME
        self.touch()
        self._emit(EventKind.STATE)

    def cancel(self) -> None:
        if self._visit is not None:
            self.end_visit(EndReason.CANCELED)

    def end_visit(self, reason: EndReason) -> None:
        visit = self._visit
        if visit is None:
            return
        for listener in list(self._end_listeners):
            try:
                listener(visit.id, reason, visit.service)
            except Exception:
                log.exception("visit end listener failed")
        log.info("visit ended", extra={"reason": reason.value, "service": visit.service,
                                       "duration_s": round(time.time() - visit.started_at, 1)})
        self._state = VisitState.IDLE
        self._countdown_shown = None
        self._emit(EventKind.ENDED, reason=reason)
        visit.personal.wipe()
        visit.service, visit.step = None, None
        visit.identity = None
        self._visit = None
        self.idle_since = time.time()
        self._emit(EventKind.WIPED)
        self._clear_marker()
        set_visit_id(None)

    def _require_visit(self) -> Visit:
        if self._visit is None:
            raise RuntimeError("no visit in progress")
        return self._visit

    # -- idle timeout ----------------------------------------------------------------------------
    def touch(self) -> None:
        """Any sign of the citizen (touch, key press, card event) restarts the idle timer."""
        self._last_activity = self._clock()
        if self._countdown_shown is not None:
            self._countdown_shown = None
            self._emit(EventKind.COUNTDOWN_CLEARED)

    def hold(self) -> None:
        """A device is legitimately busy (e.g. the card is being written): not idle."""
        self._last_activity = self._clock()

    def tick(self) -> int | None:
        """Advance the idle timer; returns seconds left on the countdown, or None."""
        if self._visit is None:
            return None
        limit = self.result_timeout_s if self._state is VisitState.RESULT else self.idle_timeout_s
        idle = self._clock() - self._last_activity
        if idle < limit:
            return None
        left = self.countdown_s - int(idle - limit)
        if left <= 0:
            self.end_visit(EndReason.TIMEOUT)
            return 0
        if left != self._countdown_shown:
            self._countdown_shown = left
            self._emit(EventKind.COUNTDOWN, countdown=left)
        return left

    # -- crash-restart ---------------------------------------------------------------------------
    def recover_after_crash(self) -> str | None:
        """At start-up: if a visit was in progress when the kiosk died, close it. Returns its id."""
        if self._marker_path is None or not self._marker_path.exists():
            return None
        try:
            visit_id = self._marker_path.read_text(encoding="ascii").strip() or None
        except (OSError, UnicodeDecodeError):
            visit_id = None
        self._clear_marker()
        log.warning("previous visit ended by crash-restart", extra={"previous_visit": visit_id})
        for listener in list(self._end_listeners):
            try:
                listener(visit_id or "unknown", EndReason.CRASH_RESTART, None)
            except Exception:
                log.exception("visit end listener failed")
        return visit_id

    def _write_marker(self, visit_id: str) -> None:
        if self._marker_path is not None:
            self._marker_path.parent.mkdir(parents=True, exist_ok=True)
            self._marker_path.write_text(visit_id, encoding="ascii")

    def _clear_marker(self) -> None:
        if self._marker_path is not None:
            self._marker_path.unlink(missing_ok=True)
