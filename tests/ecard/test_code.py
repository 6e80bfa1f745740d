"""The e-card sign-in code's format and offline checks (kiosk/ecard/code.py)."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.ecard import code

NOW = 1_796_000_000


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.fixture(scope="module")
def platform() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def trusted(platform: Ed25519PrivateKey) -> dict[str, bytes]:
    return {"hrss-demo": raw(platform)}


def make(key: Ed25519PrivateKey, iss: str = "hrss-demo", issued_at: int = NOW, ttl: int = 60) -> str:
    return code.issue(key, iss, os.urandom(code.ID_LEN), os.urandom(code.ID_LEN), issued_at, ttl)


def refusal_of(text: str, trusted: dict[str, bytes], now: float = NOW + 5) -> code.CodeRefusal:
    with pytest.raises(code.CodeError) as caught:
        code.verify(text, trusted, now)
    assert len(text) < 8 or text not in str(caught.value), "a refusal must not echo the code"
    return caught.value.refusal


def test_a_fresh_code_verifies_and_fits_a_small_qr(platform: Ed25519PrivateKey, trusted: dict[str, bytes]) -> None:
    subject, jti = os.urandom(code.ID_LEN), os.urandom(code.ID_LEN)
    text = code.issue(platform, "hrss-demo", subject, jti, NOW, 60)
    checked = code.verify(text, trusted, NOW + 59)
    assert (checked.subject, checked.jti, checked.iss, checked.expires_at) == (subject, jti, "hrss-demo", NOW + 60)
    # Base32 upper case and digits only: the QR's alphanumeric mode, version 6 at level M (195 chars).
    assert len(text) <= 195 and text == text.upper()


def test_expired_code_is_refused_even_one_second_late(platform: Ed25519PrivateKey,
                                                      trusted: dict[str, bytes]) -> None:
    assert refusal_of(make(platform), trusted, now=NOW + 60) is code.CodeRefusal.EXPIRED
    assert refusal_of(make(platform, issued_at=NOW - 3600), trusted) is code.CodeRefusal.EXPIRED


def test_code_from_the_future_means_the_kiosk_clock_is_wrong(platform: Ed25519PrivateKey,
                                                             trusted: dict[str, bytes]) -> None:
    assert refusal_of(make(platform, issued_at=NOW + 600), trusted) is code.CodeRefusal.NOT_YET_VALID
    # Within the allowed skew it passes.
    code.verify(make(platform, issued_at=NOW + 20), trusted, NOW)


def test_another_platform_is_refused_by_name(trusted: dict[str, bytes]) -> None:
    other = Ed25519PrivateKey.generate()
    assert refusal_of(make(other, iss="other-platform"), trusted) is code.CodeRefusal.FOREIGN_PLATFORM


def test_our_platform_name_with_another_key_is_tampered(trusted: dict[str, bytes]) -> None:
    forger = Ed25519PrivateKey.generate()
    assert refusal_of(make(forger), trusted) is code.CodeRefusal.TAMPERED


def test_every_changed_bit_of_a_code_is_caught(platform: Ed25519PrivateKey, trusted: dict[str, bytes]) -> None:
    text = make(platform)
    body = base64.b32decode(text[len(code.PREFIX):] + "=" * (-len(text[len(code.PREFIX):]) % 8))
    for index in range(len(body)):
        flipped = bytearray(body)
        flipped[index] ^= 0x01
        forged = code.PREFIX + base64.b32encode(bytes(flipped)).decode().rstrip("=")
        assert refusal_of(forged, trusted) in (code.CodeRefusal.TAMPERED, code.CodeRefusal.NOT_A_CODE,
                                               code.CodeRefusal.FOREIGN_PLATFORM), index


@pytest.mark.parametrize("text", ["", "hello", "https://example.org/", "ESSC1:", "ESSC1:!!!!",
                                  "ESSC1:" + "A" * 400, "ESSC2:" + "A" * 100])
def test_other_qr_codes_are_not_codes(text: str, trusted: dict[str, bytes]) -> None:
    assert refusal_of(text, trusted) is code.CodeRefusal.NOT_A_CODE


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=200).map(
    lambda b: code.PREFIX + base64.b32encode(b).decode().rstrip("="))))
def test_any_text_is_refused_with_a_code_error_never_a_crash(text: str) -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(code.CodeError):
        code.verify(text, {"hrss-demo": raw(key)}, NOW)
