"""Test helpers for the backend area: a movable clock, a signing kiosk, UUIDv7 ids."""

from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backend.clock import format_rfc3339
from backend.config import BackendConfig, load_backend_config
from backend.crypto import b64e, raw_public_key, sign_record, sign_request

OPERATOR_TOKEN = "test-operator-token-0123456789"

PERSONS = {
    "alice": "440106195203154324",     # retiree, bound phone, template, due
    "bob": "440104194811026548",       # retiree, certified until far ahead
    "carol": "440103196507089010",     # not retired, initial PIN, bank test accounts
    "dead": "440105194002283313",      # deceased retiree
    "nophone": "440106197001011234",   # no bound phone, no template
}


def seed_data() -> dict[str, Any]:
    return {
        "persons": [
            {"id_number": PERSONS["alice"], "name": "张建明", "phone": "13800138000", "retired": True,
             "district": "天河区", "address": "龙口西路12号", "face_template": template_b64(1)},
            {"id_number": PERSONS["bob"], "name": "李秀英", "phone": "13900139000", "retired": True,
             "certified_until": "2027-10-31", "district": "越秀区", "address": "东风中路88号",
             "face_template": template_b64(2)},
            {"id_number": PERSONS["carol"], "name": "王小红", "phone": "13700137000", "card_state": "initial_pin",
             "district": "荔湾区"},
            {"id_number": PERSONS["dead"], "name": "陈国华", "phone": "13600136000", "retired": True,
             "deceased": True, "district": "天河区"},
            {"id_number": PERSONS["nophone"], "name": "赵四", "phone": None, "card_state": "pin_locked"},
        ],
        "bank_accounts": [
            {"bank_code": "ICBC", "card_number": "6222020200112233445", "name": "王小红",
             "id_number": PERSONS["carol"], "phone": "13700137000", "kind": "debit"},
            {"bank_code": "CMB", "card_number": "6225880112345678", "name": "王小红",
             "id_number": PERSONS["carol"], "phone": "13700137000", "kind": "credit"},
            {"bank_code": "GZCB", "card_number": "6223960012345678", "name": "王小红",
             "id_number": PERSONS["carol"], "phone": "13700137000", "kind": "debit"},
        ],
    }


class MovableClock:
    """The service clock for tests: starts at a fixed instant, moves only when told."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)

    @classmethod
    def real(cls) -> MovableClock:
        """Starts at the real time: for a backend in another process, which uses the system clock."""
        return cls(datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def uuid7(at: datetime | None = None) -> str:
    """RFC 9562 UUIDv7 (Python 3.11 has no uuid.uuid7)."""
    ms = int((at.timestamp() if at else time.time()) * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


class SigningKiosk:
    """What the kiosk side does on the wire: its key, its seq counter, signed records and requests."""

    def __init__(self, kiosk_id: str, clock: MovableClock) -> None:
        self.kiosk_id = kiosk_id
        self.key = Ed25519PrivateKey.generate()
        self.clock = clock
        self.seq = 0
        self._tick = 0

    def stamp(self) -> str:
        """Microsecond timestamps, one apart, so two identical requests never share a signature."""
        self._tick += 1
        return (self.clock() + timedelta(microseconds=self._tick)).isoformat().replace("+00:00", "Z")

    @property
    def public_key_b64(self) -> str:
        return b64e(raw_public_key(self.key))

    def record(self, type_: str, payload: dict[str, Any], seq: int | None = None,
               operator_id: str | None = None) -> dict[str, Any]:
        if seq is None:
            self.seq += 1
            seq = self.seq
        envelope = {"id": uuid7(self.clock()), "kiosk_id": self.kiosk_id, "seq": seq,
                    "created_at": format_rfc3339(self.clock()), "type": type_, "operator_id": operator_id,
                    "payload": payload}
        return sign_record(self.key, envelope)

    def batch(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return {"kiosk_id": self.kiosk_id, "records": records}

    def signed(self, method: str, target: str, body: Any = None) -> tuple[bytes, dict[str, str]]:
        raw = b"" if body is None else json.dumps(body).encode("utf-8")
        headers = sign_request(self.key, self.kiosk_id, method, target, self.stamp(), raw)
        if body is not None:
            headers["Content-Type"] = "application/json"
        return raw, headers

    def call(self, client: Any, method: str, target: str, body: Any = None,
             headers: dict[str, str] | None = None) -> Any:
        """A signed request. With ``auto_visit`` (the default), a request for a person's data first
        signs that person in (a typed visit, as a kiosk's flow would on a card read) unless this
        kiosk's current visit is theirs; an answer other than 201 to that is returned instead."""
        person = _person_of(target, body)
        if self.auto_visit and person is not None and person.upper() != self.visit_person:
            opened = self.sign_in(client, person)
            if opened.status_code != 201:
                return opened
        raw, signed = self.signed(method, target, body)
        if self.auto_visit and self.visit_token is not None:
            signed["X-Visit-Token"] = self.visit_token
        return client.request(method, target, content=raw, headers={**signed, **(headers or {})})

    auto_visit = True
    visit_token: str | None = None
    visit_person: str | None = None

    def sign_in(self, client: Any, id_number: str, evidence: str = "typed", name: str | None = None) -> Any:
        """``POST /v1/visits``: this kiosk's visit for one person; keeps the token for later calls."""
        body: dict[str, Any] = {"id_number": id_number, "evidence": evidence}
        if name is not None:
            body["name"] = name
        raw, signed = self.signed("POST", "/v1/visits", body)
        r = client.request("POST", "/v1/visits", content=raw, headers=signed)
        if r.status_code == 201:
            self.visit_token, self.visit_person = r.json()["visit_token"], id_number.upper()
        return r


PERSON_BODY_PATHS = ("/v1/sms/request", "/v1/bank/verify", "/v1/ecard/pin/sessions")


def _person_of(target: str, body: Any) -> str | None:
    """The person a request asks about, if it is one of the visit-bound operations."""
    if target.startswith("/v1/persons/"):
        return target.split("/")[3]
    if target in PERSON_BODY_PATHS and isinstance(body, dict) and isinstance(body.get("id_number"), str):
        return body["id_number"]
    return None


def operator_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def template_b64(seed: int) -> str:
    import numpy as np

    rng = np.random.default_rng(seed)
    vec = rng.standard_normal(128).astype(np.float32)
    return b64e((vec / np.linalg.norm(vec)).astype(np.float32).tobytes())


def make_config(dsn: str, tmp: Path, **sms: Any) -> BackendConfig:
    base = load_backend_config(environ={})
    return dataclasses.replace(
        base,
        database=dataclasses.replace(base.database, dsn=dsn),
        auth=dataclasses.replace(base.auth, operator_token=OPERATOR_TOKEN),
        keys=dataclasses.replace(base.keys, review_private_key=str(tmp / "review.pem")),
        sms=dataclasses.replace(base.sms, code_pepper="pepper", **sms),
        dev=dataclasses.replace(base.dev, endpoints=True),
    )
