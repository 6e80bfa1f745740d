"""Who is operating the field kiosk: the authorised-operators list, sign-in, lock and sign-out.

The list is downloaded while online (``GET /v1/field/operators``), signed by the backend with an
Ed25519 key the kiosk pins (``field.signing_key``) or fetched once and remembered. It is checked
again every time it is read, so an edited copy on disk signs nobody in. It holds hashes only: the
password as scrypt (checked offline), the staff card as a salted SHA-256 of the holder's ID.

An :class:`OperatorSession` lives in memory only. It locks after ``field.operator_lock_s`` without
activity (the same operator unlocks it with the same secret); signing out wipes it: the roster data
key (a ``bytearray``, zeroed), the decrypted roster (templates zeroed) and the operator's name.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from kiosk.field.credentials import card_id_hash, operator_list_signing_bytes, verify_password
from kiosk.signing import verify_signature
from kiosk.store import Store

log = logging.getLogger(__name__)

META_LIST = "field.operator_list"          # the signed list, as downloaded (hashes only)
META_SIGNING_KEY = "field.signing_key"     # the backend's list-signing key, remembered on first fetch
MAX_FAILURES = 5                           # wrong secrets in a row before sign-in pauses
FAILURE_PAUSE_S = 300.0


class SignInError(Exception):
    """Sign-in refused; ``code`` is stable (tests, UI), the message says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class OperatorState(StrEnum):
    SIGNED_OUT = "signed_out"
    LOCKED = "locked"
    ACTIVE = "active"


@dataclass(frozen=True)
class OperatorEntry:
    operator_id: str
    name: str
    password_hash: str | None = field(repr=False, default=None)
    card_id_sha256: str | None = field(repr=False, default=None)
    districts: tuple[str, ...] = ()


def _parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp()


