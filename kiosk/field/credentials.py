"""Operator credentials shared by the kiosk and the backend (one definition of every byte layout).

* Passwords: ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>`` (the backend hashes, the kiosk downloads
  only the hash and checks a typed password against it offline).
* Staff cards: the card holder's ID number as ``sha256("sscard field operator card v1:" + ID)``,
  so the signed operator list names no ID number in clear.
* The operator list is signed by the backend with Ed25519 over its canonical JSON without ``sig``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any

from kiosk.signing import canonical_json

PASSWORD_ALG = "scrypt"  # noqa: S105  (the algorithm name, not a password)
# Verification hash cost: 16 MiB, ~50 ms; a stolen list costs an attacker as much per guess.
PASSWORD_N, PASSWORD_R, PASSWORD_P = 2 ** 14, 8, 1
CARD_HASH_PREFIX = b"sscard field operator card v1:"
MIN_PASSWORD_LENGTH = 8


def _as_bytes(secret: str | bytes | bytearray) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def hash_password(password: str | bytes | bytearray, *, salt: bytes | None = None,
                  n: int = PASSWORD_N, r: int = PASSWORD_R, p: int = PASSWORD_P) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(_as_bytes(password), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * 1024 * 1024)
    return f"{PASSWORD_ALG}${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_password(password: str | bytes | bytearray, stored: str | None) -> bool:
    """Constant-time; an empty or malformed stored hash never matches."""
    if not stored:
        return False
    try:
        alg, n, r, p, salt_hex, digest_hex = stored.split("$")
        if alg != PASSWORD_ALG:
            return False
        digest = hashlib.scrypt(_as_bytes(password), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p),
                                dklen=len(digest_hex) // 2, maxmem=256 * 1024 * 1024)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def card_id_hash(id_number: str) -> str:
    return hashlib.sha256(CARD_HASH_PREFIX + id_number.strip().upper().encode("ascii")).hexdigest()


def operator_list_signing_bytes(document: Mapping[str, Any]) -> bytes:
    return canonical_json({k: v for k, v in document.items() if k != "sig"})
