"""Signed release bundles: build, verify (before anything is unpacked), unpack.

One file, ``<version>.kbundle``::

    SSKIOSK-BUNDLE 1\\n
    {"format": 1, "version": ..., "key_id": ..., "payload_sha256": ..., "payload_size": N,
     "signature": <base64 Ed25519 signature>}\\n
    <N bytes: tar.gz with app/ (the application tree) and, optionally, wheels/ (its dependencies)>

The signature covers the magic line and the header without its ``signature`` field, as canonical
JSON; the header pins the payload's sha256 and size. :func:`verify_bundle` checks the key is one
of the kiosk's trusted release keys, the signature, then streams the payload through sha256;
only a bundle that passed all three is ever opened by tarfile. The bundle's own sha256 (of the
whole file) is the release identity the heartbeat reports.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MAGIC = b"SSKIOSK-BUNDLE 1\n"
MAX_HEADER = 64 * 1024
APP_PARTS = ("kiosk", "drivers", "ui", "models", "backend", "config", "locale", "pyproject.toml", "README.md")
_SKIP = {"__pycache__", ".pytest_cache", ".ruff_cache"}


class BundleError(Exception):
    """The bundle is not one to install; the message says why and what to do."""


@dataclass(frozen=True)
class VerifiedBundle:
    path: Path
    version: str
    key_id: str
    sha256: str            # of the whole bundle file
    payload_sha256: str
    payload_offset: int
    payload_size: int


# -- keys -------------------------------------------------------------------------------------------
def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key(private_path: Path, passphrase: bytes | None) -> str:
    """A new release key: private PEM (encrypted when a passphrase is given) and ``<id>.pub`` beside it."""
    private = Ed25519PrivateKey.generate()
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    private_path.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   encryption))
    private_path.chmod(0o600)
    kid = key_id(private.public_key())
    (private_path.parent / f"{kid}.pub").write_bytes(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return kid


def load_private_key(path: Path, passphrase: bytes | None) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), passphrase)
    except (ValueError, TypeError) as exc:
        raise BundleError(f"{path}: cannot load the release key ({exc}); check the passphrase") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(f"{path}: not an Ed25519 key")
    return key


def trusted_keys(keys_dir: Path) -> dict[str, Ed25519PublicKey]:
    """The public release keys this kiosk trusts (``*.pub`` PEM files), by key id."""
    keys: dict[str, Ed25519PublicKey] = {}
    for pub in sorted(keys_dir.glob("*.pub")) if keys_dir.is_dir() else []:
        try:
            key = serialization.load_pem_public_key(pub.read_bytes())
        except ValueError:
            continue
        if isinstance(key, Ed25519PublicKey):
            keys[key_id(key)] = key
    return keys


# -- build ------------------------------------------------------------------------------------------
def _signed_bytes(header: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in header.items() if k != "signature"}
    return MAGIC + json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()


def _add_tree(tar: tarfile.TarFile, source: Path, arcname: str) -> None:
    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        parts = set(Path(info.name).parts)
        if parts & _SKIP or info.name.endswith((".pyc", ".pyo")):
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = 0          # reproducible: the same tree gives the same bundle
        return info

    tar.add(source, arcname=arcname, filter=keep)


def requirements_from(pyproject: Path) -> str:
    """The exact pins of the project's runtime dependencies, for an offline pip install."""
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    return "".join(f"{dep}\n" for dep in deps)


