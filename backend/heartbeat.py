"""Kiosk heartbeats: ``POST /v1/kiosks/heartbeat``, signed like every online kiosk request.

A kiosk sends one on a timer and at once on every device status change (kiosk/heartbeat.py).
Each is kept as a row (the fleet page shows a kiosk's history from them); the clock drift is
measured here, as the kiosk's ``sent_at`` minus the backend's clock on arrival, so a kiosk cannot
misreport it. A heartbeat that waited offline says so (``queued_since``): the drift is then taken
from the signature's timestamp, which is fresh on every send.
"""

from __future__ import annotations

import json
import math
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from backend import auth
from backend.clock import format_rfc3339, parse_rfc3339
from backend.context import Services
from backend.db import BigId, UtcDateTime, metadata
from backend.errors import ApiError

kiosk_heartbeats = sa.Table(
    "kiosk_heartbeats", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kiosk_id", sa.String(64), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("sent_at", UtcDateTime(), nullable=False),           # kiosk clock when it was signed
    sa.Column("reason", sa.String(20), nullable=False),             # timer | status_change | start
    sa.Column("clock_drift_s", sa.Float(), nullable=False),         # kiosk clock - backend clock
    sa.Column("software_version", sa.String(64), nullable=False),
    sa.Column("release_sha256", sa.String(64)),
    sa.Column("models", sa.Text(), nullable=False),                 # JSON {file: sha256}
    sa.Column("devices", sa.Text(), nullable=False),                # JSON {name: status}
    sa.Column("outbox_depth", sa.Integer(), nullable=False),
    sa.Column("oldest_unsent_age_s", sa.Float()),
    sa.Column("last_sync_at", UtcDateTime()),
    sa.Column("free_disk_bytes", sa.BigInteger()),
    # Records the backend refused for good and the kiosk dead-lettered (count, and the latest few as
    # JSON [{seq, type, reason, dead_at}]): the reasons name a field, never a value.
    sa.Column("dead_letters", sa.Integer()),
    sa.Column("dead_letter_detail", sa.Text()),
)
sa.Index("ix_heartbeats_kiosk_time", kiosk_heartbeats.c.kiosk_id, kiosk_heartbeats.c.received_at)

REASONS = frozenset({"timer", "status_change", "start"})
MAX_BODY = 16_384
MAX_NUMBER = 2**53            # counts and bytes: exact in JSON and in a bigint column
MAX_DEPTH = 2**31 - 1         # the outbox depth column is a 32-bit integer
MAX_DEAD_SHOWN = 10           # dead letters a heartbeat carries (the latest); the count carries the rest
_DEAD_LETTER = {"type": "object", "required": ["seq", "type", "reason"], "additionalProperties": False,
                "properties": {"seq": {"type": "integer", "description": "the record's seq as the kiosk "
                                       "holds it (a refused record's seq may be out of range: that can be why)"},
                               "type": {"type": "string", "maxLength": 40},
                               "reason": {"type": "string", "maxLength": 300},
                               "dead_at": {"type": ["string", "null"], "maxLength": 64}}}
_SHORT_MAP = {"type": "object", "maxProperties": 32,
              "additionalProperties": {"type": "string", "maxLength": 80}, "propertyNames": {"maxLength": 64}}
_NUMBER = {"type": "number", "minimum": 0, "maximum": MAX_NUMBER}
# What record_heartbeat accepts, published in the OpenAPI description (the route reads the raw
# body itself: the signature covers those exact bytes).
HEARTBEAT_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["reason", "software", "outbox"],
    "properties": {
        "reason": {"enum": ["start", "status_change", "timer"]},
        "software": {"type": "object", "required": ["version"], "properties": {
            "version": {"type": "string", "maxLength": 64},
            "sha256": {"type": ["string", "null"], "maxLength": 64}}},
        "models": _SHORT_MAP,
        "devices": _SHORT_MAP,
        "outbox": {"type": "object", "required": ["depth"], "properties": {
            "depth": {**_NUMBER, "maximum": MAX_DEPTH}, "oldest_unsent_age_s": {**_NUMBER, "type": ["number", "null"]},
            "dead": {**_NUMBER, "type": "integer", "maximum": MAX_DEPTH},
            "dead_letters": {"type": "array", "maxItems": MAX_DEAD_SHOWN, "items": _DEAD_LETTER}}},
        "free_disk_bytes": {**_NUMBER, "type": ["number", "null"]},
        "last_sync_at": {"type": ["string", "null"], "maxLength": 64,
                         "description": "RFC 3339; an unreadable value is stored as unknown"},
    },
}


def _str_map(value: Any, name: str, limit: int = 32) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > limit or not all(
            isinstance(k, str) and isinstance(v, str) and len(k) <= 64 and len(v) <= 80 for k, v in value.items()):
        raise ApiError(422, "malformed", f"{name} must be an object of at most {limit} short strings")
    return value


def _number(body: dict[str, Any], key: str, *, optional: bool = False, maximum: float = MAX_NUMBER) -> float | None:
    value = body.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= maximum:
        raise ApiError(422, "malformed", f"{key} must be a number from 0 to {maximum}")
    return float(value)


