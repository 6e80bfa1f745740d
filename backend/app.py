"""The HTTP API (FastAPI). Handlers are thin: they authenticate, then call one service function.

Every refusal has the shape ``{"error": code, "record_id": id or null, "reason": sentence}``.
The OpenAPI description is served at /openapi.json; docs/backend.md is the prose contract.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi import Path as FPath
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend import (
    auth,
    bank,
    card_loss,
    dberrors,
    ecard,
    ecard_pin,
    field,
    ingest,
    lockouts,
    openapi,
    persons,
    seed,
    sms,
    validate,
    visits,
)
from backend.clock import format_rfc3339
from backend.context import Services
from backend.crypto import SEALED_ALG, b64e, open_sealed, raw_public_key
from backend.db import dev_sms_outbox, records
from backend.errors import ApiError
from backend.limits import BATCH_PATH, BodyLimit

log = logging.getLogger(__name__)

ERROR_SCHEMA = {"application/json": {"schema": {"type": "object", "properties": {
    "error": {"type": "string"}, "record_id": {"type": ["string", "null"]}, "reason": {"type": "string"},
    "field": {"type": "string", "description": "the record's field at fault, where one is"}}}}}
ERRORS = {code: {"description": "refused; see error and reason", "content": ERROR_SCHEMA}
          for code in (401, 403, 404, 409, 422, 429)}


# Bodies are strict (no "1" for 1, no "true" for true) and closed (no unknown keys): what the
# published schema says is exactly what is accepted (tests/backend/test_backend_contract.py).
STRICT = ConfigDict(strict=True, extra="forbid")
ID_NUMBER = r"^([0-9]{15}|[0-9]{17}[0-9Xx])$"
KIOSK_ID = r"^[!-~]{1,64}$"          # printable ASCII, no space
PHONE = r"^1[0-9]{10}$"


class EnrollBody(BaseModel):
    model_config = STRICT
    kiosk_id: str = Field(min_length=1, max_length=64, pattern=KIOSK_ID)
    public_key: str = Field(pattern=r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$",
                            description="base64 of the raw 32-byte Ed25519 public key")
    token: str = Field(min_length=1, max_length=200, description="one-time enrollment token from an operator")
    old_key_signature: str | None = Field(
        default=None, description="re-keying: base64 Ed25519 by the kiosk's current key over "
                                  "'sscard-kiosk rekey v1\\n{kiosk_id}\\n{public_key}'")


class VisitBody(BaseModel):
    model_config = STRICT
    id_number: str = Field(pattern=ID_NUMBER, description="the person signing in")
    evidence: Literal["sscard", "id_card", "typed"] = Field(
        description="how: the social-security card or resident ID card read (name required, must match the "
                    "bureau's record), or a typed number (retiree certification, decided by the face match)")
    name: str | None = Field(default=None, min_length=1, max_length=64, description="the holder's name on the card")


class RotateKeyBody(BaseModel):
    model_config = STRICT
    public_key: str = Field(pattern=r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$",
                            description="base64 of the new raw 32-byte Ed25519 public key")
    proof: str = Field(pattern=r"^[A-Za-z0-9+/]{85}[AQgw]==$",
                       description="the new key's signature over 'sscard-kiosk rotate v1\\n{kiosk_id}\\n{public_key}'")


class TokenBody(BaseModel):
    model_config = STRICT
    kiosk_id: str = Field(min_length=1, max_length=64, pattern=KIOSK_ID, description="the one kiosk id the token enrolls")
    role: Literal["office", "field"] = Field(default="office", description="what the kiosk may do")
    rekey: bool = Field(default=False, description="may replace the key of this already enrolled kiosk")


class SmsRequestBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", json_schema_extra={"oneOf": [
        {"required": [name], "properties": {name: {"type": "string"}}}
        for name in ("id_number", "phone", "verification_id")]})
    purpose: Literal["pin_reset", "pin_unblock", "registration", "certification", "phone_check", "card_loss",
                     "ecard_pin_reset"]
    id_number: str | None = Field(default=None, pattern=ID_NUMBER, description="send to the phone bound to this person")
    phone: str | None = Field(default=None, pattern=PHONE, description="or send to this phone")
    verification_id: str | None = Field(default=None, description="or resend for this bank verification")


class SmsVerifyBody(BaseModel):
    model_config = STRICT
    request_id: str
    code: str = Field(min_length=1, max_length=12)


class BankVerifyBody(BaseModel):
    model_config = STRICT
    # None only in an e-card visit: the kiosk then knows only the masked name; the bank is asked with
    # the bureau's record of the visit's person (the redemption proved who it is).
    name: str | None = Field(default=None, min_length=1, max_length=64)
    id_number: str = Field(pattern=ID_NUMBER)
    bank_code: str = Field(min_length=1, max_length=16, description="one of the cooperating banks (enum)")
    card_number: str = Field(pattern=r"^[0-9]{12,19}$")
    phone: str = Field(pattern=PHONE)


class EcardRedeemBody(BaseModel):
    model_config = STRICT
    code: str = Field(pattern=r"^ESSC1:[A-Z2-7]{100,394}$", description="the QR text the kiosk read off the phone")


class EcardPinSessionBody(BaseModel):
    model_config = STRICT
    id_number: str = Field(pattern=ID_NUMBER, description="the citizen of the current e-card visit")
    purpose: Literal["set", "change", "reset"]


class EcardPinSubmitBody(BaseModel):
    model_config = STRICT
    blocks: dict[str, str] = Field(description="hex ISO 9564 format-0 blocks: new, repeat (and old for a change)")
    face_passed: bool | None = Field(default=None, description="reset: the kiosk's face check passed")
    sms_request_id: str | None = Field(default=None, max_length=64,
                                       description="reset: the ecard_pin_reset SMS request this kiosk verified")


class EcardPadKeyBody(BaseModel):
    model_config = STRICT
    algorithm: Literal["sm4", "3des"]
    components: list[Annotated[str, Field(pattern=r"^[0-9A-Fa-f]{32}$")]] = Field(
        min_length=2, max_length=3, description="one hex key component (16 bytes) per custodian")
    kcv: str = Field(pattern=r"^[0-9A-Fa-f]{6,16}$", description="the pad's check value of the combined key")


class EcardIssueBody(BaseModel):
    model_config = STRICT
    id_number: str = Field(pattern=ID_NUMBER)


class RegisterBody(BaseModel):
    model_config = STRICT
    verification_id: str
    sms_code: str = Field(min_length=1, max_length=12)


class FieldOperatorBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", json_schema_extra={"anyOf": [
        {"required": [name], "properties": {name: {"type": "string"}}} for name in ("password", "card_id_number")]})
    name: str = Field(min_length=1, max_length=64, pattern=r"\S")
    password: str | None = Field(default=None, min_length=8, max_length=200)
    card_id_number: str | None = Field(default=None, pattern=ID_NUMBER)
    districts: list[str] = Field(default_factory=list)
    active: bool = True


ENVELOPE_SCHEMA = {
    "type": "object",
    "required": ["id", "kiosk_id", "seq", "created_at", "type", "operator_id", "payload", "sig"],
    "properties": {
        "id": {"type": "string", "description": "UUIDv7, lower case",
               "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"},
        "kiosk_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "seq": {"type": "integer", "minimum": 1, "maximum": 2**53 - 1},
        "created_at": {"type": "string", "format": "date-time", "pattern": "^20[0-9]{2}-",
                       "description": "RFC 3339 with offset, years 2000-2099"},
        "type": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"},
        "operator_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 64},
        "payload": {"type": "object", "properties": {"id_number": {"type": "string", "pattern": ID_NUMBER}},
                    "description": "no NUL or lone surrogate in any string; at most 1 MB per record"},
        "sig": {"type": "string", "pattern": "^[A-Za-z0-9+/]{85}[AQgw]==$",
                "description": "base64 Ed25519 over the canonical JSON without sig"},
    },
    "additionalProperties": False,
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
VisitToken = Annotated[str | None, Header(alias="X-Visit-Token", max_length=64,
                                          description="this kiosk's current visit (POST /v1/visits)")]
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
        body = {"error": "malformed", "record_id": None, "reason": reason}
        if where:
            body["field"] = where.removeprefix("path.").removeprefix("query.").removeprefix("header.")
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": code, "record_id": None, "reason": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))   # 405 keeps its Allow header

    @app.exception_handler(DBAPIError)
    async def _db_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        # Only a lost or refused database connection is 503 (the kiosk retries); a value the
        # database cannot hold is the request's fault (4xx), anything else a logged 500.
        status, code, reason = dberrors.classify(exc)
        level = logging.ERROR if status >= 500 else logging.WARNING
        log.log(level, "database error", extra={"exc_type": type(exc.orig).__name__ if exc.orig else "DBAPIError",
                                                "status": status, "sqlstate": dberrors.sqlstate(exc)})
        return JSONResponse({"error": code, "record_id": None, "reason": reason}, status_code=status)

    app.add_middleware(BodyLimit, limits=lambda path: services.config.ingest.max_body_bytes
                       if path == BATCH_PATH or path.startswith("/v1/operator/")
                       else services.config.ingest.max_request_bytes)

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
        return auth.enroll_kiosk(services, body.kiosk_id, body.public_key, body.token, body.old_key_signature)

    slots: dict[str, Any] = {"loop": None, "semaphore": None}

    def ingest_slots() -> asyncio.Semaphore:
        """The semaphore of this event loop (a test may stop the server and start it on a new loop)."""
        loop = asyncio.get_running_loop()
        if slots["loop"] is not loop:
            slots["loop"], slots["semaphore"] = loop, asyncio.Semaphore(services.config.ingest.concurrent_batches)
        return slots["semaphore"]

    @app.post("/v1/records:batch", tags=["kiosk"], responses={**ERRORS, 413: ERRORS[422]},
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                  "type": "object", "required": ["kiosk_id", "records"], "additionalProperties": False,
                  "properties": {"kiosk_id": {"type": "string"},
                                 "records": {"type": "array", "items": ENVELOPE_SCHEMA, "minItems": 1,
                                             "maxItems": services.config.ingest.max_batch}}}}}}})
    async def records_batch(request: Request) -> dict[str, Any]:
        """Ingest signed records, idempotent by id; the whole batch is validated before any write."""
        raw = await request.body()
        if len(raw) > services.config.ingest.max_body_bytes:
            raise ApiError(413, "batch_too_large",
                           f"the batch is over {services.config.ingest.max_body_bytes} bytes; send fewer records")
        try:
            body = validate.loads(raw, check=False)   # each record is checked by itself
        except validate.Unstorable as exc:
            raise ApiError(422, "malformed", f"the body is not acceptable JSON: {exc}") from None
        # Rendered here: FastAPI's validation and encoding of a 500-result answer cost more replica
        # CPU per record than storing it (bench/backend_ingest.py); the shape is ingest's own.
        # At most ingest.concurrent_batches threads at once: dozens of batches in threads of one
        # process spend their CPU fighting over the GIL; the rest wait here, on the event loop.
        async with ingest_slots():
            return JSONResponse(await run_in_threadpool(ingest.ingest_batch, services, body))  # type: ignore[return-value]

    @app.post("/v1/kiosks/rotate-key", tags=["kiosk"], responses=ERRORS)
    def kiosk_rotate_key(body: RotateKeyBody, kiosk: Kiosk) -> dict[str, Any]:
        """The kiosk replaces its own signing key: signed with the current key, the new key's proof inside.
        From the answer on, only the new key signs for this kiosk (records not yet uploaded must be sent first)."""
        return auth.rotate_key(services, kiosk, body.public_key, body.proof)

    @app.get("/v1/kiosks/me", tags=["kiosk"], responses=ERRORS)
    def kiosk_me(kiosk: Kiosk) -> dict[str, Any]:
        """The calling kiosk as the backend knows it: its role and the last seq it acknowledged
        (a kiosk checks its local counter against it at start: a damaged store must not reuse seqs)."""
        return auth.kiosk_state(services, kiosk)

    @app.get("/v1/persons/{id_number}/summary", tags=["kiosk"], responses=ERRORS)
    def person_summary(id_number: Annotated[str, FPath(pattern=ID_NUMBER)], kiosk: Kiosk,
                       x_visit_token: VisitToken = None) -> dict[str, Any]:
        visits.require(services, kiosk, x_visit_token, id_number, "person_summary")
        return persons.summary(services, id_number)

    @app.get("/v1/persons/{id_number}/face-template", tags=["kiosk"], responses=ERRORS)
    def person_face_template(id_number: Annotated[str, FPath(pattern=ID_NUMBER)], kiosk: Kiosk,
                             x_visit_token: VisitToken = None) -> dict[str, Any]:
        visits.require(services, kiosk, x_visit_token, id_number, "face_template")
        return persons.face_template(services, id_number)

    @app.post("/v1/visits", status_code=201, tags=["kiosk"], responses=ERRORS)
    def open_visit(body: VisitBody, kiosk: Kiosk) -> dict[str, Any]:
        """Sign a person in: a short-lived visit token for this kiosk and this person (ends its previous visit).
        The e-card's visit comes with its redemption instead."""
        return visits.open_visit(services, kiosk, body.id_number, body.evidence, body.name)

    @app.delete("/v1/visits/current", tags=["kiosk"], responses=ERRORS)
    def end_visit(kiosk: Kiosk, x_visit_token: VisitToken = None) -> dict[str, Any]:
        """The visit ended at the kiosk: the visit X-Visit-Token names (without it, every open visit of
        this kiosk) stops working now."""
        return visits.end_visit(services, kiosk, x_visit_token)

    @app.post("/v1/sms/request", tags=["kiosk"], responses=ERRORS)
    def sms_request(body: SmsRequestBody, kiosk: Kiosk, x_visit_token: VisitToken = None) -> dict[str, Any]:
        """Send a one-time code to the bound phone (id_number), to a phone, or again for a bank verification."""
        targets = [t for t in (body.id_number, body.phone, body.verification_id) if t is not None]
        if len(targets) != 1:
            raise ApiError(422, "malformed", "give exactly one of id_number, phone or verification_id")
        if body.verification_id is not None:
            return bank.resend_registration_code(services, kiosk, body.verification_id)
        if body.id_number is not None:
            visits.require(services, kiosk, x_visit_token, body.id_number, "sms_request")
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
    def bank_verify(body: BankVerifyBody, kiosk: Kiosk, x_visit_token: VisitToken = None) -> dict[str, Any]:
        evidence = visits.require(services, kiosk, x_visit_token, body.id_number, "bank_verify")
        return bank.verify_bank_card(services, kiosk, body.model_dump(), evidence)

    @app.post("/v1/accounts/register", tags=["kiosk"], responses=ERRORS)
    def account_register(body: RegisterBody, kiosk: Kiosk) -> dict[str, Any]:
        return bank.register_account(services, kiosk, body.verification_id, body.sms_code)

    @app.get("/v1/roster", tags=["kiosk"], responses=ERRORS)
    def roster(kiosk: Kiosk, districts: Annotated[str, Query(pattern=r"[^,\s]",
                                                             description="comma-separated district names")],
               x_field_operator: Annotated[str | None, Header(max_length=64,
                                                              description="the signed-in field operator")] = None,
               x_field_operator_password: Annotated[str | None, Header(
                   max_length=400, description="base64 of that operator's password")] = None
               ) -> dict[str, Any]:
        if auth.kiosk_role(services, kiosk) != "field":
            raise ApiError(403, "field_kiosk_only", "the roster (personal data) goes only to field kiosks")
        assigned = field.operator_assignment(services, x_field_operator, x_field_operator_password)
        wanted = [d.strip() for d in districts.split(",") if d.strip()]
        foreign = [d for d in wanted if d not in assigned]
        if foreign:
            raise ApiError(403, "not_your_assignment", f"districts {', '.join(foreign)} are not assigned to the "
                           "signed-in operator; ask the office to assign them", field="districts")
        if not wanted:
            raise ApiError(422, "malformed", "give at least one district: ?districts=A,B")
        return persons.roster(services, wanted, kiosk)

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
        """Spend a dynamic e-card sign-in code once: the citizen it names (409 if used before), and the
        visit token for that citizen (the backend checked the code: it is the visit's evidence)."""
        answer = ecard.redeem_code(services, kiosk, body.code)
        with services.engine.begin() as conn:
            answer.update(visits.open_for_ecard(conn, services, kiosk, answer["id_number"]))
        return answer

    @app.post("/v1/ecard/pin/sessions", tags=["kiosk"], responses={**ERRORS, 423: ERRORS[409]})
    def ecard_pin_session(body: EcardPinSessionBody, kiosk: Kiosk, x_visit_token: VisitToken = None) -> dict[str, Any]:
        """A one-use working key for an e-card PIN operation, wrapped under this kiosk's e-card pad key."""
        visits.require(services, kiosk, x_visit_token, body.id_number, "ecard_pin_session")
        return ecard_pin.open_session(services, kiosk, body.id_number, body.purpose)

    @app.post("/v1/ecard/pin/sessions/{session_id}", tags=["kiosk"], responses={**ERRORS, 423: ERRORS[409]})
    def ecard_pin_submit(session_id: Annotated[str, FPath(pattern=r"^[0-9a-f]{32}$")], body: EcardPinSubmitBody, kiosk: Kiosk) -> dict[str, Any]:
        """Set, change or reset the e-card PIN from the pad's PIN blocks (decrypted only here)."""
        return ecard_pin.submit(services, kiosk, session_id, body.model_dump())

    @app.put("/v1/operator/kiosks/{kiosk_id}/ecard-pin-key", tags=["operator"], responses=ERRORS)
    def ecard_pad_key(_op: Operator, kiosk_id: Annotated[str, FPath(min_length=1, max_length=64)],
                      body: EcardPadKeyBody) -> dict[str, Any]:
        """Key ceremony: the custodians' components of a kiosk pad's e-card PIN master key, and its KCV."""
        return ecard_pin.register_pad_key(services, kiosk_id, body.model_dump())

    @app.get("/v1/field/operators", tags=["kiosk"], responses=ERRORS)
    def field_operator_list(_kiosk: Kiosk) -> dict[str, Any]:
        """The signed list of active field operators (hashes only), for offline sign-in (docs/field.md)."""
        return field.operator_list(services)

    @app.put("/v1/operator/field-operators/{operator_id}", tags=["operator"], responses=ERRORS)
    def field_operator_upsert(_op: Operator, operator_id: Annotated[str, FPath(max_length=64)],
                              body: FieldOperatorBody) -> dict[str, Any]:
        """Create or change a field operator: name, password and/or staff card ID, districts, active."""
        return field.upsert_operator(services, operator_id, body.model_dump(exclude_none=True))

    @app.post("/v1/operator/enrollment-tokens", status_code=201, tags=["operator"], responses=ERRORS)
    def enrollment_token(_op: Operator, body: TokenBody) -> dict[str, Any]:
        return auth.issue_enrollment_token(services, body.kiosk_id, body.role, body.rekey)

    @app.get("/v1/operator/lockouts", tags=["operator"], responses=ERRORS)
    def operator_lockouts(_op: Operator) -> dict[str, Any]:
        """Phones (persons) and kiosks locked now by an SMS rate limit, with count, limit and until."""
        return lockouts.current(services)

    @app.delete("/v1/operator/lockouts/{kind}/{subject}", tags=["operator"], responses=ERRORS)
    def operator_lift_lockout(_op: Operator, kind: Literal["phone", "kiosk"],
                              subject: Annotated[str, FPath(max_length=64)]) -> dict[str, Any]:
        """Lift a lockout: the subject's rate-limit windows count again from now."""
        return lockouts.lift(services, kind, subject)

    @app.get("/v1/operator/visit-refusals", tags=["operator"], responses=ERRORS)
    def operator_visit_refusals(_op: Operator) -> dict[str, Any]:
        """Person data refused to a kiosk outside its visit (another person, expired, another kiosk's token)."""
        return visits.refusals(services)

    @app.get("/v1/operator/card-loss/{id_number}", tags=["operator"], responses=ERRORS)
    def operator_card_loss(_op: Operator, id_number: Annotated[str, FPath(pattern=ID_NUMBER)]) -> dict[str, Any]:
        """The card's state and its last temporary loss report (backend/card_loss.py)."""
        return card_loss.status(services, id_number)

    @app.get("/v1/operator/records", tags=["operator"], responses=ERRORS)
    def operator_records(_op: Operator, person: str | None = None, kiosk: str | None = None,
                         day: Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                                                          description="YYYY-MM-DD")] = None,
                         limit: Annotated[int, Query(ge=1, le=5000)] = 1000
                         ) -> dict[str, Any]:
        """Records by person (ID number), kiosk and/or day (UTC, of the kiosk's created_at); without a
        filter, the first ``limit`` records by kiosk and seq."""
        query = sa.select(records).order_by(records.c.kiosk_id, records.c.seq).limit(limit)
        if person is not None:
            query = query.where(records.c.person_id == person.upper())
        if kiosk is not None:
            query = query.where(records.c.kiosk_id == kiosk)
        if day is not None:     # a well-formed day that is no calendar date (02-30) simply matches nothing
            query = query.where(records.c.day == day)
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
        # Dev endpoints are not part of the published contract (never on in production).
        @app.post("/v1/operator/seed", tags=["dev"], responses=ERRORS, include_in_schema=False)
        def operator_seed(_op: Operator, body: dict[str, Any]) -> dict[str, int]:
            """Load persons and bank test accounts (upsert); for tests and the demo (dev.endpoints)."""
            return seed.apply_seed(services.engine, body)

        @app.post("/v1/dev/ecard/codes", tags=["dev"], responses=ERRORS, include_in_schema=False)
        def dev_ecard_code(_op: Operator, body: EcardIssueBody) -> dict[str, Any]:
            """A dynamic e-card code for a person, as the platform's phone app would get one (demo, tests)."""
            return ecard.issue_code(services, body.id_number)

        @app.get("/v1/dev/sms-outbox", tags=["dev"], responses=ERRORS, include_in_schema=False)
        def dev_outbox(_op: Operator, phone: str | None = None, after_id: int = 0) -> dict[str, Any]:
            """Messages the development SMS gateway 'sent' (enabled by dev.endpoints)."""
            query = sa.select(dev_sms_outbox).where(dev_sms_outbox.c.id > after_id).order_by(dev_sms_outbox.c.id)
            if phone is not None:
                query = query.where(dev_sms_outbox.c.phone == phone)
            with services.engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
            return {"messages": [{"id": r["id"], "phone": r["phone"], "text": r["text"],
                                  "sent_at": format_rfc3339(r["sent_at"])} for r in rows]}

    # The staff console (/console) and the kiosk heartbeat endpoint (issue 15, docs/console.md).
    from backend.console import mount as mount_console

    mount_console(app, services)
    openapi.install(app, kiosk_auth, operator_auth,     # security schemes and common refusals
                    enums={("BankVerifyBody", "bank_code"): sorted(services.banks)})
    return app
