"""The kiosk's own key (Ed25519) and sealing to the backend's review key (X25519).

The signing key lives in one file under ``kiosk.data_dir`` with 0600 permissions, created by
``kiosk enroll``. Every outbox record and every online request is signed with it, so the backend
can tell which kiosk wrote what and that nobody changed it on the way.

Sealing: fields the kiosk must hand to the backend but must not keep readable (the capture photo
for manual review) are encrypted to the backend's X25519 public key with an ephemeral key pair:
``x25519-hkdf-sha256-aesgcm``. The kiosk cannot open what it sealed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEAL_ALG = "x25519-hkdf-sha256-aesgcm"
# HKDF parameters of the seal (the backend uses the same to open it): salt = epk || recipient key.
SEAL_INFO = b"sscard-kiosk sealed field v1"


class SigningKeyError(Exception):
    """Base of key problems; the message says what the operator should do."""


class KeyMissingError(SigningKeyError):
    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"the kiosk signing key {path} does not exist: run `kiosk enroll --token T` "
                         "with the enrollment token from the bureau")


class KeyPermissionError(SigningKeyError):
    def __init__(self, path: Path, mode: int) -> None:
        self.path = path
        self.mode = mode
        super().__init__(f"the kiosk signing key {path} is readable by others (mode {mode:04o}): "
                         f"run `chmod 600 {path}` and check who could have copied it")


class KeyInvalidError(SigningKeyError):
    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(f"the kiosk signing key {path} is unusable ({problem}): "
                         "move it away and run `kiosk enroll --token T` again")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def canonical_json(obj: Any) -> bytes:
    """The exact bytes that are signed: sorted keys, no spaces, UTF-8 (shared with the backend)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def request_signing_bytes(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    """What an online request's X-Kiosk-Signature covers: method, path (with query), time, body hash."""
    return f"{method.upper()}\n{path}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}".encode()


class Signer:
    """The kiosk's Ed25519 key. ``repr`` never shows the key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key_raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def __repr__(self) -> str:
        return f"<Signer public={b64(self.public_key_raw)[:12]}...>"

    @property
    def public_key_b64(self) -> str:
        return b64(self.public_key_raw)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def sign_b64(self, data: bytes) -> str:
        return b64(self._key.sign(data))

    def x25519_key(self) -> X25519PrivateKey:
        """The X25519 key of this Ed25519 key: roster templates are sealed to it (kiosk/roster_seal.py)."""
        from kiosk.roster_seal import x25519_private_of

        return x25519_private_of(self._key)

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())


def verify_signature(public_key_raw: bytes, signature: bytes, data: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key_raw).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def key_path(data_dir: Path, key_file: str) -> Path:
    path = Path(key_file).expanduser()
    return path if path.is_absolute() else data_dir / path


def load_signer(path: Path) -> Signer:
    """Read the key, refusing a missing file or one that others could read."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyMissingError(path) from None
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise KeyPermissionError(path, mode)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyInvalidError(path, "not a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyInvalidError(path, "not an Ed25519 key")
    return Signer(key)


def create_key(path: Path) -> Signer:
    """Write a new key with 0600 from the first byte (O_EXCL: never overwrite an existing key)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    return Signer(key)


# -- sealing ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewKey:
    """The backend's X25519 public key for review material (not a secret)."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != 32:
            raise ValueError("an X25519 public key has 32 bytes")

    @property
    def b64(self) -> str:
        return b64(self.raw)


def parse_review_key(text: str | bytes) -> ReviewKey:
    """A pinned key file holds the base64 raw key, or a PEM public key."""
    data = text.encode() if isinstance(text, str) else text
    if b"BEGIN PUBLIC KEY" in data:
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, X25519PublicKey):
            raise ValueError("the PEM file is not an X25519 public key")
        return ReviewKey(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    return ReviewKey(unb64(data.decode("ascii").strip()))


def _seal_key(shared: bytes, epk: bytes, recipient: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + recipient, info=info).derive(shared)


def seal(recipient: ReviewKey, plaintext: bytes | bytearray, *, alg: str = SEAL_ALG,
         info: bytes = SEAL_INFO) -> dict[str, str]:
    """Encrypt to the backend; the ephemeral private key is dropped at once. ``alg``/``info`` name
    another use of the same construction (kiosk/roster_seal.py: template keys to a field kiosk)."""
    ephemeral = X25519PrivateKey.generate()
    epk = ephemeral.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient.raw))
    nonce = os.urandom(12)
    ct = AESGCM(_seal_key(shared, epk, recipient.raw, info)).encrypt(nonce, bytes(plaintext), alg.encode())
    return {"enc": alg, "epk": b64(epk), "nonce": b64(nonce), "ct": b64(ct)}


def open_sealed(private_key: X25519PrivateKey, sealed: dict[str, str], *, alg: str = SEAL_ALG,
                info: bytes = SEAL_INFO) -> bytes:
    """The backend's side of :func:`seal` (here so both ends share one definition; tests use it)."""
    if sealed.get("enc") != alg:
        raise ValueError(f"unknown sealing {sealed.get('enc')!r}")
    epk = unb64(sealed["epk"])
    recipient = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    shared = private_key.exchange(X25519PublicKey.from_public_bytes(epk))
    try:
        return AESGCM(_seal_key(shared, epk, recipient, info)).decrypt(
            unb64(sealed["nonce"]), unb64(sealed["ct"]), alg.encode())
    except InvalidTag as exc:
        raise ValueError("sealed data does not open with this key (tampered or wrong key)") from exc


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and value.get("enc") == SEAL_ALG and "ct" in value
