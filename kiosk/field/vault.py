"""The roster on the kiosk: encrypted at rest, opened only by the operator who downloaded it, and
refused and purged once it expires.

Layout (one row of the local store, namespace ``field.roster``, key ``current``)::

    {"v": 1, "roster_id", "downloaded_at", "expires_at", "districts", "count", "operator_id",
     "nonce", "ct",                                  # AES-256-GCM(data key) over the persons' JSON
     "wrap": {"kdf": "scrypt", "n", "r", "p", "salt", "nonce", "ct"}}   # the data key, wrapped

* data key: 32 random bytes per download; persons (names, ID numbers, addresses, face templates)
  exist on disk only under it. The associated data binds the ciphertext to its header (roster id,
  expiry, districts, operator), so moving the expiry forward on disk breaks the decryption.
* key-encryption key: ``scrypt(password, salt, n = field.roster_kdf_n, r=8, p=1)`` from the
  operator's sign-in password, never stored. The password's downloaded *verification* hash uses
  another salt and cost, so the list on disk does not give the roster key.
* done marks: ``field.done/<HMAC-SHA256(data key, ID number)>`` -> {record id, result, time}, written
  in the certification's own transaction; an ID number is not readable from them without the key.

Expiry: ``field.roster_expiry_days`` after download, checked on every open, at start-up and by
the purge job; an expired roster is deleted with its done marks (the records stay in the outbox).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kiosk.roster_seal import TemplateSealError, open_template, open_template_key
from kiosk.store import Store, Tx

log = logging.getLogger(__name__)

NAMESPACE = "field.roster"
DONE_NAMESPACE = "field.done"
KEY = "current"


class RosterError(Exception):
    """The roster cannot be used; ``code`` is stable, the message says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass(frozen=True)
class RosterInfo:
    """What may be shown without unlocking: no names, no IDs."""

    roster_id: str
    operator_id: str
    districts: tuple[str, ...]
    count: int
    downloaded_at: float
    expires_at: float

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


@dataclass
class RosterEntry:
    id_number: str = field(repr=False)
    id_masked: str
    name: str = field(repr=False)
    district: str
    address: str = field(repr=False)
    due_date: str
    model: str
    _template: bytearray | None = field(default=None, repr=False)

    @property
    def has_template(self) -> bool:
        return self._template is not None and any(self._template)

    def template(self) -> Any:
        """A fresh models.template.FaceTemplate (the caller wipes it after the verify)."""
        from models.template import FaceTemplate

        if not self.has_template:
            raise RosterError("no_template", "no enrolled face template for this person: certify at the counter "
                              "or online")
        assert self._template is not None
        return FaceTemplate.from_bytes(bytes(self._template), source="roster")

    def wipe(self) -> None:
        if self._template is not None:
            self._template[:] = b"\x00" * len(self._template)


class Roster:
    """The decrypted roster, in memory while the operator's session is unlocked."""

    def __init__(self, info: RosterInfo, entries: list[RosterEntry], data_key: bytearray) -> None:
        self.info = info
        self.entries = entries
        self._by_id = {e.id_number.upper(): e for e in entries}
        self._key = data_key

    def __repr__(self) -> str:
        return f"<Roster {self.info.roster_id} {len(self.entries)} persons>"

    def get(self, id_number: str) -> RosterEntry | None:
        return self._by_id.get(id_number.strip().upper())

    def search(self, text: str) -> list[RosterEntry]:
        """Pick from the list: by name, district, address fragment or the last digits of the ID."""
        t = text.strip().upper()
        if not t:
            return list(self.entries)
        return [e for e in self.entries if t in e.name.upper() or t in e.address.upper()
                or t in e.district.upper() or e.id_number.upper().endswith(t)]

    def done_key(self, id_number: str) -> str:
        return done_key(self._key, id_number)

    def wipe(self) -> None:
        for e in self.entries:
            e.wipe()
        self.entries = []
        self._by_id = {}


def done_key(data_key: bytes | bytearray, id_number: str) -> str:
    return hmac.new(bytes(data_key), id_number.strip().upper().encode("ascii"), hashlib.sha256).hexdigest()


def _aad(header: Mapping[str, Any]) -> bytes:
    fields = {k: header[k] for k in ("v", "roster_id", "downloaded_at", "expires_at", "districts", "count",
                                     "operator_id")}
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _kek(secret: bytes | bytearray, salt: bytes, n: int) -> bytearray:
    return bytearray(hashlib.scrypt(bytes(secret), salt=salt, n=n, r=8, p=1, dklen=32, maxmem=256 * 1024 * 1024))


def _zero(buf: bytearray) -> None:
    buf[:] = b"\x00" * len(buf)


