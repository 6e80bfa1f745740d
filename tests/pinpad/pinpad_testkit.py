"""Test keys and helpers for the PIN pad tests (a uniquely named module: several test folders
have a conftest.py, so tests import shared names from here, never from "conftest")."""

from __future__ import annotations

from drivers.crypto.ciphers import BlockCipher, cipher_for, kcv

# Test keys (the SM4 one is the GB/T 32907 example key).
MASTER = {"sm4": bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"),
          "3des": bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")}
WORK = {"sm4": bytes.fromhex("00112233445566778899AABBCCDDEEFF"),
        "3des": bytes.fromhex("1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A")}
# A long card number and the 12 PAN-field digits it gives (no check digit: the driver's default,
# as for the social-security card number).
PAN = "6222020200112233445"
PAN_FIELD_DIGITS = "200112233445"
FAST = {"answer_timeout_s": 0.25, "command_timeout_s": 3.0, "retries": 2}


def wrapped_work_key(algorithm: str) -> bytes:
    """What the PSAM hands over: the working key encrypted under the pad's master key."""
    return cipher_for(algorithm, MASTER[algorithm]).encrypt(WORK[algorithm])


def work_cipher(algorithm: str) -> BlockCipher:
    return cipher_for(algorithm, WORK[algorithm])


def work_kcv(algorithm: str) -> bytes:
    return kcv(work_cipher(algorithm))
