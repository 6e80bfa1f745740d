"""The secure-messaging arithmetic shared by the virtual card and the virtual PSAM.

A real kiosk never runs this: a real PSAM does it inside. It follows docs/smartcard.md:
- card key = diversify(issuer master key, card identification code) (PBOC style: for DES,
  D = first 8 bytes XOR last 8 bytes of the 16-byte code, key = E(D) || E(NOT D); for SM4,
  key = E(code));
- session key = E(card key, challenge) (8 bytes for DES, so single DES; SM4 pads the challenge
  with zeros to 16 bytes);
- MAC = CBC-MAC, zero IV, ISO 9797-1 method 2 padding, first 4 bytes, under the session key;
- external authentication data = E(session key from the 2nd challenge, 1st challenge)[:8] || 1st challenge.
"""

from __future__ import annotations

from drivers.crypto.ciphers import BlockCipher, Sm4, TripleDes, cbc_mac, xor


def cipher(algorithm: str, key: bytes) -> BlockCipher:
    return Sm4(key) if algorithm == "sm4" else TripleDes(key)


def diversify(algorithm: str, master: bytes, card_id: bytes) -> bytes:
    data = card_id.ljust(16, b"\x00")[:16]
    if algorithm == "sm4":
        return Sm4(master).encrypt(data)
    folded = xor(data[:8], data[8:])
    des = TripleDes(master)
    return des.encrypt(folded) + des.encrypt(bytes(b ^ 0xFF for b in folded))


def block(algorithm: str, data: bytes) -> bytes:
    """Pad an 8-byte challenge to the cipher's block with zeros."""
    return data.ljust(16 if algorithm == "sm4" else 8, b"\x00")


def session_key(algorithm: str, card_key: bytes, challenge: bytes) -> bytes:
    return cipher(algorithm, card_key).encrypt(block(algorithm, challenge))


def external_auth_data(algorithm: str, card_key: bytes, first: bytes, second: bytes) -> bytes:
    sk = session_key(algorithm, card_key, second)
    return cipher(algorithm, sk).encrypt(block(algorithm, first))[:8] + first


def mac(algorithm: str, sk: bytes, data: bytes) -> bytes:
    return cbc_mac(cipher(algorithm, sk), data, length=4)
