"""The wire's cryptography: canonical JSON, Ed25519 record and request signatures, sealed fields.

The kiosk side implements the same byte layouts (docs/backend.md spells them out); the
``sign_*`` and ``seal`` helpers here exist for the tests, the benchmark and the demo tooling.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nacl import bindings as _nacl
from nacl import exceptions as _nacl_exc

SEALED_ALG = "x25519-hkdf-sha256-aesgcm"
SEALED_INFO = b"sscard-kiosk sealed field v1"


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    """Strict standard base64; raises ValueError on anything else."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, AttributeError) as exc:
        raise ValueError("not valid base64") from exc


# One encoder for every record: json.dumps with these options builds a new JSONEncoder per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# The C encoder behind _CANONICAL.encode, built once: JSONEncoder.encode builds it again on every
# call, half the cost of encoding a record (bench/backend_ingest.py). Same bytes (same function,
# same options); no circular-reference markers (a dict from JSON has no cycles; a cycle built in
# code ends in RecursionError instead of ValueError).
_C_CANONICAL = None if json.encoder.c_make_encoder is None else json.encoder.c_make_encoder(
    None, _not_json, json.encoder.encode_basestring, None, ":", ",", True, False, True)


def canonical_json(obj: Any) -> bytes:
    if _C_CANONICAL is not None and isinstance(obj, dict):
        return "".join(_C_CANONICAL(obj, 0)).encode("utf-8")
    return _CANONICAL.encode(obj).encode("utf-8")


def record_signing_bytes(envelope: dict[str, Any]) -> bytes:
    """What a record's ``sig`` covers: the canonical JSON of the envelope without ``sig``."""
    return canonical_json({k: v for k, v in envelope.items() if k != "sig"})


def request_signing_bytes(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    """What X-Kiosk-Signature covers: ``METHOD\\npath\\ntimestamp\\nsha256hex(body)``."""
    return f"{method.upper()}\n{path}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}".encode()


class Ed25519Verifier:
    """One kiosk's raw public key, checked once per batch, verifying many records.

    Verification is libsodium's (PyNaCl): about half the CPU of OpenSSL's Ed25519 verify on this
    machine (bench/backend_ingest.py; the signature check is most of a record's ingest cost). It is
    also the stricter of the two: it refuses non-canonical signatures and small-order keys or R
    points, none of which a genuine signer (OpenSSL, libsodium) ever produces."""

    __slots__ = ("raw",)

    def __init__(self, public_key_raw: bytes) -> None:
        if len(public_key_raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        self.raw = bytes(public_key_raw)

    def verify(self, signature: bytes, message: bytes) -> bool:
        if len(signature) != 64:        # crypto_sign_open reads the first 64 bytes as the signature
            return False
        try:
            _nacl.crypto_sign_open(signature + message, self.raw)
            return True
        except (_nacl_exc.BadSignatureError, _nacl_exc.ValueError, _nacl_exc.TypeError):
            return False


def public_key_of(public_key_raw: bytes) -> Ed25519Verifier:
    """Parse once per batch, verify many records with it."""
    return Ed25519Verifier(public_key_raw)


def verify_with(key: Ed25519Verifier, signature: bytes, message: bytes) -> bool:
    return key.verify(signature, message)


def verify_ed25519(public_key_raw: bytes, signature: bytes, message: bytes) -> bool:
    try:
        return Ed25519Verifier(public_key_raw).verify(signature, message)
    except ValueError:
        return False


def sign_record(private_key: Ed25519PrivateKey, envelope: dict[str, Any]) -> dict[str, Any]:
    signed = {k: v for k, v in envelope.items() if k != "sig"}
    signed["sig"] = b64e(private_key.sign(record_signing_bytes(signed)))
    return signed


def sign_request(private_key: Ed25519PrivateKey, kiosk_id: str, method: str, path: str, timestamp: str,
                 body: bytes) -> dict[str, str]:
    """The three X-Kiosk-* headers for an online request."""
    sig = private_key.sign(request_signing_bytes(method, path, timestamp, body))
    return {"X-Kiosk-Id": kiosk_id, "X-Kiosk-Timestamp": timestamp, "X-Kiosk-Signature": b64e(sig)}


def raw_public_key(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _sealed_key(shared: bytes, epk: bytes, recipient_pk: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + recipient_pk, info=SEALED_INFO).derive(shared)


def seal(recipient_public_raw: bytes, plaintext: bytes) -> dict[str, str]:
    """Encrypt to the backend's X25519 key: ephemeral X25519, HKDF-SHA256, AES-256-GCM."""
    eph = X25519PrivateKey.generate()
    epk = raw_public_key(eph)
    shared = eph.exchange(X25519PublicKey.from_public_bytes(recipient_public_raw))
    nonce = os.urandom(12)
    ct = AESGCM(_sealed_key(shared, epk, recipient_public_raw)).encrypt(nonce, plaintext, SEALED_ALG.encode())
    return {"enc": SEALED_ALG, "epk": b64e(epk), "nonce": b64e(nonce), "ct": b64e(ct)}


def open_sealed(private_key: X25519PrivateKey, sealed: dict[str, Any]) -> bytes:
    """Decrypt a sealed field; raises ValueError if it is not ours or was altered."""
    if sealed.get("enc") != SEALED_ALG:
        raise ValueError(f"unknown sealed-field algorithm {sealed.get('enc')!r}")
    epk = b64d(sealed["epk"])
    shared = private_key.exchange(X25519PublicKey.from_public_bytes(epk))
    key = _sealed_key(shared, epk, raw_public_key(private_key))
    try:
        return AESGCM(key).decrypt(b64d(sealed["nonce"]), b64d(sealed["ct"]), SEALED_ALG.encode())
    except InvalidTag as exc:
        raise ValueError("sealed field does not decrypt: wrong key or altered") from exc


def load_or_create_review_key(path: Path, create: bool) -> X25519PrivateKey:
    """The backend's X25519 review key (PEM, PKCS#8, file mode 0600)."""
    if path.is_file():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, X25519PrivateKey):
            raise ValueError(f"{path}: not an X25519 private key")
        return key
    if not create:
        raise FileNotFoundError(f"{path}: review key missing; create it with `kiosk-backend keys generate`")
    key = X25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key