class RosterVault:
    def __init__(self, store: Store, *, expiry_days: int, kdf_n: int = 32768,
                 clock: Callable[[], float] = time.time, kiosk_key: X25519PrivateKey | None = None) -> None:
        self.store = store
        self.kiosk_key = kiosk_key          # opens templates the backend sealed to this kiosk (roster_seal)
        self.expiry_s = expiry_days * 86400
        self.kdf_n = kdf_n
        self.clock = clock

    # -- header --------------------------------------------------------------------------------
    def _doc(self) -> dict[str, Any] | None:
        return self.store.get_state(NAMESPACE, KEY)

    def info(self) -> RosterInfo | None:
        doc = self._doc()
        if doc is None:
            return None
        return RosterInfo(doc["roster_id"], doc["operator_id"], tuple(doc["districts"]), int(doc["count"]),
                          float(doc["downloaded_at"]), float(doc["expires_at"]))

    # -- download ------------------------------------------------------------------------------
    def save(self, answer: Mapping[str, Any], *, operator_id: str, secret: bytes | bytearray) -> tuple[RosterInfo,
                                                                                                        bytearray]:
        """Encrypt the backend's roster answer and replace the current roster (and its done marks)
        in one transaction. Returns the header and the data key (the caller keeps it in the session)."""
        persons = list(answer.get("persons") or [])
        now = self.clock()
        expires = now + self.expiry_s
        sealed = answer.get("template_key")
        if sealed is not None:
            # The backend's expiry of the sealed templates caps the roster's (and is bound into them).
            expires = min(expires, datetime.fromisoformat(str(answer["templates_expire_at"])).timestamp())
        header: dict[str, Any] = {"v": 1, "roster_id": str(uuid.uuid4()), "downloaded_at": now,
                                  "expires_at": expires,
                                  "districts": [str(d) for d in answer.get("districts") or []],
                                  "count": len(persons), "operator_id": operator_id}
        data_key = bytearray(AESGCM.generate_key(bit_length=256))
        plaintext = json.dumps(persons, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        nonce = os.urandom(12)
        ct = AESGCM(bytes(data_key)).encrypt(nonce, plaintext, _aad(header))
        salt = os.urandom(16)
        kek = _kek(secret, salt, self.kdf_n)
        try:
            wrap_nonce = os.urandom(12)
            wrapped = AESGCM(bytes(kek)).encrypt(wrap_nonce, bytes(data_key), _aad(header))
        finally:
            _zero(kek)
        if sealed is not None:
            header["template_key"], header["templates_expire_at"] = sealed, str(answer["templates_expire_at"])
        doc = {**header, "nonce": _b64(nonce), "ct": _b64(ct),
               "wrap": {"kdf": "scrypt", "n": self.kdf_n, "r": 8, "p": 1, "salt": _b64(salt),
                        "nonce": _b64(wrap_nonce), "ct": _b64(wrapped)}}
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM local_state WHERE namespace = ?", (DONE_NAMESPACE,))
            tx.put_state(NAMESPACE, KEY, doc)
        log.info("roster stored", extra={"persons": len(persons), "districts": header["districts"]})
        info = self.info()
        assert info is not None
        return info, data_key

    # -- opening -------------------------------------------------------------------------------
    def _checked_doc(self) -> dict[str, Any]:
        doc = self._doc()
        if doc is None:
            raise RosterError("no_roster", "no roster on this kiosk: download one while online before going out")
        if self.clock() >= float(doc["expires_at"]):
            self.purge("expired")
            raise RosterError("expired", "the roster has expired and was deleted: download a new one online")
        return doc

    def unlock(self, operator_id: str, secret: bytes | bytearray) -> bytearray:
        """The data key, from the downloading operator's password; raises RosterError."""
        doc = self._checked_doc()
        if doc["operator_id"] != operator_id:
            raise RosterError("other_operator", "this roster was downloaded by another operator: that operator "
                              "signs in, or download a new roster online")
        w = doc["wrap"]
        kek = _kek(secret, _unb64(w["salt"]), int(w["n"]))
        try:
            return bytearray(AESGCM(bytes(kek)).decrypt(_unb64(w["nonce"]), _unb64(w["ct"]), _aad(doc)))
        except InvalidTag:
            raise RosterError("wrong_secret", "the roster does not open with this password") from None
        finally:
            _zero(kek)

    def open(self, data_key: bytearray) -> Roster:
        doc = self._checked_doc()
        try:
            plaintext = AESGCM(bytes(data_key)).decrypt(_unb64(doc["nonce"]), _unb64(doc["ct"]), _aad(doc))
        except InvalidTag:
            raise RosterError("damaged", "the roster is damaged or was altered: download it again online") from None
        template_key = self._template_key(doc)
        entries = []
        try:
            for p in json.loads(plaintext):
                tpl: bytearray | None = None
                if p.get("template") and template_key is not None:
                    try:
                        tpl = open_template(template_key, p["id_number"], doc["templates_expire_at"], p["template"])
                    except TemplateSealError as exc:
                        raise RosterError("damaged", f"{exc}: download the roster again online") from None
                elif p.get("template") and "template_key" not in doc:
                    tpl = bytearray(_unb64(p["template"]))      # a roster from a backend before sealing
                entries.append(RosterEntry(p["id_number"], p.get("id_masked", ""), p.get("name", ""),
                                           p.get("district", ""), p.get("address", ""), p.get("due_date", ""),
                                           p.get("model", ""), tpl))
        finally:
            if template_key is not None:
                _zero(template_key)
        plaintext = b""
        info = self.info()
        assert info is not None
        return Roster(info, entries, data_key)

    def _template_key(self, doc: Mapping[str, Any]) -> bytearray | None:
        """The key of the templates sealed to this kiosk; RosterError if they are another kiosk's."""
        if "template_key" not in doc:
            return None
        if self.kiosk_key is None:
            raise RosterError("no_kiosk_key", "the roster's face templates open only with this kiosk's key")
        try:
            return open_template_key(self.kiosk_key, doc["template_key"])
        except TemplateSealError:
            raise RosterError("other_kiosk", "this roster's face templates were sealed to another kiosk: download "
                              "the roster on this kiosk") from None

    # -- done marks ----------------------------------------------------------------------------
    def mark_done(self, tx: Tx, roster: Roster, id_number: str, value: Mapping[str, Any]) -> None:
        """Inside the certification's own transaction."""
        tx.put_state(DONE_NAMESPACE, roster.done_key(id_number), dict(value))

    def done_marks_for(self, roster: Roster, id_number: str) -> dict[str, Any] | None:
        value = self.store.get_state(DONE_NAMESPACE, roster.done_key(id_number))
        return dict(value) if value is not None else None

    def done_marks(self, roster: Roster) -> dict[str, dict[str, Any]]:
        """ID number -> mark, for the roster's persons that have one."""
        with self.store.read() as conn:
            rows = dict(conn.execute("SELECT key, value FROM local_state WHERE namespace = ?",
                                     (DONE_NAMESPACE,)).fetchall())
        out = {}
        for e in roster.entries:
            value = rows.get(roster.done_key(e.id_number))
            if value is not None:
                out[e.id_number] = json.loads(value)
        return out

    def reconcile(self, roster: Roster) -> int:
        """Write the done marks that records written since the download lack (a flow that commits
        its record without the mark, or a crash between two commits); returns how many were added."""
        with self.store.read() as conn:
            rows = conn.execute("SELECT id, created_ts, envelope, operator_id FROM outbox WHERE created_ts >= ? "
                                "AND type IN ('certification', 'field_visit') ORDER BY n",
                                (roster.info.downloaded_at,)).fetchall()
        added = 0
        for record_id, created_ts, envelope, operator_id in rows:
            payload = json.loads(envelope).get("payload", {})
            idn = str(payload.get("id_number", ""))
            if not idn or roster.get(idn) is None:
                continue
            key = roster.done_key(idn)
            current = self.store.get_state(DONE_NAMESPACE, key)
            if current is not None and float(current.get("at", 0)) >= float(created_ts):
                continue                    # the mark is as new as the record (or newer)
            with self.store.transaction() as tx:
                tx.put_state(DONE_NAMESPACE, key, {"result": payload.get("result", ""), "record_id": record_id,
                                                   "at": created_ts, "operator_id": operator_id})
            added += 1
        return added

    # -- purge ---------------------------------------------------------------------------------
    def purge(self, reason: str) -> bool:
        with self.store.transaction() as tx:
            n = tx.execute("DELETE FROM local_state WHERE namespace = ?", (NAMESPACE,)).rowcount
            tx.execute("DELETE FROM local_state WHERE namespace = ?", (DONE_NAMESPACE,))
        if n:
            # secure_delete (enable_secure_delete) zeroes the freed pages; the checkpoint then
            # rewrites the WAL, so no copy of the (encrypted) roster lingers in either file.
            with self.store.read() as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            log.info("roster purged", extra={"reason": reason})
        return bool(n)

    def purge_if_expired(self) -> bool:
        doc = self._doc()
        if doc is not None and self.clock() >= float(doc["expires_at"]):
            return self.purge("expired")
        return False


def enable_secure_delete(store: Store) -> None:
    """Deleted roster rows are overwritten with zeros in the database file (not just unlinked)."""
    with store.read() as conn:
        conn.execute("PRAGMA secure_delete = ON")
