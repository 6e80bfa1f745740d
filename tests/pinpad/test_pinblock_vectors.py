"""ISO 9564 PIN blocks and the ciphers under them, against published vectors (sources cited per test)."""

from __future__ import annotations

import pytest

from drivers.crypto.ciphers import Aes, Sm4, TripleDes, kcv, xor
from drivers.crypto.pinblock import (
    PinBlockError,
    PinBlockFormat,
    decrypt_pin_block,
    encrypt_pin_block,
    pan_field_8,
    pan_field_16,
    pin_field,
)


class ClearBlock:
    """The identity 'cipher': lets the published *clear* PIN blocks be checked through the same
    encode/decode functions the pad and the PSAM use."""

    name = "clear"

    def __init__(self, block_size: int = 8) -> None:
        self.block_size = block_size

    def encrypt(self, data: bytes) -> bytes:
        return data

    def decrypt(self, data: bytes) -> bytes:
        return data


def test_sm4_standard_vector() -> None:
    # GB/T 32907-2016 (SM4) appendix A example 1: key = plaintext.
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    assert Sm4(key).encrypt(key).hex() == "681edf34d206965e86b3e94f536e4246"
    assert Sm4(key).decrypt(bytes.fromhex("681edf34d206965e86b3e94f536e4246")) == key


