"""Single-block ciphers (3DES, SM4, AES) with ECB/CBC helpers and key check values.

Only what the PIN pad, the PSAM and card secure messaging need. Keys come from the pad or the
PSAM (or from test fixtures); production code never reads a key from a file.
"""

from __future__ import annotations

from typing import Protocol

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class BlockCipher(Protocol):
    block_size: int
    name: str

    def encrypt(self, data: bytes) -> bytes: ...
    def decrypt(self, data: bytes) -> bytes: ...


class _EcbCipher:
    block_size = 16
    name = "?"

    def __init__(self, algorithm: object) -> None:
        self._cipher = Cipher(algorithm, modes.ECB())  # type: ignore[arg-type]  # noqa: S305 - block primitive

    def encrypt(self, data: bytes) -> bytes:
        _check_blocks(data, self.block_size)
        enc = self._cipher.encryptor()
        return enc.update(data) + enc.finalize()

    def decrypt(self, data: bytes) -> bytes:
        _check_blocks(data, self.block_size)
        dec = self._cipher.decryptor()
        return dec.update(data) + dec.finalize()


class TripleDes(_EcbCipher):
    """3DES (or single DES when given an 8-byte key, as old cards use)."""

    block_size = 8
    name = "3des"

    def __init__(self, key: bytes) -> None:
        if len(key) == 8:
            key = key * 3
        elif len(key) == 16:
            key = key + key[:8]          # K1|K2|K1: cryptography deprecates 16-byte keys
        elif len(key) != 24:
            raise ValueError("a DES/3DES key has 8, 16 or 24 bytes")
        super().__init__(TripleDES(key))


class Sm4(_EcbCipher):
    block_size = 16
    name = "sm4"

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise ValueError("an SM4 key has 16 bytes")
        super().__init__(algorithms.SM4(key))


class Aes(_EcbCipher):
    block_size = 16
    name = "aes"

    def __init__(self, key: bytes) -> None:
        if len(key) not in (16, 24, 32):
            raise ValueError("an AES key has 16, 24 or 32 bytes")
        super().__init__(algorithms.AES(key))


def cipher_for(algorithm: str, key: bytes) -> BlockCipher:
    return {"3des": TripleDes, "des": TripleDes, "sm4": Sm4, "aes": Aes}[algorithm](key)


def _check_blocks(data: bytes, size: int) -> None:
    if len(data) == 0 or len(data) % size:
        raise ValueError(f"data must be a non-empty multiple of {size} bytes")


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def kcv(cipher: BlockCipher, length: int = 3) -> bytes:
    """Key check value: the first bytes of the key's encryption of a zero block."""
    return cipher.encrypt(bytes(cipher.block_size))[:length]


def pad_iso9797_m2(data: bytes, block_size: int) -> bytes:
    """Append 80 then 00.. to a whole number of blocks (the card spec's MAC padding)."""
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % block_size)


def cbc_mac(cipher: BlockCipher, data: bytes, iv: bytes | None = None, length: int = 4) -> bytes:
    """CBC-MAC with zero IV over ISO 9797-1 method 2 padded data; first ``length`` bytes."""
    size = cipher.block_size
    chain = iv if iv is not None else bytes(size)
    padded = pad_iso9797_m2(data, size)
    for i in range(0, len(padded), size):
        chain = cipher.encrypt(xor(chain, padded[i:i + size]))
    return chain[:length]
