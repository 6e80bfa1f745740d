"""The kiosk's HTTP client for the backend: online operations and the record upload.

Every call returns a typed value and never raises for network trouble: a success dataclass, or
:class:`ServiceUnavailable` (timeout, no network, backend error: "try later or go to the counter"),
:class:`NotFound`, or :class:`Rejected` (the backend said no, with its reason). Every phase of a
request has a timeout, so nothing blocks forever; call these from a worker thread, not the UI's.

Online requests are signed with the kiosk key: ``X-Kiosk-Id``, ``X-Kiosk-Timestamp`` and
``X-Kiosk-Signature`` = Ed25519 over ``method\\npath\\ntimestamp\\nsha256(body)``, where path
includes the query string exactly as sent.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from kiosk.i18n import N_, _
from kiosk.outbox import rfc3339
from kiosk.privacy import mask_id_number
from kiosk.signing import ReviewKey, Signer, parse_review_key, request_signing_bytes

log = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = N_("The service is unavailable right now. Please try again later, "
                         "or go to the counter.")


# -- outcomes --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServiceUnavailable:
    """The backend could not be reached or failed: the citizen should try later or go to the counter."""

    reason: str                        # technical, for the log and the operator: "timeout", "HTTP 503"

    @property
    def citizen_message(self) -> str:
        return _(UNAVAILABLE_MESSAGE)


@dataclass(frozen=True)
class NotFound:
    """404: e.g. ``unknown_person`` or ``no_template``; ``reason`` is the backend's sentence."""

    error: str
    reason: str = ""


@dataclass(frozen=True)
class Rejected:
    """The backend refused the request (4xx) and said why."""

    status: int
    error: str
    reason: str
    retry_after_s: float | None = None
    # The backend's named extras (tries_left, rule, attempts_left): numbers and rule names only.
    details: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class PersonSummary:
    data: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class FaceTemplate:
    data: dict[str, Any] = field(repr=False)   # biometric: never logged


@dataclass(frozen=True)
class SmsRequested:
    request_id: str
    phone_masked: str
    resend_after_s: int
    expires_in_s: int


@dataclass(frozen=True)
class SmsVerification:
    ok: bool
    attempts_left: int
    reason: str


@dataclass(frozen=True)
class BankVerification:
    data: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Registration:
    data: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Roster:
    data: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class EcardSignedIn:
    """A redeemed e-card code: the citizen it names. ``id_number`` is personal: never logged."""

    id_number: str = field(repr=False)
    name_masked: str = ""


@dataclass(frozen=True)
class EcardPinSession:
    """One e-card PIN operation's working key, wrapped under this kiosk's e-card master key."""

    session_id: str = field(repr=False)
    algorithm: str
    wrapped_key: bytes = field(repr=False)
    kcv: bytes = field(repr=False)
    pan: str = field(repr=False)          # from the citizen's ID number: personal
    expires_in_s: int = 300


@dataclass(frozen=True)
class EcardPinDone:
    purpose: str
    alert_sent: bool


@dataclass(frozen=True)
class EcardPlatformKey:
    iss: str
    public_key: bytes


@dataclass(frozen=True)
class VisitOpened:
    """The backend's visit for one person at this kiosk (``POST /v1/visits`` or the e-card)."""

    evidence: str
    expires_at: str


@dataclass
class _Visit:
    """This kiosk's current visit: whose it is, the evidence to open it with, its token once opened."""

    id_number: str = field(repr=False)
    evidence: str
    name: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Enrolled:
    kiosk_id: str


@dataclass(frozen=True)
class BatchAccepted:
    results: list[dict[str, Any]]


@dataclass(frozen=True)
class BatchRejected:
    """The whole batch was refused; ``record_id`` names the culprit when the backend knows it."""

    status: int
    error: str
    record_id: str | None
    reason: str


# -- client ----------------------------------------------------------------------------------------

def _verify_setting(ca_file: str) -> ssl.SSLContext | bool:
    if not ca_file:
        return True
    return ssl.create_default_context(cafile=ca_file)


