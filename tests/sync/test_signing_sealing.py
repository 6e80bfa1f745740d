"""The kiosk key file and sealing to the backend's review key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from backend.crypto import open_sealed as backend_open_sealed
from backend.crypto import seal as backend_seal
from kiosk.outbox import Outbox
from kiosk.signing import (
    KeyInvalidError,
    KeyMissingError,
    KeyPermissionError,
    ReviewKey,
    create_key,
    load_signer,
    open_sealed,
    parse_review_key,
    request_signing_bytes,
    seal,
)
from kiosk.store import ReviewKeyMissingError, Store


def test_key_is_created_0600_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "kiosk.key"
    signer = create_key(path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert load_signer(path).public_key_raw == signer.public_key_raw
    assert "PRIVATE" not in repr(signer)
    with pytest.raises(FileExistsError):
        create_key(path)                                            # never overwrites a key


def test_missing_key_says_run_enroll(tmp_path: Path) -> None:
    with pytest.raises(KeyMissingError, match="kiosk enroll"):
        load_signer(tmp_path / "nope.key")


def test_loose_permissions_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.key"
    create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyPermissionError, match="chmod 600"):
        load_signer(path)


def test_garbage_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"not a key")
    os.close(fd)
    with pytest.raises(KeyInvalidError, match="kiosk enroll"):
        load_signer(path)


def test_seal_opens_with_backend_code_and_back(review_private: X25519PrivateKey, review_key: ReviewKey) -> None:
    sealed = seal(review_key, b"\xff\xd8jpeg bytes")
    assert set(sealed) == {"enc", "epk", "nonce", "ct"} and sealed["enc"] == "x25519-hkdf-sha256-aesgcm"
    assert backend_open_sealed(review_private, sealed) == b"\xff\xd8jpeg bytes"
    assert open_sealed(review_private, backend_seal(review_key.raw, b"other")) == b"other"
    tampered = dict(sealed, ct=sealed["ct"][:-4] + ("AAAA" if sealed["ct"][-4:] != "AAAA" else "BBBB"))
    with pytest.raises(ValueError):
        open_sealed(review_private, tampered)
    with pytest.raises(ValueError):
        open_sealed(X25519PrivateKey.generate(), sealed)


def test_review_key_file_forms(review_private: X25519PrivateKey, review_key: ReviewKey) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = review_private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    assert parse_review_key(pem) == review_key
    assert parse_review_key(review_key.b64 + "\n") == review_key
    with pytest.raises(ValueError):
        parse_review_key("c2hvcnQ=")


def test_sealed_capture_never_stored_in_clear(store: Store, review_private: X25519PrivateKey) -> None:
    marker = b"CAPTURE-PIXELS-" + os.urandom(8).hex().encode()
    store.commit_result("certification", {"id_number": "440106195001011234", "result": "review"},
                        sealed={"capture": bytearray(marker)})
    import json
    envelope = json.loads(Outbox(store).pending(1)[0].envelope)
    assert backend_open_sealed(review_private, envelope["payload"]["capture"]) == marker
    store.close()
    for suffix in ("", "-wal", "-shm"):
        f = Path(str(store.path) + suffix)
        if f.exists():
            assert marker not in f.read_bytes()


def test_sealing_without_a_review_key_writes_nothing(tmp_path: Path) -> None:
    signer = create_key(tmp_path / "k.key")
    store = Store(tmp_path / "s.sqlite3", kiosk_id="k1", signer=signer)
    with pytest.raises(ReviewKeyMissingError, match="public_key_file"):
        store.commit_result("certification", {"id_number": "440106195001011234"}, sealed={"capture": b"x"})
    assert Outbox(store).counts().queued == 0
    store.close()


def test_request_signing_bytes_layout() -> None:
    data = request_signing_bytes("get", "/v1/roster?districts=a,b", "2026-11-23T08:00:00.000Z", b"")
    assert data == (b"GET\n/v1/roster?districts=a,b\n2026-11-23T08:00:00.000Z\n"
                    b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
