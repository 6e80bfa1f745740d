"""The electronic social-security card's dynamic sign-in code (电子社保卡动态码): format and checks.

One module owns the byte layout, used by the platform that issues codes (``backend/ecard.py``)
and by the kiosk that verifies them offline before it asks the platform to redeem one.

Text in the QR code: ``ESSC1:`` + RFC 4648 base32 (no padding) of ``body || signature``.
Base32's alphabet is a subset of the QR alphanumeric mode, so a code of about 175 characters
fits a version-6 QR at error-correction level M: large modules that a camera reads off a phone
across a hall's glare.

``body`` (fixed layout, big-endian)::

    version   1 byte   (1)
    alg       1 byte   (1 = Ed25519)
    iss_len   1 byte, then iss (ASCII, 1..32): which e-card platform issued it
    subject  12 bytes  the platform's opaque handle for the citizen (never the ID number: a code
                       photographed over a shoulder names nobody)
    jti      12 bytes  one-time id; the platform refuses a second redemption
    iat       4 bytes  issued at, Unix seconds
    ttl       2 bytes  seconds the code is valid (the platform's setting, 60 by default)

``signature`` is Ed25519 over ``b"ESSC1" || body``. SM2-with-SM3 is what the national platform
uses; no maintained Python library offers it (the one on the package index is a 2023 pure-Python
release, not constant-time), so the kiosk speaks Ed25519 from ``cryptography`` and carries an
``alg`` byte so that an SM2 verifier can be added beside it without a new format (docs/ecard.md).
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from enum import Enum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "ESSC1:"
DOMAIN = b"ESSC1"
VERSION = 1
ALG_ED25519 = 1
SIG_LEN = 64
MAX_TEXT_LEN = 400                  # anything longer is not one of our codes
CLOCK_SKEW_S = 30                   # a kiosk clock this far behind the phone still accepts a code
_HEAD = struct.Struct(">BBB")
ID_LEN = 12                         # subject and jti: 96 random bits each
_TAIL = struct.Struct(">12s12sIH")


class CodeRefusal(Enum):
    """Why a code was refused; each has a sentence for the citizen in kiosk/messages/ecard.py."""

    NOT_A_CODE = "not_a_code"           # a QR code, but not an e-card sign-in code (or damaged)
    FOREIGN_PLATFORM = "foreign_platform"
    TAMPERED = "tampered"               # signature does not verify under the platform's key
    EXPIRED = "expired"                 # includes a screenshot shown after its minute ran out
    NOT_YET_VALID = "not_yet_valid"     # issued in the future: the kiosk's clock is behind
    ALREADY_USED = "already_used"       # the platform saw it redeemed before (a screenshot, a replay)


class CodeError(ValueError):
    """A code refused for ``refusal``; the message never contains the code itself."""

    def __init__(self, refusal: CodeRefusal, detail: str) -> None:
        super().__init__(f"{refusal.value}: {detail}")
        self.refusal = refusal
        self.detail = detail


@dataclass(frozen=True)
class SignInCode:
    """A code whose signature and time window were checked."""

    iss: str
    subject: bytes
    jti: bytes
    issued_at: int
    ttl_s: int
    text: str                           # the QR text as read, what the kiosk sends to redeem

    @property
    def expires_at(self) -> int:
        return self.issued_at + self.ttl_s

    @property
    def jti_hex(self) -> str:
        return self.jti.hex()


def _pack_body(iss: str, subject: bytes, jti: bytes, issued_at: int, ttl_s: int) -> bytes:
    raw_iss = iss.encode("ascii")
    if not 1 <= len(raw_iss) <= 32 or len(subject) != ID_LEN or len(jti) != ID_LEN:
        raise ValueError(f"iss must be 1-32 ASCII characters; subject and jti {ID_LEN} bytes each")
    if not 0 < ttl_s <= 3600 or not 0 <= issued_at < 2**32:
        raise ValueError("ttl_s must be 1..3600 and issued_at a 32-bit Unix time")
    return _HEAD.pack(VERSION, ALG_ED25519, len(raw_iss)) + raw_iss + _TAIL.pack(subject, jti, issued_at, ttl_s)


def issue(key: Ed25519PrivateKey, iss: str, subject: bytes, jti: bytes, issued_at: int, ttl_s: int) -> str:
    """The QR text of a new code (the platform's side)."""
    body = _pack_body(iss, subject, jti, issued_at, ttl_s)
    sig = key.sign(DOMAIN + body)
    return PREFIX + base64.b32encode(body + sig).decode("ascii").rstrip("=")


def _unpack(text: str) -> tuple[bytes, bytes, str, bytes, bytes, int, int]:
    if not isinstance(text, str) or not text.startswith(PREFIX) or len(text) > MAX_TEXT_LEN:
        raise CodeError(CodeRefusal.NOT_A_CODE, "not an e-card sign-in code")
    b32 = text[len(PREFIX):].strip()
    try:
        blob = base64.b32decode(b32 + "=" * (-len(b32) % 8), casefold=False)
    except (binascii.Error, ValueError):
        raise CodeError(CodeRefusal.NOT_A_CODE, "the code's text is damaged") from None
    if len(blob) < _HEAD.size + 1 + _TAIL.size + SIG_LEN:
        raise CodeError(CodeRefusal.NOT_A_CODE, "the code is too short")
    version, alg, iss_len = _HEAD.unpack_from(blob)
    if version != VERSION or alg != ALG_ED25519 or not 1 <= iss_len <= 32:
        raise CodeError(CodeRefusal.NOT_A_CODE, f"unsupported code version {version} / algorithm {alg}")
    body_len = _HEAD.size + iss_len + _TAIL.size
    if len(blob) != body_len + SIG_LEN:
        raise CodeError(CodeRefusal.NOT_A_CODE, "the code has the wrong length")
    body, sig = blob[:body_len], blob[body_len:]
    try:
        iss = body[_HEAD.size:_HEAD.size + iss_len].decode("ascii")
    except UnicodeDecodeError:
        raise CodeError(CodeRefusal.NOT_A_CODE, "the issuer name is not ASCII") from None
    subject, jti, issued_at, ttl_s = _TAIL.unpack_from(body, _HEAD.size + iss_len)
    return body, sig, iss, subject, jti, issued_at, ttl_s


def verify(text: str, trusted: dict[str, bytes], now_s: float, *, skew_s: int = CLOCK_SKEW_S) -> SignInCode:
    """Check a code offline: our format, a trusted platform (``iss`` -> raw Ed25519 public key),
    an intact signature, inside its time window. Raises CodeError saying which check failed.

    One-time use cannot be checked offline: the platform refuses a second redemption."""
    body, sig, iss, subject, jti, issued_at, ttl_s = _unpack(text)
    key = trusted.get(iss)
    if key is None:
        raise CodeError(CodeRefusal.FOREIGN_PLATFORM, f"issued by {iss!r}, which this kiosk does not trust")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(sig, DOMAIN + body)
    except (InvalidSignature, ValueError):
        raise CodeError(CodeRefusal.TAMPERED, "the signature does not verify") from None
    if now_s + skew_s < issued_at:
        raise CodeError(CodeRefusal.NOT_YET_VALID, "issued in the future: check the kiosk's clock")
    if now_s >= issued_at + ttl_s:
        raise CodeError(CodeRefusal.EXPIRED, f"expired {int(now_s - issued_at - ttl_s)} s ago")
    return SignInCode(iss=iss, subject=subject, jti=jti, issued_at=issued_at, ttl_s=ttl_s, text=text)
