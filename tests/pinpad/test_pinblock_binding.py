"""PIN blocks bound to their card: decoding refuses fills that are not the format's (as independent
libraries do), so a block made for one card number never decodes under another. Every published
vector in test_pinblock_vectors.py stays green beside these."""

from __future__ import annotations

import random

import pytest

from drivers.crypto.ciphers import Aes, Sm4, TripleDes, xor
from drivers.crypto.pinblock import (
    PinBlockError,
    PinBlockFormat,
    decrypt_pin_block,
    encrypt_pin_block,
    pan_field_8,
)

SM4 = Sm4(bytes.fromhex("0123456789abcdeffedcba9876543210"))
TDES = TripleDes(bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"))


def _clear_block(nibbles: str, pan: str, cipher, expand: bool = True) -> bytes:  # type: ignore[no-untyped-def]
    """Encrypt a hand-made format-0/3 PIN field (the fill chosen by the test) for ``pan``."""
    mixed = xor(bytes.fromhex(nibbles), pan_field_8(pan, has_check_digit=False))
    if cipher.block_size == 16:
        mixed += bytes(8) if expand else bytes.fromhex("0000000000000001")
    return cipher.encrypt(mixed)


@pytest.mark.parametrize("cipher", [SM4, TDES], ids=["sm4", "3des"])
@pytest.mark.parametrize(("fmt", "field"), [
    (PinBlockFormat.ISO0, "061234560FFFFFFF"),   # a 0 in the F fill
    (PinBlockFormat.ISO0, "06123456AAAAAAAA"),   # a format-3 fill under format 0
    (PinBlockFormat.ISO3, "3612345612345678"),   # digits as format-3 fill
    (PinBlockFormat.ISO3, "361234569ABCDEFA"),   # one digit among A-F
])
def test_a_block_whose_fill_is_not_the_formats_is_refused(cipher, fmt, field) -> None:  # type: ignore[no-untyped-def]
    block = _clear_block(field, "A12345678", cipher)
    with pytest.raises(PinBlockError, match="fill"):
        decrypt_pin_block(block, "A12345678", fmt, cipher, pan_has_check_digit=False)


@pytest.mark.parametrize("cipher", [SM4, TDES], ids=["sm4", "3des"])
def test_a_well_formed_fill_still_decodes(cipher) -> None:  # type: ignore[no-untyped-def]
    for fmt, field in ((PinBlockFormat.ISO0, "06123456FFFFFFFF"), (PinBlockFormat.ISO3, "36123456ABCDEFAB")):
        digits = decrypt_pin_block(_clear_block(field, "A12345678", cipher), "A12345678", fmt, cipher,
                                   pan_has_check_digit=False)
        assert digits == bytearray(b"123456")


def test_an_sm4_block_whose_expansion_is_not_zero_is_refused() -> None:
    block = _clear_block("06123456FFFFFFFF", "A12345678", SM4, expand=False)
    with pytest.raises(PinBlockError):
        decrypt_pin_block(block, "A12345678", PinBlockFormat.ISO0, SM4, pan_has_check_digit=False)


def test_a_format4_block_with_a_fill_that_is_not_a_is_refused() -> None:
    aes = Aes(bytes(range(16)))
    from drivers.crypto.pinblock import pan_field_16

    field = bytes.fromhex("441234FAAAAAAAAA") + bytes(range(8))     # an F among the A fill
    block = aes.encrypt(xor(aes.encrypt(field), pan_field_16("1234567890123456")))
    with pytest.raises(PinBlockError, match="fill"):
        decrypt_pin_block(block, "1234567890123456", PinBlockFormat.ISO4, aes)


def _foreign_decodes(cipher, fmt: PinBlockFormat) -> int:  # type: ignore[no-untyped-def]
    """How many of 2,000 blocks (6-digit PIN, 8-digit card number) decode under another card
    number; each also decodes to its PIN under its own."""
    rng = random.Random(18)
    decoded = 0
    for _ in range(2000):
        pin = f"{rng.randrange(10**6):06d}"
        own, other = (f"{letter}{rng.randrange(10**8):08d}" for letter in "AB")
        block = encrypt_pin_block(bytearray(pin.encode()), own, fmt, cipher, pan_has_check_digit=False)
        assert decrypt_pin_block(block, own, fmt, cipher, pan_has_check_digit=False) == bytearray(pin.encode())
        try:
            decrypt_pin_block(block, other, fmt, cipher, pan_has_check_digit=False)
            decoded += own[1:] != other[1:]
        except PinBlockError:
            pass
    return decoded


@pytest.mark.parametrize("cipher", [SM4, TDES], ids=["sm4", "3des"])
def test_a_format0_block_made_for_one_card_number_never_decodes_under_another(cipher) -> None:  # type: ignore[no-untyped-def]
    """The issue's case: 6-digit PINs and 8-digit card numbers, where the PAN only touches fill
    nibbles. Before the fill check all 2,000 decoded to the same PIN under the other number."""
    assert _foreign_decodes(cipher, PinBlockFormat.ISO0) == 0


def test_format3_binds_only_as_far_as_its_random_fill_allows() -> None:
    """Format 3's fill is random A-F: a foreign PAN that keeps every fill nibble in A-F passes the
    check (ISO 9564 allows no more). The kiosk uses format 0 (pin_handoff.PIN_BLOCK_FORMAT)."""
    assert _foreign_decodes(SM4, PinBlockFormat.ISO3) < 2000 // 100