class OperatorDirectory:
    """The signed authorised-operators list kept in the store."""

    def __init__(self, store: Store, *, pinned_key_b64: str = "", max_age_days: int = 30,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.pinned_key_b64 = pinned_key_b64
        self.max_age_s = max_age_days * 86400
        self.clock = clock

    def _key(self) -> bytes | None:
        text = self.pinned_key_b64 or self.store.get_meta(META_SIGNING_KEY) or ""
        return base64.b64decode(text) if text else None

    def refresh(self, client: Any) -> int:
        """Online: fetch (and remember) the signing key, fetch the list, check it, keep it.
        Returns the number of operators; raises SignInError("list_unavailable"/"list_bad_signature")."""
        from kiosk.field.online import fetch_operator_list, fetch_signing_key

        if self._key() is None:
            key = fetch_signing_key(client)
            if key is None:
                raise SignInError("list_unavailable", "the backend cannot be reached: connect to the network and "
                                  "download the operator list again")
            self.store.set_meta(META_SIGNING_KEY, key)
        document = fetch_operator_list(client)
        if document is None:
            raise SignInError("list_unavailable", "the backend cannot be reached: connect to the network and "
                              "download the operator list again")
        entries = self._verify(document)           # refuse before keeping anything
        self.store.set_meta(META_LIST, _json_dumps(document))
        log.info("operator list downloaded", extra={"operators": len(entries)})
        return len(entries)

    def _verify(self, document: dict[str, Any]) -> list[OperatorEntry]:
        key = self._key()
        if key is None:
            raise SignInError("list_missing", "no operator list signing key: sign in once while online")
        try:
            sig = base64.b64decode(str(document["sig"]), validate=True)
            valid_until = _parse_time(str(document["valid_until"]))
            issued_at = _parse_time(str(document["issued_at"]))
            raw = document["operators"]
        except (KeyError, ValueError, TypeError):
            raise SignInError("list_bad_signature", "the operator list is damaged: download it again online") from None
        if not verify_signature(key, sig, operator_list_signing_bytes(document)):
            raise SignInError("list_bad_signature", "the operator list is not signed by the bureau: "
                              "download it again online")
        now = self.clock()
        if now > valid_until or now - issued_at > self.max_age_s:
            raise SignInError("list_expired", "the operator list is too old: connect to the network and "
                              "download it again before going out")
        return [OperatorEntry(str(o["operator_id"]), str(o["name"]), o.get("password_hash"),
                              o.get("card_id_sha256"), tuple(o.get("districts") or ())) for o in raw]

    def entries(self) -> list[OperatorEntry]:
        """The checked list; raises SignInError when there is none, or it is altered or too old."""
        text = self.store.get_meta(META_LIST)
        if not text:
            raise SignInError("list_missing", "no operator list on this kiosk: connect to the network and "
                              "download it (operator screen) before going out")
        import json

        return self._verify(json.loads(text))

    def info(self) -> dict[str, Any] | None:
        """Non-secret facts for the status screen: how many operators, issued, valid until."""
        import json

        text = self.store.get_meta(META_LIST)
        if not text:
            return None
        doc = json.loads(text)
        return {"operators": len(doc.get("operators", [])), "issued_at": doc.get("issued_at"),
                "valid_until": doc.get("valid_until")}


def _json_dumps(obj: Any) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


class OperatorSession:
    """The signed-in operator, in memory only. ``repr`` shows the id, never the name or keys."""

    def __init__(self, entry: OperatorEntry, method: str, now: float) -> None:
        self.operator_id = entry.operator_id
        self.name = entry.name
        self.districts = entry.districts
        self.method = method                         # "password" | "card"
        self.signed_in_at = now
        self.last_activity = now
        self.locked = False
        self.roster_key: bytearray | None = None     # the roster's data key while unlocked
        self.roster: Any = None                      # kiosk.field.vault.Roster while open
        self._entry = entry

    def __repr__(self) -> str:
        return f"<OperatorSession {self.operator_id} {self.method}{' locked' if self.locked else ''}>"

    def wipe(self) -> None:
        if self.roster is not None:
            self.roster.wipe()
            self.roster = None
        if self.roster_key is not None:
            self.roster_key[:] = b"\x00" * len(self.roster_key)
            self.roster_key = None
        self.name = ""
        self.districts = ()


class OperatorGate:
    """Sign-in, inactivity lock and sign-out; thread-safe (flows, UI and timers call it)."""

    def __init__(self, directory: OperatorDirectory, *, lock_after_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.directory = directory
        self.lock_after_s = lock_after_s
        self.clock = clock
        self._session: OperatorSession | None = None
        self._lock = threading.RLock()
        self._failures = 0
        self._paused_until = 0.0
        self._listeners: list[Callable[[OperatorState], None]] = []

    # -- observers -------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[OperatorState], None]) -> Callable[[], None]:
        """``listener(state)`` on every change, on the caller's thread (the UI queues it)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self) -> None:
        state = self.state()
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:
                log.exception("operator state listener failed")

    # -- state -----------------------------------------------------------------------------------
    def state(self) -> OperatorState:
        with self._lock:
            if self._session is None:
                return OperatorState.SIGNED_OUT
            if not self._session.locked and self.clock() - self._session.last_activity >= self.lock_after_s:
                self._session.locked = True
                log.info("operator session locked (inactivity)", extra={"operator": self._session.operator_id})
            return OperatorState.LOCKED if self._session.locked else OperatorState.ACTIVE

    def tick(self) -> OperatorState:
        """Call periodically (UI timer, purge thread): applies the inactivity lock and tells observers."""
        before = self._session.locked if self._session else None
        state = self.state()
        if self._session is not None and before is False and self._session.locked:
            self._notify()
        return state

    @property
    def session(self) -> OperatorSession | None:
        return self._session

    def touch(self) -> None:
        """Operator or citizen activity on the kiosk: postpones the lock (not once locked)."""
        with self._lock:
            if self._session is not None and self.state() is OperatorState.ACTIVE:
                self._session.last_activity = self.clock()

    def require_active(self) -> OperatorSession:
        """The session for a citizen service; raises SignInError when signed out or locked."""
        with self._lock:
            state = self.state()
            if state is OperatorState.SIGNED_OUT:
                raise SignInError("signed_out", "an operator must sign in first")
            if state is OperatorState.LOCKED:
                raise SignInError("locked", "the operator session is locked: the operator unlocks it")
            assert self._session is not None
            self._session.last_activity = self.clock()
            return self._session

    # -- sign-in ---------------------------------------------------------------------------------
    def _check_pause(self) -> None:
        if self.clock() < self._paused_until:
            left = int(self._paused_until - self.clock()) + 1
            raise SignInError("paused", f"too many wrong sign-ins: wait {left} s, or call the office")

    def _failed(self) -> SignInError:
        self._failures += 1
        if self._failures >= MAX_FAILURES:
            self._paused_until = self.clock() + FAILURE_PAUSE_S
            self._failures = 0
        return SignInError("wrong_credentials", "operator id or password not recognised: try again")

    def _find_password(self, operator_id: str, password: bytearray) -> OperatorEntry:
        entries = {e.operator_id: e for e in self.directory.entries()}
        entry = entries.get(operator_id)
        # Hash even for an unknown id, so timing does not tell which ids exist.
        stored = entry.password_hash if entry is not None else None
        ok = verify_password(password, stored or _DUMMY_HASH) and stored is not None
        if not ok or entry is None:
            raise self._failed()
        return entry

    def sign_in_password(self, operator_id: str, password: bytearray) -> OperatorSession:
        """Operator account + password. The caller zeroes ``password`` afterwards (the roster unlock
        needs it once more, so the gate does not)."""
        with self._lock:
            self._check_pause()
            if self._session is not None:
                raise SignInError("already_signed_in", "another operator is signed in: sign out first")
            entry = self._find_password(operator_id, password)
            self._failures = 0
            self._session = OperatorSession(entry, "password", self.clock())
            log.info("operator signed in", extra={"operator": entry.operator_id, "method": "password"})
        self._notify()
        return self._session

    def sign_in_card(self, holder_id_number: str, pin_verified: bool) -> OperatorSession:
        """The staff member's own card: its holder must be on the list, and the card itself must have
        accepted the PIN (``pin_verified``: the card service's verify_pin result, PIN entered on the pad)."""
        with self._lock:
            self._check_pause()
            if self._session is not None:
                raise SignInError("already_signed_in", "another operator is signed in: sign out first")
            wanted = card_id_hash(holder_id_number)
            entry = next((e for e in self.directory.entries() if e.card_id_sha256 == wanted), None)
            if entry is None:
                raise SignInError("card_not_authorised", "this card is not on the authorised operators list: "
                                  "use your own staff card, or ask the office to add it")
            if not pin_verified:
                raise self._failed()
            self._failures = 0
            self._session = OperatorSession(entry, "card", self.clock())
            log.info("operator signed in", extra={"operator": entry.operator_id, "method": "card"})
        self._notify()
        return self._session

    def unlock(self, *, password: bytearray | None = None, holder_id_number: str | None = None,
               pin_verified: bool = False) -> OperatorSession:
        """Unlock a locked session: the same operator, with the same kind of proof."""
        with self._lock:
            self._check_pause()
            session = self._session
            if session is None:
                raise SignInError("signed_out", "an operator must sign in first")
            entry = session._entry
            if password is not None:
                if not verify_password(password, entry.password_hash):
                    raise self._failed()
            elif holder_id_number is not None:
                if card_id_hash(holder_id_number) != entry.card_id_sha256 or not pin_verified:
                    raise self._failed()
            else:
                raise SignInError("wrong_credentials", "give the password or the staff card and PIN")
            self._failures = 0
            session.locked = False
            session.last_activity = self.clock()
        self._notify()
        return session

    def sign_out(self) -> None:
        """Wipe the session: roster key, decrypted roster, name. Nothing of it stays in memory."""
        with self._lock:
            session, self._session = self._session, None
            if session is not None:
                log.info("operator signed out", extra={"operator": session.operator_id})
                session.wipe()
        self._notify()


# A valid-looking hash no password matches (random salt, fixed digest), for unknown ids.
_DUMMY_HASH = "scrypt$16384$8$1$" + "00" * 16 + "$" + "11" * 32