class BackendClient:
    def __init__(self, base_url: str, kiosk_id: str, signer: Signer | None, *, timeout_s: float = 5.0,
                 sync_timeout_s: float = 30.0, ca_file: str = "",
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.kiosk_id = kiosk_id
        self.signer = signer
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        self.sync_timeout = httpx.Timeout(sync_timeout_s, connect=min(sync_timeout_s, 5.0))
        self._http = httpx.Client(base_url=self.base_url, verify=_verify_setting(ca_file),
                                  transport=transport, headers={"User-Agent": "sscard-kiosk"})
        self._visit: _Visit | None = None
        self._visit_lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Any, signer: Signer | None, base_url: str | None = None) -> BackendClient:
        from kiosk.config import resolve_path

        ca = str(resolve_path(config.backend.ca_file)) if config.backend.ca_file else ""
        return cls(base_url or config.backend.url, config.kiosk.id, signer, timeout_s=config.backend.timeout_s,
                   sync_timeout_s=config.backend.sync_timeout_s, ca_file=ca)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BackendClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------
    def _send(self, method: str, path: str, body: bytes | None, *, signed: bool,
              timeout: httpx.Timeout | None = None, extra_headers: Mapping[str, str] | None = None,
              ) -> httpx.Response | ServiceUnavailable:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        headers.update(extra_headers or {})
        request = self._http.build_request(method, path, content=body, headers=headers,
                                           timeout=timeout or self.timeout)
        if signed:
            if self.signer is None:
                raise RuntimeError("this client has no kiosk key; signed calls need `kiosk enroll` first")
            stamp = rfc3339(time.time())
            raw_path = request.url.raw_path.decode("ascii")
            request.headers["X-Kiosk-Id"] = self.kiosk_id
            request.headers["X-Kiosk-Timestamp"] = stamp
            request.headers["X-Kiosk-Signature"] = self.signer.sign_b64(
                request_signing_bytes(method, raw_path, stamp, body or b""))
        try:
            response = self._http.send(request)
        except httpx.TimeoutException:
            return ServiceUnavailable("timeout")
        except httpx.HTTPError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                return ServiceUnavailable("TLS: the backend's certificate is not trusted; check backend.ca_file")
            return ServiceUnavailable(f"network: {type(exc).__name__}")
        if response.status_code >= 500:
            return ServiceUnavailable(f"HTTP {response.status_code}")
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any] | None:
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None

    def _rejected(self, response: httpx.Response) -> Rejected:
        data = self._json(response) or {}
        retry = response.headers.get("Retry-After", data.get("retry_after_s"))
        try:
            retry_s = float(retry) if retry is not None else None
        except (TypeError, ValueError):
            retry_s = None
        details = {k: data[k] for k in ("tries_left", "rule", "attempts_left") if isinstance(data.get(k), (int, str))}
        return Rejected(response.status_code, str(data.get("error", f"HTTP {response.status_code}")),
                        str(data.get("reason", data.get("detail", ""))), retry_s, details)

    def _call(self, method: str, path: str, payload: Mapping[str, Any] | None = None,
              extra_headers: Mapping[str, str] | None = None,
              ) -> dict[str, Any] | NotFound | Rejected | ServiceUnavailable:
        body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        response = self._send(method, path, body, signed=True, extra_headers=extra_headers)
        if isinstance(response, ServiceUnavailable):
            # The path may hold an ID number: log only the operation's first segments.
            log.warning("backend unavailable", extra={"operation": "/".join(path.split("/")[:3]),
                                                      "reason": response.reason})
            return response
        if response.status_code == 404:
            data = self._json(response) or {}
            return NotFound(str(data.get("error", "not_found")), str(data.get("reason", "")))
        if response.status_code >= 400:
            return self._rejected(response)
        data = self._json(response)
        if data is None:
            return ServiceUnavailable("backend answered something that is not a JSON object")
        return data

    # -- the visit (person data only for the person signed in) ---------------------------------
    def begin_visit(self, id_number: str, evidence: str, name: str | None = None) -> None:
        """The person signed in here (``evidence``: "sscard", "id_card" with the card's name, or
        "typed"). Nothing is sent yet: the visit is opened with the first call for their data, so an
        offline kiosk waits for one timeout, not two. A visit of another person is forgotten."""
        with self._visit_lock:
            current = self._visit
            if current is not None and current.id_number == id_number.upper() and current.token is not None:
                return                         # e.g. the e-card already opened it
            self._visit = _Visit(id_number.upper(), evidence, name)

    def end_visit(self, *, wait: bool = True) -> None:
        """The citizen left: the visit is forgotten now, and its token revoked at the backend (best
        effort; ``wait=False`` revokes on a thread, for callers on the UI thread)."""
        with self._visit_lock:
            visit, self._visit = self._visit, None
        if visit is None or visit.token is None:
            return
        headers = {"X-Visit-Token": visit.token}

        def revoke() -> None:
            self._send("DELETE", "/v1/visits/current", None, signed=True, extra_headers=headers)

        if wait:
            revoke()
        else:
            threading.Thread(target=revoke, name="visit-end", daemon=True).start()

    def open_visit(self, id_number: str) -> VisitOpened | NotFound | Rejected | ServiceUnavailable | None:
        """Open the begun visit of ``id_number`` on the backend now (None: no visit of theirs was begun)."""
        with self._visit_lock:
            visit = self._visit
        if visit is None or visit.id_number != id_number.upper():
            return None
        payload: dict[str, Any] = {"id_number": visit.id_number, "evidence": visit.evidence}
        if visit.name:
            payload["name"] = visit.name
        data = self._call("POST", "/v1/visits", payload)
        if not isinstance(data, dict):
            return data
        if not isinstance(data.get("visit_token"), str):
            return ServiceUnavailable("visit answer holds no token")
        with self._visit_lock:
            if self._visit is visit:
                visit.token = data["visit_token"]
        return VisitOpened(str(data.get("evidence", visit.evidence)), str(data.get("expires_at", "")))

    def _visit_headers(self, id_number: str) -> dict[str, str] | NotFound | Rejected | ServiceUnavailable:
        """``X-Visit-Token`` for a call about ``id_number`` (opening the visit first if needed). With no
        visit of that person the call goes without one and the backend refuses it (403)."""
        with self._visit_lock:
            visit = self._visit
        if visit is None or visit.id_number != id_number.upper():
            return {}
        if visit.token is None:
            opened = self.open_visit(id_number)
            if not isinstance(opened, VisitOpened):
                return opened if opened is not None else {}
        return {"X-Visit-Token": visit.token} if visit.token else {}

    def _person_call(self, id_number: str, method: str, path: str, payload: Mapping[str, Any] | None = None,
                     ) -> dict[str, Any] | NotFound | Rejected | ServiceUnavailable:
        headers = self._visit_headers(id_number)
        if not isinstance(headers, dict):
            return headers
        return self._call(method, path, payload, extra_headers=headers)

    # -- online operations ---------------------------------------------------------------------
    def person_summary(self, id_number: str) -> PersonSummary | NotFound | Rejected | ServiceUnavailable:
        log.info("person summary", extra={"person": mask_id_number(id_number)})
        data = self._person_call(id_number, "GET", f"/v1/persons/{quote(id_number, safe='')}/summary")
        return PersonSummary(data) if isinstance(data, dict) else data

    def face_template(self, id_number: str) -> FaceTemplate | NotFound | Rejected | ServiceUnavailable:
        data = self._person_call(id_number, "GET", f"/v1/persons/{quote(id_number, safe='')}/face-template")
        return FaceTemplate(data) if isinstance(data, dict) else data

    def request_sms(self, purpose: str, *, id_number: str | None = None, phone: str | None = None,
                    verification_id: str | None = None,
                    ) -> SmsRequested | NotFound | Rejected | ServiceUnavailable:
        """A one-time code to the bound phone (``id_number``), to ``phone``, or again to the phone of a
        bank verification (``verification_id``: the registration resend; the code then answers
        ``register_account`` for that verification, and the old one no longer does)."""
        targets = {"id_number": id_number, "phone": phone, "verification_id": verification_id}
        given = {k: v for k, v in targets.items() if v is not None}
        if len(given) != 1:
            raise ValueError("request_sms needs exactly one of id_number, phone or verification_id")
        payload: dict[str, Any] = {"purpose": purpose, **given}
        data = self._person_call(id_number, "POST", "/v1/sms/request", payload) if id_number is not None \
            else self._call("POST", "/v1/sms/request", payload)
        if not isinstance(data, dict):
            return data
        try:
            return SmsRequested(str(data["request_id"]), str(data["phone_masked"]),
                                int(data["resend_after_s"]), int(data["expires_in_s"]))
        except (KeyError, TypeError, ValueError):
            return ServiceUnavailable("sms request answer is missing fields")

    def verify_sms(self, request_id: str, code: str | bytes | bytearray,
                   ) -> SmsVerification | NotFound | Rejected | ServiceUnavailable:
        # The code goes straight into the request body; it is never logged or kept.
        text = code.decode("ascii") if isinstance(code, (bytes, bytearray)) else code
        data = self._call("POST", "/v1/sms/verify", {"request_id": request_id, "code": text})
        if not isinstance(data, dict):
            return data
        return SmsVerification(bool(data.get("ok")), int(data.get("attempts_left", 0) or 0),
                               str(data.get("reason") or ""))

    def verify_bank(self, *, name: str | None, id_number: str, bank_code: str, card_number: str, phone: str,
                    ) -> BankVerification | NotFound | Rejected | ServiceUnavailable:
        """``name`` None: an e-card visit (the kiosk has only the masked name); the backend asks the
        bank with its own record of the visit's person."""
        body = {"id_number": id_number, "bank_code": bank_code, "card_number": card_number, "phone": phone}
        if name is not None:
            body["name"] = name
        data = self._person_call(id_number, "POST", "/v1/bank/verify", body)
        return BankVerification(data) if isinstance(data, dict) else data

    def register_account(self, verification_id: str, sms_code: str | bytes | bytearray,
                         ) -> Registration | NotFound | Rejected | ServiceUnavailable:
        text = sms_code.decode("ascii") if isinstance(sms_code, (bytes, bytearray)) else sms_code
        data = self._call("POST", "/v1/accounts/register", {"verification_id": verification_id, "sms_code": text})
        return Registration(data) if isinstance(data, dict) else data

    def roster(self, districts: Iterable[str], *, operator_id: str | None = None,
               password: str | bytes | bytearray | None = None) -> Roster | NotFound | Rejected | ServiceUnavailable:
        """The field roster: only for a field kiosk, with its signed-in operator's id and password
        (the backend answers only that operator's assigned districts)."""
        joined = ",".join(districts)
        headers = {}
        if operator_id is not None and password is not None:
            secret = password.encode("utf-8") if isinstance(password, str) else bytes(password)
            headers = {"X-Field-Operator": operator_id,
                       "X-Field-Operator-Password": base64.b64encode(secret).decode("ascii")}
        data = self._call("GET", f"/v1/roster?districts={quote(joined, safe=',')}", extra_headers=headers)
        return Roster(data) if isinstance(data, dict) else data

    def review_key(self) -> ReviewKey | NotFound | Rejected | ServiceUnavailable:
        data = self._call("GET", "/v1/keys/review")
        if not isinstance(data, dict):
            return data
        raw = data.get("public_key") or data.get("key")
        try:
            return parse_review_key(str(raw))
        except (ValueError, TypeError):
            return ServiceUnavailable("review key answer holds no X25519 key")

    def kiosk_state(self) -> dict[str, Any] | NotFound | Rejected | ServiceUnavailable:
        """``GET /v1/kiosks/me``: this kiosk's role and the last seq the backend acknowledged."""
        data = self._call("GET", "/v1/kiosks/me")
        if isinstance(data, dict) and not isinstance(data.get("last_seq"), int):
            return ServiceUnavailable("kiosk state answer holds no last_seq")
        return data

    def ecard_platform_key(self) -> EcardPlatformKey | NotFound | Rejected | ServiceUnavailable:
        """The e-card platform's issuer name and key, to add to the kiosk's trust list while online."""
        data = self._call("GET", "/v1/keys/ecard-platform")
        if not isinstance(data, dict):
            return data
        try:
            key = base64.b64decode(str(data["public_key"]), validate=True)
            if data.get("alg") != "ed25519" or len(key) != 32:
                raise ValueError("not an Ed25519 key")
            return EcardPlatformKey(str(data["iss"]), key)
        except (KeyError, ValueError, binascii.Error):
            return ServiceUnavailable("e-card platform key answer holds no Ed25519 key")

    def redeem_ecard(self, code_text: str) -> EcardSignedIn | NotFound | Rejected | ServiceUnavailable:
        """Spend a sign-in code at the platform (one-time); the code is never logged."""
        data = self._call("POST", "/v1/ecard/redeem", {"code": code_text})
        if not isinstance(data, dict):
            return data
        if not isinstance(data.get("id_number"), str):
            return ServiceUnavailable("e-card redemption answer names no person")
        if isinstance(data.get("visit_token"), str):      # the redemption opened the citizen's visit
            with self._visit_lock:
                self._visit = _Visit(data["id_number"].upper(), "e_card", token=data["visit_token"])
        return EcardSignedIn(data["id_number"], str(data.get("name_masked") or ""))

    def ecard_pin_session(self, id_number: str, purpose: str,
                          ) -> EcardPinSession | NotFound | Rejected | ServiceUnavailable:
        """A working key for one e-card PIN operation (``set``, ``change``, ``reset``)."""
        data = self._person_call(id_number, "POST", "/v1/ecard/pin/sessions",
                                 {"id_number": id_number, "purpose": purpose})
        if not isinstance(data, dict):
            return data
        try:
            return EcardPinSession(str(data["session_id"]), str(data["algorithm"]),
                                   bytes.fromhex(str(data["wrapped_key"])), bytes.fromhex(str(data["kcv"])),
                                   str(data["pan"]), int(data.get("expires_in_s", 300)))
        except (KeyError, ValueError, TypeError):
            return ServiceUnavailable("e-card PIN session answer is incomplete")

    def ecard_pin_submit(self, session_id: str, blocks: Mapping[str, bytes], *, face_passed: bool | None = None,
                         sms_request_id: str | None = None) -> EcardPinDone | NotFound | Rejected | ServiceUnavailable:
        """The pad's encrypted PIN blocks (never clear digits) for the platform's one decrypting function."""
        body: dict[str, Any] = {"blocks": {name: bytes(block).hex().upper() for name, block in blocks.items()}}
        if face_passed is not None:
            body["face_passed"] = face_passed
        if sms_request_id is not None:
            body["sms_request_id"] = sms_request_id
        data = self._call("POST", f"/v1/ecard/pin/sessions/{quote(session_id, safe='')}", body)
        if not isinstance(data, dict):
            return data
        return EcardPinDone(str(data.get("purpose", "")), bool(data.get("alert_sent")))

    # -- enrollment and records ----------------------------------------------------------------
    def enroll(self, public_key_b64: str, token: str) -> Enrolled | Rejected | ServiceUnavailable:
        body = json.dumps({"kiosk_id": self.kiosk_id, "public_key": public_key_b64, "token": token}).encode()
        response = self._send("POST", "/v1/kiosks/enroll", body, signed=False)
        if isinstance(response, ServiceUnavailable):
            return response
        if response.status_code >= 400:
            return self._rejected(response)
        return Enrolled(self.kiosk_id)

    def rotate_key(self, public_key_b64: str, proof_b64: str) -> dict[str, Any] | NotFound | Rejected | ServiceUnavailable:
        """``POST /v1/kiosks/rotate-key``, signed with the current key (kiosk/rotate.py)."""
        return self._call("POST", "/v1/kiosks/rotate-key", {"public_key": public_key_b64, "proof": proof_b64})

    def post_records(self, envelopes: list[str]) -> BatchAccepted | BatchRejected | ServiceUnavailable:
        """Upload stored envelopes as they are (byte for byte what was signed)."""
        body = ('{"kiosk_id":' + json.dumps(self.kiosk_id, ensure_ascii=False) + ',"records":['
                + ",".join(envelopes) + "]}").encode("utf-8")
        response = self._send("POST", "/v1/records:batch", body, signed=True, timeout=self.sync_timeout)
        if isinstance(response, ServiceUnavailable):
            return response
        data = self._json(response)
        if response.status_code >= 400:
            data = data or {}
            record_id = data.get("record_id")
            return BatchRejected(response.status_code, str(data.get("error", f"HTTP {response.status_code}")),
                                 str(record_id) if record_id else None,
                                 str(data.get("reason", data.get("detail", "")))[:500])
        results = data.get("results") if data else None
        if not isinstance(results, list):
            return ServiceUnavailable("batch answer holds no results list")
        return BatchAccepted([r for r in results if isinstance(r, dict) and "id" in r])

    # -- fleet heartbeat (kiosk/heartbeat.py) ------------------------------------------------------
    def post_heartbeat(self, heartbeat: Mapping[str, Any]) -> dict[str, Any] | NotFound | Rejected | ServiceUnavailable:
        """``POST /v1/kiosks/heartbeat`` (signed): the kiosk's versions, devices, outbox and disk."""
        return self._call("POST", "/v1/kiosks/heartbeat", heartbeat)

    def review_decisions(self) -> dict[str, Any] | NotFound | Rejected | ServiceUnavailable:
        """``GET /v1/kiosks/review-decisions`` (signed): reviewers' decisions on this kiosk's records."""
        return self._call("GET", "/v1/kiosks/review-decisions")
