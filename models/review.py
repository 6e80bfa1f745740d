"""Encrypt a decision capture (or a template) for the backend's manual review.

Sealed box: an ephemeral X25519 key agreed with the backend's public key, HKDF-SHA256, then
AES-256-GCM. Only the backend's private key opens it; the kiosk cannot read what it sent.
Layout: b"SFR1" | ephemeral public key (32) | nonce (12) | ciphertext+tag.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"SFR1"
_INFO = b"sscard-kiosk face review v1"


def _key(shared: bytes, eph_pub: bytes, recipient_pub: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=eph_pub + recipient_pub, info=_INFO).derive(shared)


def _raw(public: X25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def seal(data: bytes, recipient_public_key: bytes, associated: bytes = b"") -> bytes:
    recipient = X25519PublicKey.from_public_bytes(recipient_public_key)
    eph = X25519PrivateKey.generate()
    eph_pub = _raw(eph.public_key())
    key = _key(eph.exchange(recipient), eph_pub, recipient_public_key)
    nonce = os.urandom(12)
    return MAGIC + eph_pub + nonce + AESGCM(key).encrypt(nonce, data, associated)


def open_sealed(blob: bytes, private_key: X25519PrivateKey, associated: bytes = b"") -> bytes:
    """The backend side (and the tests)."""
    if blob[:4] != MAGIC:
        raise ValueError("not a sealed face review blob")
    eph_pub, nonce, body = blob[4:36], blob[36:48], blob[48:]
    key = _key(private_key.exchange(X25519PublicKey.from_public_bytes(eph_pub)), eph_pub, _raw(private_key.public_key()))
    return AESGCM(key).decrypt(nonce, body, associated)