def test_3des_key_check_value() -> None:
    # The widely published KCV of the double-length test key 0123456789ABCDEF FEDCBA9876543210
    # (e.g. EFTlab key check value calculator examples): 08D7B4.
    assert kcv(TripleDes(bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"))).hex().upper() == "08D7B4"


def test_ibm_cca_format3_example() -> None:
    # IBM CCA documentation, PIN block format 3 example (quoted in ../shared/design/PINPAD.md):
    # PIN 123456, PAN 111222333444555 -> intermediate 36123456AFBECDDC, PAN block
    # 0000222333444555, PIN block 361216759CFA8889. The account number has no check digit here.
    pan_block = pan_field_8("111222333444555", has_check_digit=False)
    assert pan_block.hex().upper() == "0000222333444555"
    intermediate = bytes.fromhex("36123456AFBECDDC")
    assert xor(intermediate, pan_block).hex().upper() == "361216759CFA8889"
    pin = decrypt_pin_block(bytes.fromhex("361216759CFA8889"), "111222333444555", PinBlockFormat.ISO3,
                            ClearBlock(), pan_has_check_digit=False)
    assert pin == bytearray(b"123456")
    # Our own format-3 field has the same layout; its fill is random A-F, so check the layout.
    field = pin_field(bytearray(b"123456"), PinBlockFormat.ISO3)
    assert field[:4].hex().upper() == "36123456"
    assert all(int(n, 16) >= 0xA for n in field[4:].hex())


@pytest.mark.parametrize(("clear_block", "pan", "pin"), [
    # EFTlab, "Complete list of PIN blocks", ISO format 0 example.
    ("0412AC89ABCDEF67", "43219876543210987", "1234"),
    # Further published clear format-0 blocks (public PIN-block unit tests of open-source libraries).
    ("041215FEDCBA9876", "5432101234567891", "1234"),
    ("0612076FFFFFFEAE", "5413339000001513", "123456"),
    ("04439CFFFFFF8FFE", "6799998900000070017", "4315"),
])
def test_format0_published_clear_blocks(clear_block: str, pan: str, pin: str) -> None:
    digits = bytearray(pin.encode())
    field = pin_field(digits, PinBlockFormat.ISO0)
    assert xor(bytes(field), pan_field_8(pan)).hex().upper() == clear_block
    assert encrypt_pin_block(digits, pan, PinBlockFormat.ISO0, ClearBlock()).hex().upper() == clear_block
    assert decrypt_pin_block(bytes.fromhex(clear_block), pan, PinBlockFormat.ISO0, ClearBlock()) == digits


def test_format4_x9_24_3_vector() -> None:
    # ANSI X9.24-3:2017 supplement, "Calculation of AES PIN Block Format 4": PIN 1234,
    # PAN 4111111111111111, random 2F69ADDE2E9E7ACE, key AF8CB133A78F8DC2D1359F18527593FB.
    key = Aes(bytes.fromhex("AF8CB133A78F8DC2D1359F18527593FB"))
    pan = "4111111111111111"
    assert pan_field_16(pan).hex().upper() == "44111111111111111000000000000000"
    field = pin_field(bytearray(b"1234"), PinBlockFormat.ISO4)
    assert field[:8].hex().upper() == "441234AAAAAAAAAA"
    clear = bytes.fromhex("441234AAAAAAAAAA2F69ADDE2E9E7ACE")
    expected = "A912150391AB65A67E52883D81CE2D15"
    assert key.encrypt(xor(key.encrypt(clear), pan_field_16(pan))).hex().upper() == expected
    assert decrypt_pin_block(bytes.fromhex(expected), pan, PinBlockFormat.ISO4, key) == bytearray(b"1234")


def test_format4_psec_vector() -> None:
    # knovichikhin/psec (PyPI) format-4 decipher example.
    key = Aes(bytes.fromhex("00112233445566778899AABBCCDDEEFF"))
    block = bytes.fromhex("E4BE5B623AF7E006AC319E5B93544564")
    assert decrypt_pin_block(block, "1234567890123456", PinBlockFormat.ISO4, key) == bytearray(b"1234")


@pytest.mark.parametrize(("pan", "field"), [
    # openemv/pinblock test/pinblock_format4_test.c: padded and short PANs.
    ("411111111111111", "34111111111111110000000000000000"),
    ("123456789", "00001234567890000000000000000000"),
])
def test_format4_pan_field_layout(pan: str, field: str) -> None:
    assert pan_field_16(pan).hex() == field


@pytest.mark.parametrize("cipher", [TripleDes(bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")),
                                    Sm4(bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")),
                                    Aes(bytes.fromhex("00112233445566778899AABBCCDDEEFF"))],
                         ids=["3des", "sm4", "aes"])
@pytest.mark.parametrize("fmt", [PinBlockFormat.ISO0, PinBlockFormat.ISO3, PinBlockFormat.ISO4])
def test_round_trip_every_cipher_and_format(cipher, fmt: PinBlockFormat) -> None:  # type: ignore[no-untyped-def]
    if fmt is PinBlockFormat.ISO4 and cipher.block_size != 16:
        with pytest.raises(PinBlockError):
            encrypt_pin_block(bytearray(b"123456"), "6222020200112233445", fmt, cipher)
        return
    block = encrypt_pin_block(bytearray(b"123456"), "6222020200112233445", fmt, cipher)
    assert len(block) == cipher.block_size
    assert decrypt_pin_block(block, "6222020200112233445", fmt, cipher) == bytearray(b"123456")


def test_sm4_format0_is_the_8_byte_block_then_8_zero_bytes() -> None:
    # The setting "zero_suffix" (PINPAD.md: the layout a published bank example matches).
    sm4 = Sm4(bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"))
    block = encrypt_pin_block(bytearray(b"1234"), "43219876543210987", PinBlockFormat.ISO0, sm4)
    assert sm4.decrypt(block).hex().upper() == "0412AC89ABCDEF67" + "00" * 8
    with pytest.raises(PinBlockError):
        encrypt_pin_block(bytearray(b"1234"), "43219876543210987", PinBlockFormat.ISO0, sm4, expand_to_16=False)


def test_errors_never_name_digits() -> None:
    sm4 = Sm4(bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"))
    block = encrypt_pin_block(bytearray(b"987654"), "43219876543210987", PinBlockFormat.ISO0, sm4)
    wrong = Sm4(bytes(16))
    with pytest.raises(PinBlockError) as info:
        decrypt_pin_block(block, "43219876543210987", PinBlockFormat.ISO0, wrong)
    assert "987654" not in str(info.value) and "987654" not in repr(info.value)
    with pytest.raises(PinBlockError) as info:
        pin_field(bytearray(b"12a"), PinBlockFormat.ISO0)
    assert "12a" not in str(info.value)
