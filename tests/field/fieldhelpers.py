"""Helpers for the field tests (a module name unique in the suite)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk.field.credentials import card_id_hash, hash_password


def signed_operator_list(review_key: X25519PrivateKey, operators: list[dict[str, Any]],
                         issued: float | None = None, valid_days: int = 30) -> dict[str, Any]:
    """The list exactly as backend.field.operator_list signs it (its own signing key derivation)."""
    from backend.field import signing_key
    from kiosk.field.credentials import operator_list_signing_bytes

    when = datetime.fromtimestamp(issued if issued is not None else time.time(), UTC)
    doc: dict[str, Any] = {
        "issued_at": when.isoformat().replace("+00:00", "Z"),
        "valid_until": (when + timedelta(days=valid_days)).isoformat().replace("+00:00", "Z"),
        "operators": [{"operator_id": o["operator_id"], "name": o["name"],
                       "password_hash": hash_password(o["password"]) if o.get("password") else None,
                       "card_id_sha256": card_id_hash(o["card"]) if o.get("card") else None,
                       "districts": o.get("districts", [])} for o in operators]}
    doc["sig"] = base64.b64encode(signing_key(review_key).sign(operator_list_signing_bytes(doc))).decode()
    return doc


def signing_key_b64(review_key: X25519PrivateKey) -> str:
    from backend.crypto import raw_public_key
    from backend.field import signing_key

    return base64.b64encode(raw_public_key(signing_key(review_key))).decode()


def store_list(store: Any, doc: dict[str, Any]) -> None:
    from kiosk.field.operators import META_LIST

    store.set_meta(META_LIST, json.dumps(doc, ensure_ascii=False, sort_keys=True))


def _template(seed: int) -> str:
    import numpy as np

    v = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
    return base64.b64encode((v / np.linalg.norm(v)).astype(np.float32).tobytes()).decode()


def roster_answer(n: int, district: str = "天河区") -> dict[str, Any]:
    """A roster as GET /v1/roster answers it, with random (but well-formed) templates."""
    persons = []
    for i in range(n):
        idn = f"4401061950{i:06d}"[:16] + f"{i % 100:02d}"
        persons.append({"id_number": idn, "id_masked": idn[:4] + "*" * 10 + idn[-4:], "name": f"测试人{i:04d}",
                        "district": district, "address": f"{district}花园路{i}号", "due_date": "2026-12-31",
                        "template": _template(i), "model": "sface_2021dec"})
    return {"generated_at": "2026-11-23T08:00:00Z", "districts": [district], "persons": persons}


class Clock:
    """A clock the test moves by hand (time is an input, not a device)."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
