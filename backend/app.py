"""The HTTP API (FastAPI). Handlers are thin: they authenticate, then call one service function.

Every refusal has the shape ``{"error": code, "record_id": id or null, "reason": sentence}``.
The OpenAPI description is served at /openapi.json; docs/backend.md is the prose contract.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend import auth, bank, card_loss, ecard, ecard_pin, field, ingest, persons, seed, sms
from backend.clock import format_rfc3339
from backend.context import Services
from backend.crypto import SEALED_ALG, b64e, open_sealed, raw_public_key
from backend.db import dev_sms_outbox, records
from backend.errors import ApiError

log = logging.getLogger(__name__)

ERROR_SCHEMA = {"application/json": {"schema": {"type": "object", "properties": {
    "error": {"type": "string"}, "record_id": {"type": ["string", "null"]}, "reason": {"type": "string"}}}}}
ERRORS = {code: {"description": "refused; see error and reason", "content": ERROR_SCHEMA}
          for code in (401, 403, 404, 409, 422, 429)}


class EnrollBody(BaseModel):
    kiosk_id: str = Field(min_length=1, max_length=64)
    public_key: str = Field(description="base64 of the raw 32-byte Ed25519 public key")
    token: str = Field(description="one-time enrollment token from an operator")


class TokenBody(BaseModel):
    kiosk_id: str | None = Field(default=None, description="restrict the token to this kiosk id")


class SmsRequestBody(BaseModel):
    purpose: Literal["pin_reset", "pin_unblock", "registration", "certification", "phone_check", "card_loss"]
    id_number: str | None = Field(default=None, description="send to the phone bound to this person")
    phone: str | None = Field(default=None, description="or send to this phone")
    verification_id: str | None = Field(default=None, description="or resend for this bank verification")


class SmsVerifyBody(BaseModel):
    request_id: str
    code: str = Field(min_length=1, max_length=12)


class BankVerifyBody(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=15, max_length=18)
    bank_code: str = Field(min_length=1, max_length=16)
    card_number: str = Field(min_length=1, max_length=19)
    phone: str = Field(min_length=1, max_length=20)


class EcardRedeemBody(BaseModel):
    code: str = Field(min_length=1, max_length=400, description="the QR text the kiosk read off the phone")


class EcardPinSessionBody(BaseModel):
    id_number: str = Field(min_length=15, max_length=18, description="the citizen of the current e-card visit")
    purpose: Literal["set", "change", "reset"]


class EcardPinSubmitBody(BaseModel):
    blocks: dict[str, str] = Field(description="hex ISO 9564 format-0 blocks: new, repeat (and old for a change)")
    face_passed: bool | None = Field(default=None, description="reset: the kiosk's face check passed")
    sms_request_id: str | None = Field(default=None, max_length=64, description="reset: the SMS code request")
    sms_code: str | None = Field(default=None, max_length=12, description="reset: the code the citizen typed")


class EcardIssueBody(BaseModel):
    id_number: str = Field(min_length=15, max_length=18)


class RegisterBody(BaseModel):
    verification_id: str
    sms_code: str = Field(min_length=1, max_length=12)


ENVELOPE_SCHEMA = {
    "type": "object",
    "required": ["id", "kiosk_id", "seq", "created_at", "type", "operator_id", "payload", "sig"],
    "properties": {
        "id": {"type": "string", "description": "UUIDv7"},
        "kiosk_id": {"type": "string"},
        "seq": {"type": "integer", "minimum": 1},
        "created_at": {"type": "string", "format": "date-time"},
        "type": {"type": "string"},
        "operator_id": {"type": ["string", "null"]},
        "payload": {"type": "object"},
        "sig": {"type": "string", "description": "base64 Ed25519 over the canonical JSON without sig"},
    },
}


async def kiosk_auth(request: Request) -> str:
    """Dependency: the X-Kiosk-* signature over method, request target, timestamp and body."""
    services: Services = request.app.state.services
    body = await request.body()
    target = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
    if request.scope.get("query_string"):
        target += "?" + request.scope["query_string"].decode("latin-1")
    return await run_in_threadpool(auth.check_kiosk_request, services, request.headers, request.method,
                                   target, body)


def operator_auth(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    auth.check_operator(request.app.state.services, authorization)


Kiosk = Annotated[str, Depends(kiosk_auth)]
Operator = Annotated[None, Depends(operator_auth)]


def create_app(services: Services) -> FastAPI:
    app = FastAPI(title="Social-security card kiosk backend", version="1",
                  description="Central backend for the 社会保障卡 self-service kiosks. See docs/backend.md.")
    app.state.services = services

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        reason = f"{where}: {first.get('msg', 'invalid')}" if where else first.get("msg", "invalid request")
        return JSONResponse({"error": "malformed", "record_id": None, "reason": reason}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": code, "record_id": None, "reason": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(OperationalError)
    async def _db_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable", extra={"exc_type": type(exc).__name__})
        return JSONResponse({"error": "service_unavailable", "record_id": None,
                             "reason": "the backend's database is unavailable; try again later"}, status_code=503)

    @app.exception_handler(DBAPIError)
    async def _db_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        log.error("database error", extra={"exc_type": type(exc.orig).__name__ if exc.orig else "DBAPIError"})
        return JSONResponse({"error": "service_unavailable", "record_id": None,
                             "reason": "the backend could not complete the request; try again later"}, status_code=503)

    @app.get("/v1/health", tags=["ops"])
    def health() -> dict[str, Any]:
        """Liveness and the backend's clock (kiosk doctor compares it with its own)."""
        with services.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"status": "ok", "time": format_rfc3339(services.clock())}

    @app.get("/v1/keys/review", tags=["kiosk"])
    def review_key() -> dict[str, str]:
        """The backend's X25519 public key: kiosks seal review captures to it."""
        return {"alg": SEALED_ALG, "public_key": b64e(raw_public_key(services.review_key))}

    @app.post("/v1/kiosks/enroll", status_code=201, tags=["kiosk"], responses=ERRORS)
    def enroll(body: EnrollBody) -> dict[str, Any]:
        return auth.enroll_kiosk(services, body.kiosk_id, body.public_key, body.token)

    @app.post("/v1/records:batch", tags=["kiosk"], responses={**ERRORS, 413: ERRORS[422]},
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                  "type": "object", "required": ["kiosk_id", "records"],
                  "properties": {"kiosk_id": {"type": "string"},
                                 "records": {"type": "array", "items": ENVELOPE_SCHEMA}}}}}}})
    async def records_batch(request: Request) -> dict[str, Any]:
        """Ingest signed records, idempotent by id; the whole batch is validated before any write."""
        raw = await request.body()
        if len(raw) > services.config.ingest.max_body_bytes:
            raise ApiError(413, "batch_too_large",
                           f"the batch is over {services.config.ingest.max_body_bytes} bytes; send fewer records")
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(422, "malformed", "the body is not JSON") from None
        return await run_in_threadpool(ingest.ingest_batch, services, body)

    @app.get("/v1/persons/{id_number}/summary", tags=["kiosk"], responses=ERRORS)
    def person_summary(id_number: str, _kiosk: Kiosk) -> dict[str, Any]:
        return persons.summary(services, id_number)

    @app.get("/v1/persons/{id_number}/face-template", tags=["kiosk"], responses=ERRORS)
    def person_face_template(id_number: str, _kiosk: Kiosk) -> dict[str, Any]:
        return persons.face_template(services, id_number)

    @app.post("/v1/sms/request", tags=["kiosk"], responses=ERRORS)
    def sms_request(body: SmsRequestBody, kiosk: Kiosk) -> dict[str, Any]:
        """Send a one-time code to the bound phone (id_number), to a phone, or again for a bank verification."""
        targets = [t for t in (body.id_number, body.phone, body.verification_id) if t is not None]
        if len(targets) != 1:
            raise ApiError(422, "malformed", "give exactly one of id_number, phone or verification_id")
        if body.verification_id is not None:
            return bank.resend_registration_code(services, kiosk, body.verification_id)
        if body.id_number is not None:
            phone = sms.bound_phone(services, body.id_number.upper())
        else:
            phone = body.phone
            if not sms.valid_phone(phone):
                raise ApiError(422, "malformed", "phone must be an 11-digit mainland mobile number")
        return sms.issue_code(services, kiosk, body.purpose, phone)[1]

    @app.post("/v1/sms/verify", tags=["kiosk"], responses=ERRORS)
    def sms_verify(body: SmsVerifyBody, kiosk: Kiosk) -> dict[str, Any]:
        return sms.verify_code(services, kiosk, body.request_id, body.code)

    @app.post("/v1/bank/verify", tags=["kiosk"], responses=ERRORS)
    def bank_verify(body: BankVerifyBody, kiosk: Kiosk) -> dict[str, Any]:
        return bank.verify_bank_card(services, kiosk, body.model_dump())

    @app.post("/v1/accounts/register", tags=["kiosk"], responses=ERRORS)
    def account_register(body: RegisterBody, kiosk: Kiosk) -> dict[str, Any]:
        return bank.register_account(services, kiosk, body.verification_id, body.sms_code)

    @app.get("/v1/roster", tags=["kiosk"], responses=ERRORS)
    def roster(_kiosk: Kiosk, districts: Annotated[str, Query(description="comma-separated district names")]
               ) -> dict[str, Any]:
        wanted = [d.strip() for d in districts.split(",") if d.strip()]
        if not wanted:
            raise ApiError(422, "malformed", "give at least one district: ?districts=A,B")
        return persons.roster(services, wanted)

    @app.get("/v1/keys/field-signing", tags=["kiosk"])
    def field_signing_key() -> dict[str, str]:
        """The Ed25519 key that signs the field operator list (kiosks check a sign-in offline with it)."""
        return field.signing_public_key(services)

    @app.get("/v1/keys/ecard-platform", tags=["kiosk"])
    def ecard_platform_key() -> dict[str, str]:
        """The e-card platform's issuer name and Ed25519 key: kiosks verify sign-in codes offline with it."""
        return ecard.platform_key(services)

    @app.post("/v1/ecard/redeem", tags=["kiosk"], responses=ERRORS)
    def ecard_redeem(body: EcardRedeemBody, kiosk: Kiosk) -> dict[str, Any]:
        """Spend a dynamic e-card sign-in code once: the citizen it names (409 if used before)."""
        return ecard.redeem_code(services, kiosk, body.code)

    @app.post("/v1/ecard/pin/sessions", tags=["kiosk"], responses={**ERRORS, 423: ERRORS[409]})
    def ecard_pin_session(body: EcardPinSessionBody, kiosk: Kiosk) -> dict[str, Any]:
        """A one-use working key for an e-card PIN operation, wrapped under this kiosk's e-card pad key."""
        return ecard_pin.open_session(services, kiosk, body.id_number, body.purpose)

    @app.post("/v1/ecard/pin/sessions/{session_id}", tags=["kiosk"], responses={**ERRORS, 423: ERRORS[409]})
    def ecard_pin_submit(session_id: str, body: EcardPinSubmitBody, kiosk: Kiosk) -> dict[str, Any]:
        """Set, change or reset the e-card PIN from the pad's PIN blocks (decrypted only here)."""
        return ecard_pin.submit(services, kiosk, session_id, body.model_dump())

    @app.put("/v1/operator/kiosks/{kiosk_id}/ecard-pin-key", tags=["operator"], responses=ERRORS)
    def ecard_pad_key(_op: Operator, kiosk_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Key ceremony: the custodians' components of a kiosk pad's e-card PIN master key, and its KCV."""
        return ecard_pin.register_pad_key(services, kiosk_id, body)

    @app.get("/v1/field/operators", tags=["kiosk"], responses=ERRORS)
    def field_operator_list(_kiosk: Kiosk) -> dict[str, Any]:
        """The signed list of active field operators (hashes only), for offline sign-in (docs/field.md)."""
        return field.operator_list(services)

    @app.put("/v1/operator/field-operators/{operator_id}", tags=["operator"], responses=ERRORS)
    def field_operator_upsert(_op: Operator, operator_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or change a field operator: name, password and/or staff card ID, districts, active."""
        return field.upsert_operator(services, operator_id, body)

    @app.post("/v1/operator/enrollment-tokens", status_code=201, tags=["operator"], responses=ERRORS)
    def enrollment_token(_op: Operator, body: TokenBody | None = None) -> dict[str, Any]:
        return auth.issue_enrollment_token(services, body.kiosk_id if body else None)

    @app.get("/v1/operator/card-loss/{id_number}", tags=["operator"], responses=ERRORS)
    def operator_card_loss(_op: Operator, id_number: str) -> dict[str, Any]:
        """The card's state and its last temporary loss report (backend/card_loss.py)."""
        return card_loss.status(services, id_number)

    @app.get("/v1/operator/records", tags=["operator"], responses=ERRORS)
    def operator_records(_op: Operator, person: str | None = None, kiosk: str | None = None,
                         day: date | None = None, limit: Annotated[int, Query(ge=1, le=5000)] = 1000
                         ) -> dict[str, Any]:
        """Records by person (ID number), kiosk and/or day (UTC, of the kiosk's created_at)."""
        if person is None and kiosk is None and day is None:
            raise ApiError(422, "malformed", "filter by at least one of person, kiosk, day")
        query = sa.select(records).order_by(records.c.kiosk_id, records.c.seq).limit(limit)
        if person is not None:
            query = query.where(records.c.person_id == person.upper())
        if kiosk is not None:
            query = query.where(records.c.kiosk_id == kiosk)
        if day is not None:
            query = query.where(records.c.day == day.isoformat())
        with services.reader.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return {"records": [{
            "record": ingest.envelope_of(r["envelope"]), "outcome": r["outcome"], "message": r["message"],
            "received_at": format_rfc3339(r["received_at"])} for r in rows]}

    @app.get("/v1/operator/records/{record_id}/sealed/{field}", tags=["operator"], responses=ERRORS,
             response_class=Response)
    def operator_open_sealed(_op: Operator, record_id: str, field: str) -> Response:
        """Decrypt a sealed payload field (a review capture) for staff review; bytes as sent by the kiosk."""
        with services.engine.connect() as conn:
            envelope = conn.execute(sa.select(records.c.envelope).where(records.c.id == record_id)).scalar()
        if envelope is None:
            raise ApiError(404, "unknown_record", "no record with this id")
        sealed = ingest.envelope_of(envelope)["payload"].get(field)
        if not isinstance(sealed, dict) or "enc" not in sealed:
            raise ApiError(404, "not_sealed", f"the record has no sealed field {field!r}")
        try:
            plain = open_sealed(services.review_key, sealed)
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError(422, "cannot_open", f"the sealed field does not open with this backend's key: {exc}") \
                from None
        log.info("sealed field opened", extra={"record": record_id, "field_name": field})
        return Response(plain, media_type="application/octet-stream")

    if services.config.dev_endpoints:
        @app.post("/v1/operator/seed", tags=["dev"], responses=ERRORS)
        def operator_seed(_op: Operator, body: dict[str, Any]) -> dict[str, int]:
            """Load persons and bank test accounts (upsert); for tests and the demo (dev.endpoints)."""
            return seed.apply_seed(services.engine, body)

        @app.post("/v1/dev/ecard/codes", tags=["dev"], responses=ERRORS)
        def dev_ecard_code(_op: Operator, body: EcardIssueBody) -> dict[str, Any]:
            """A dynamic e-card code for a person, as the platform's phone app would get one (demo, tests)."""
            return ecard.issue_code(services, body.id_number)

        @app.get("/v1/dev/sms-outbox", tags=["dev"], responses=ERRORS)
        def dev_outbox(_op: Operator, phone: str | None = None, after_id: int = 0) -> dict[str, Any]:
            """Messages the development SMS gateway 'sent' (enabled by dev.endpoints)."""
            query = sa.select(dev_sms_outbox).where(dev_sms_outbox.c.id > after_id).order_by(dev_sms_outbox.c.id)
            if phone is not None:
                query = query.where(dev_sms_outbox.c.phone == phone)
            with services.engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
            return {"messages": [{"id": r["id"], "phone": r["phone"], "text": r["text"],
                                  "sent_at": format_rfc3339(r["sent_at"])} for r in rows]}

    return app