def build_bundle(source: Path, version: str, private: Ed25519PrivateKey, out: Path,
                 wheels: Path | None = None, parts: tuple[str, ...] = APP_PARTS) -> Path:
    """Pack ``source``'s application tree (and ``wheels``) and sign it into ``out``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for part in parts:
            if (source / part).exists():
                _add_tree(tar, source / part, f"app/{part}")
        if (source / "pyproject.toml").exists():
            data = requirements_from(source / "pyproject.toml").encode()
            info = tarfile.TarInfo("app/requirements.txt")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        if wheels is not None:
            _add_tree(tar, wheels, "wheels")
    payload = buffer.getvalue()
    header: dict[str, Any] = {"format": 1, "version": version, "key_id": key_id(private.public_key()),
                              "payload_sha256": hashlib.sha256(payload).hexdigest(), "payload_size": len(payload)}
    header["signature"] = base64.b64encode(private.sign(_signed_bytes(header))).decode()
    tmp = out.with_name(out.name + ".part")
    with tmp.open("wb") as f:
        f.write(MAGIC)
        f.write(json.dumps(header, sort_keys=True).encode() + b"\n")
        f.write(payload)
    tmp.replace(out)
    return out


# -- verify -----------------------------------------------------------------------------------------
def _read_header(f: BinaryIO, path: Path) -> dict[str, Any]:
    if f.read(len(MAGIC)) != MAGIC:
        raise BundleError(f"{path.name}: not a kiosk release bundle (wrong first line)")
    line = f.readline(MAX_HEADER)
    if not line.endswith(b"\n"):
        raise BundleError(f"{path.name}: bundle header is cut off or too long")
    try:
        header = json.loads(line)
    except ValueError as exc:
        raise BundleError(f"{path.name}: bundle header is not valid JSON") from exc
    needed = {"format": int, "version": str, "key_id": str, "payload_sha256": str, "payload_size": int,
              "signature": str}
    if not isinstance(header, dict) or any(not isinstance(header.get(k), t) for k, t in needed.items()):
        raise BundleError(f"{path.name}: bundle header lacks one of {sorted(needed)}")
    if header["format"] != 1:
        raise BundleError(f"{path.name}: bundle format {header['format']} is newer than this kiosk understands")
    return header


def verify_bundle(path: Path, keys: dict[str, Ed25519PublicKey]) -> VerifiedBundle:
    """Check key, signature and payload hash; raise BundleError naming what failed. Unpacks nothing."""
    whole = hashlib.sha256()
    with path.open("rb") as f:
        header = _read_header(f, path)
        offset = f.tell()
        key = keys.get(header["key_id"])
        if key is None:
            raise BundleError(f"{path.name}: signed by key {header['key_id']}, which this kiosk does not trust "
                              "(not in its release-keys folder); refused")
        try:
            key.verify(base64.b64decode(header["signature"], validate=True), _signed_bytes(header))
        except (InvalidSignature, ValueError) as exc:
            raise BundleError(f"{path.name}: the signature does not match (altered or corrupt bundle); "
                              "refused, nothing was unpacked") from exc
        f.seek(0)
        whole.update(f.read(offset))
        payload = hashlib.sha256()
        size = 0
        while chunk := f.read(1 << 20):
            payload.update(chunk)
            whole.update(chunk)
            size += len(chunk)
    if size != header["payload_size"] or payload.hexdigest() != header["payload_sha256"]:
        raise BundleError(f"{path.name}: the payload differs from what was signed (altered or truncated); "
                          "refused, nothing was unpacked")
    return VerifiedBundle(path, header["version"], header["key_id"], whole.hexdigest(), header["payload_sha256"],
                          offset, size)


def _checked(member: tarfile.TarInfo, bundle_name: str) -> tarfile.TarInfo:
    """Only plain files and folders, inside the destination, with ordinary modes."""
    parts = Path(member.name).parts
    if member.name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir()):
        raise BundleError(f"{bundle_name}: refuses to unpack {member.name!r} (links, devices and paths "
                          "outside the release are not allowed)")
    member.mode = (member.mode & 0o755) | (0o755 if member.isdir() else 0o644)
    member.uid = member.gid = 0
    return member


def unpack_verified(bundle: VerifiedBundle, dest: Path) -> None:
    """Extract a verified bundle's payload into ``dest`` (tarfile's 'data' filter: no escapes, no devices).

    The payload is first copied to a private file and hashed again, so a bundle swapped on disk
    after :func:`verify_bundle` is refused, not unpacked."""
    dest.mkdir(parents=True, exist_ok=True)
    copy = dest / ".payload.tar.gz"
    digest = hashlib.sha256()
    with bundle.path.open("rb") as f, copy.open("wb") as out:
        f.seek(bundle.payload_offset)
        left = bundle.payload_size
        while left and (chunk := f.read(min(left, 1 << 20))):
            digest.update(chunk)
            out.write(chunk)
            left -= len(chunk)
    try:
        if digest.hexdigest() != bundle.payload_sha256:
            raise BundleError(f"{bundle.path.name}: the file changed after it was verified; refused")
        with tarfile.open(copy, mode="r:gz") as tar:
            members = [_checked(m, bundle.path.name) for m in tar.getmembers()]
            # Debian 12's Python 3.11.2 predates tarfile's filters: _checked does their job there.
            extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(dest, members=members, **extra)  # noqa: S202 - every member passed _checked
    finally:
        copy.unlink(missing_ok=True)
