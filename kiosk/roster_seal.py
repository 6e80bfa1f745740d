"""Roster face templates encrypted to one field kiosk's key, with an expiry (issue 17).

The backend seals every template of a roster answer to the X25519 key that corresponds to the
requesting kiosk's enrolled Ed25519 key (the standard birational map, as libsodium's
``crypto_sign_ed25519_pk_to_curve25519``), so no extra key has to be enrolled:

* one random 32-byte template key per roster answer, sealed to the kiosk:
  ``X25519(ephemeral, kiosk) -> HKDF-SHA256(salt = epk || kiosk_x25519_pub, info = INFO)``, AES-256-GCM;
* each template ``AES-256-GCM(template key, nonce, template, aad = "{id_number}\\n{expires_at}")``,
  sent as base64 of ``nonce || ciphertext``.

``expires_at`` (RFC 3339, UTC) is bound into every template's associated data: a kiosk that
moves it forward cannot open the templates any more, and the kiosk purges the roster at that
time. Another kiosk (another key), the operator's password alone, or a copy of the answer taken
off the wire, cannot open a template.
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kiosk.signing import ReviewKey, b64, open_sealed, seal

ALG = "x25519-ed25519map-hkdf-sha256-aesgcm-roster-v1"
INFO = b"sscard roster templates v1"
_P = 2**255 - 19


class TemplateSealError(ValueError):
    """A sealed template that does not open here: another kiosk's, altered, or its expiry moved."""


def x25519_public_of(ed25519_public_raw: bytes) -> bytes:
    """The Montgomery u of an Ed25519 public key: u = (1 + y) / (1 - y) mod p."""
    if len(ed25519_public_raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    y = int.from_bytes(ed25519_public_raw, "little") & ((1 << 255) - 1)
    if y >= _P or y == 1:
        raise ValueError("not an Ed25519 public key usable for X25519")
    u = (1 + y) * pow(1 - y, _P - 2, _P) % _P
    return u.to_bytes(32, "little")


def x25519_private_of(ed25519_key: Ed25519PrivateKey) -> X25519PrivateKey:
    """The X25519 scalar of an Ed25519 key: the first half of SHA-512(seed) (X25519 clamps it)."""
    seed = ed25519_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption())
    return X25519PrivateKey.from_private_bytes(hashlib.sha512(seed).digest()[:32])


def _aad(id_number: str, expires_at: str) -> bytes:
    return f"{id_number.upper()}\n{expires_at}".encode()


class TemplateSealer:
    """The backend's side: one template key per roster answer, sealed to one kiosk."""

    def __init__(self, kiosk_ed25519_public_raw: bytes, expires_at: str) -> None:
        self.expires_at = expires_at
        self._key = AESGCM.generate_key(bit_length=256)
        recipient = ReviewKey(x25519_public_of(kiosk_ed25519_public_raw))
        self.wrapped = seal(recipient, self._key, alg=ALG, info=INFO)

    def seal(self, id_number: str, template: bytes) -> str:
        nonce = os.urandom(12)
        return b64(nonce + AESGCM(self._key).encrypt(nonce, template, _aad(id_number, self.expires_at)))


def open_template_key(kiosk_x25519: X25519PrivateKey, wrapped: dict[str, Any]) -> bytearray:
    """The roster answer's template key, if it was sealed to this kiosk."""
    try:
        return bytearray(open_sealed(kiosk_x25519, wrapped, alg=ALG, info=INFO))
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise TemplateSealError("the roster's templates were sealed to another kiosk's key, or altered") from exc


def open_template(template_key: bytes | bytearray, id_number: str, expires_at: str, sealed_b64: str) -> bytearray:
    try:
        blob = base64.b64decode(sealed_b64, validate=True)
        return bytearray(AESGCM(bytes(template_key)).decrypt(blob[:12], blob[12:], _aad(id_number, expires_at)))
    except (InvalidTag, ValueError) as exc:
        raise TemplateSealError("a template does not open: altered, another kiosk's, or its expiry moved") from exc