def _whole(value: Any, low: float, high: float) -> bool:
    """A JSON integer (JSON Schema counts 3.0 as one) within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return (isinstance(value, int) or value.is_integer()) and low <= value <= high


def _dead_letters(outbox: dict[str, Any]) -> tuple[int | None, str | None]:
    """(count, JSON of the latest few) of the kiosk's dead letters; (None, None) from a kiosk that
    does not report them (older software)."""
    if "dead" not in outbox and "dead_letters" not in outbox:
        return None, None
    count = outbox.get("dead", 0)
    if not _whole(count, 0, MAX_DEPTH):
        raise ApiError(422, "malformed", f"outbox.dead must be a whole number from 0 to {MAX_DEPTH}")
    items = outbox.get("dead_letters", [])
    if not isinstance(items, list) or len(items) > MAX_DEAD_SHOWN:
        raise ApiError(422, "malformed", f"outbox.dead_letters must be a list of at most {MAX_DEAD_SHOWN} items")
    shown = []
    for item in items:
        ok = (isinstance(item, dict) and set(item) <= {"seq", "type", "reason", "dead_at"}
              and _whole(item.get("seq"), -math.inf, math.inf)
              and isinstance(item.get("type"), str) and len(item["type"]) <= 40
              and isinstance(item.get("reason"), str) and len(item["reason"]) <= 300
              and (item.get("dead_at") is None or (isinstance(item["dead_at"], str) and len(item["dead_at"]) <= 64)))
        if not ok:
            raise ApiError(422, "malformed", "each outbox.dead_letters item must be {seq: integer, "
                                             "type: string <= 40, reason: string <= 300, dead_at: string or null}")
        shown.append({"seq": int(item["seq"]), "type": item["type"], "reason": item["reason"],
                      "dead_at": item.get("dead_at")})
    # ASCII-escaped JSON: a NUL or a lone surrogate in a reason is stored as text, never refused by SQL.
    return int(count or 0), json.dumps(shown)


def record_heartbeat(services: Services, kiosk_id: str, signed_at: str, body: Any) -> dict[str, Any]:
    """Validate and store one heartbeat; answers the backend's time so the kiosk can log drift."""
    if not isinstance(body, dict):
        raise ApiError(422, "malformed", "the heartbeat must be a JSON object")
    reason = body.get("reason")
    if not isinstance(reason, str) or reason not in REASONS:
        raise ApiError(422, "malformed", f"reason must be one of {sorted(REASONS)}")
    software = body.get("software") or {}
    if not isinstance(software, dict) or not isinstance(software.get("version"), str) \
            or len(software["version"]) > 64:
        raise ApiError(422, "malformed", "software must be {\"version\": str, \"sha256\": str or null}")
    sha = software.get("sha256")
    if sha is not None and (not isinstance(sha, str) or len(sha) > 64):
        raise ApiError(422, "malformed", "software.sha256 must be a hex digest or null")
    models = _str_map(body.get("models", {}), "models")
    devices = _str_map(body.get("devices", {}), "devices")
    outbox = body.get("outbox") or {}
    if not isinstance(outbox, dict):
        raise ApiError(422, "malformed", "outbox must be {\"depth\", \"oldest_unsent_age_s\"}")
    depth = _number(outbox, "depth", maximum=MAX_DEPTH)
    oldest = _number(outbox, "oldest_unsent_age_s", optional=True)
    dead, dead_detail = _dead_letters(outbox)
    free_disk = _number(body, "free_disk_bytes", optional=True)
    last_sync = None
    raw_sync = body.get("last_sync_at")
    if raw_sync is not None and (not isinstance(raw_sync, str) or len(raw_sync) > 64):
        raise ApiError(422, "malformed", "last_sync_at must be an RFC 3339 string or null")
    if raw_sync:
        try:
            last_sync = parse_rfc3339(raw_sync.upper())
        except ValueError:
            # Informational only: an unreadable time is kept as "unknown", the heartbeat is not lost.
            last_sync = None
    now = services.clock()
    sent_at = parse_rfc3339(signed_at)      # already checked by the signature: fresh on every send
    with services.engine.begin() as conn:
        conn.execute(kiosk_heartbeats.insert().values(
            kiosk_id=kiosk_id, received_at=now, sent_at=sent_at, reason=reason,
            clock_drift_s=round((sent_at - now).total_seconds(), 3),
            software_version=software["version"][:64], release_sha256=sha,
            models=json.dumps(models, sort_keys=True), devices=json.dumps(devices, sort_keys=True),
            outbox_depth=int(depth or 0), oldest_unsent_age_s=oldest, last_sync_at=last_sync,
            free_disk_bytes=int(free_disk) if free_disk is not None else None,
            dead_letters=dead, dead_letter_detail=dead_detail))
    return {"status": "recorded", "time": format_rfc3339(now)}


def router(services: Services) -> APIRouter:
    api = APIRouter()

    async def _signed_kiosk(request: Request) -> tuple[str, str, bytes]:
        body = await request.body()
        if len(body) > MAX_BODY:
            raise ApiError(413, "heartbeat_too_large", f"a heartbeat is at most {MAX_BODY} bytes")
        target = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        kiosk_id = await run_in_threadpool(auth.check_kiosk_request, services, request.headers, request.method,
                                           target, body)
        return kiosk_id, request.headers["x-kiosk-timestamp"], body

    _signed_kiosk.kiosk_signed = True       # type: ignore[attr-defined]  (backend/openapi.py: kiosk security)

    @api.post("/v1/kiosks/heartbeat", tags=["kiosk"], openapi_extra={"requestBody": {
        "required": True, "content": {"application/json": {"schema": HEARTBEAT_SCHEMA}}}})
    async def heartbeat(signed: tuple[str, str, bytes] = Depends(_signed_kiosk)) -> dict[str, Any]:
        """A kiosk's state: versions, device statuses, outbox depth and age, last sync, free disk."""
        kiosk_id, stamp, raw = signed
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(422, "malformed", "the body is not JSON") from None
        return await run_in_threadpool(record_heartbeat, services, kiosk_id, stamp, body)

    return api
