"""Seed data for tests and the demo: persons (bound phone, face template, certification state)
and the bank simulator's test accounts. ``kiosk-backend seed FILE.json`` or POST /v1/operator/seed.

File shape::

    {"persons": [{"id_number": "...", "name": "...", "phone": "138...", "card_state": "normal",
                  "retired": true, "certified_until": "2026-01-31" | null, "deceased": false,
                  "district": "...", "address": "...", "face_template": base64 float32[128] | null}],
     "bank_accounts": [{"bank_code": "ICBC", "card_number": "...", "name": "...", "id_number": "...",
                        "phone": "...", "kind": "debit" | "credit"}]}

Seeding is an upsert by key, so running it twice changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from backend.crypto import b64d
from backend.db import bank_test_accounts, persons
from backend.errors import ApiError
from backend.persons import FACE_MODEL, TEMPLATE_BYTES

CARD_STATES = frozenset({"normal", "initial_pin", "pin_locked", "expired", "reported_lost"})
_PERSON_KEYS = {"id_number", "name", "phone", "card_state", "retired", "certified_until", "deceased",
                "district", "address", "face_template", "face_model"}
_ACCOUNT_KEYS = {"bank_code", "card_number", "name", "id_number", "phone", "kind"}


def _bad(where: str, reason: str) -> ApiError:
    return ApiError(422, "malformed", f"seed {where}: {reason}")


def _person_row(i: int, p: Any) -> dict[str, Any]:
    where = f"persons[{i}]"
    if not isinstance(p, dict) or not {"id_number", "name"} <= p.keys():
        raise _bad(where, "needs at least id_number and name")
    if p.keys() - _PERSON_KEYS:
        raise _bad(where, f"unknown keys {sorted(p.keys() - _PERSON_KEYS)}")
    row = {k: p.get(k) for k in _PERSON_KEYS}
    row["id_number"] = str(p["id_number"]).upper()
    row["card_state"] = p.get("card_state", "normal")
    if row["card_state"] not in CARD_STATES:
        raise _bad(where, f"card_state must be one of {sorted(CARD_STATES)}")
    row["retired"] = bool(p.get("retired", False))
    row["deceased"] = bool(p.get("deceased", False))
    if row["certified_until"] is not None:
        try:
            row["certified_until"] = date.fromisoformat(row["certified_until"])
        except (TypeError, ValueError):
            raise _bad(where, "certified_until must be YYYY-MM-DD or null") from None
    if row["face_template"] is not None:
        try:
            row["face_template"] = b64d(row["face_template"])
        except ValueError:
            raise _bad(where, "face_template must be base64") from None
        if len(row["face_template"]) != TEMPLATE_BYTES:
            raise _bad(where, f"face_template must be {TEMPLATE_BYTES} bytes (float32[128])")
        row["face_model"] = p.get("face_model") or FACE_MODEL
    return row


def apply_seed(engine: Engine, data: Any) -> dict[str, int]:
    if not isinstance(data, dict) or set(data) - {"persons", "bank_accounts"}:
        raise _bad("file", "expected {\"persons\": [...], \"bank_accounts\": [...]}")
    person_rows = [_person_row(i, p) for i, p in enumerate(data.get("persons", []))]
    account_rows = []
    for i, a in enumerate(data.get("bank_accounts", [])):
        if not isinstance(a, dict) or set(a) != _ACCOUNT_KEYS - ({"kind"} - set(a)):
            raise _bad(f"bank_accounts[{i}]", f"expected keys {sorted(_ACCOUNT_KEYS)}")
        row = {**a, "kind": a.get("kind", "debit"), "id_number": str(a["id_number"]).upper()}
        if row["kind"] not in ("debit", "credit"):
            raise _bad(f"bank_accounts[{i}]", "kind must be debit or credit")
        account_rows.append(row)
    with engine.begin() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        for row in person_rows:
            stmt = dialect.insert(persons).values(**row)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["id_number"], set_={k: stmt.excluded[k] for k in row if k != "id_number"}))
        for row in account_rows:
            stmt = dialect.insert(bank_test_accounts).values(**row)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["bank_code", "card_number"],
                set_={k: stmt.excluded[k] for k in row if k not in ("bank_code", "card_number")}))
    return {"persons": len(person_rows), "bank_accounts": len(account_rows)}
