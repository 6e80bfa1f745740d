"""A PSAM with the PBOC-style command set public drivers use (DES INIT 80 1A, DES CRYPT 80 FA),
plus two vendor commands for the PIN pad's working key. Another vendor = another module.

- ``80 1A P1 P2 Lc <card id (16)> [<challenge (8)>]`` DES INIT: P1 = the card key id (0A read,
  06 PIN unblock), +0x80 for the SM4 key set; P2 = key version (01). The PSAM diversifies the
  issuer master key by the card identification code and, with a challenge, derives the session key.
- ``80 FA 00 00 Lc <blocks>`` DES CRYPT encrypt (ECB) under the current key; ``80 FA 05 00 Lc
  <data>`` MAC (the PSAM pads 80 00.., zero IV, 4 bytes).
- ``80 F6 P1 00 00`` new PIN working key (P1 01 3DES, 03 SM4): wrapped key (16) || KCV (3).
- ``80 F8 P1 00 Lc <PAN digits> 00 <PIN block>`` decrypt a pad PIN block (P1 = ISO 9564 format):
  L || PIN BCD padded with F.
"""

from __future__ import annotations

from drivers.smartcard.api import CardError, CardOutcome, WrappedWorkingKey
from drivers.smartcard.transport import Transport

_SM4_KEY_SET = 0x80
_KEY_VERSION = 0x01
_ALGORITHM_CODES = {"3des": 0x01, "sm4": 0x03}


class PbocPsam:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _check(self, sw: int, what: str) -> None:
        if sw != 0x9000:
            raise CardError(CardOutcome.PSAM_ERROR, f"PSAM refused {what}", sw=sw)

    def _des_init(self, key_id: int, algorithm: str, card_id: bytes, challenge: bytes = b"") -> None:
        p1 = key_id | (_SM4_KEY_SET if algorithm == "sm4" else 0)
        div = card_id.ljust(16, b"\x00")[:16]
        self._check(self._t.send(0x80, 0x1A, p1, _KEY_VERSION, div + challenge).sw, "DES INIT")

    def _block(self, algorithm: str, data: bytes) -> bytes:
        return data.ljust(16 if algorithm == "sm4" else 8, b"\x00")

    def external_auth_data(self, key_id: int, algorithm: str, card_id: bytes,
                           first: bytes, second: bytes) -> bytes:
        self._des_init(key_id, algorithm, card_id, second)
        answer = self._t.send(0x80, 0xFA, 0x00, 0x00, self._block(algorithm, first), secret=True)
        self._check(answer.sw, "DES CRYPT")
        return bytes(answer.data[:8]) + first

    def begin_session(self, key_id: int, algorithm: str, card_id: bytes, challenge: bytes) -> None:
        self._des_init(key_id, algorithm, card_id, challenge)

    def encrypt(self, plain: bytearray) -> bytearray:
        answer = self._t.send(0x80, 0xFA, 0x00, 0x00, plain, secret=True)
        self._check(answer.sw, "DES CRYPT encrypt")
        return answer.data

    def mac(self, data: bytes | bytearray) -> bytes:
        answer = self._t.send(0x80, 0xFA, 0x05, 0x00, data, secret=True)
        self._check(answer.sw, "DES CRYPT MAC")
        if len(answer.data) != 4:
            raise CardError(CardOutcome.PSAM_ERROR, "PSAM MAC is not 4 bytes")
        return bytes(answer.data)

    def new_pin_working_key(self, algorithm: str) -> WrappedWorkingKey:
        answer = self._t.send(0x80, 0xF6, _ALGORITHM_CODES[algorithm], 0x00, le=0x00, secret=True)
        self._check(answer.sw, "new PIN working key")
        if len(answer.data) != 19:
            raise CardError(CardOutcome.PSAM_ERROR, "PSAM working key answer is not 16 + 3 bytes")
        return WrappedWorkingKey(algorithm, bytes(answer.data[:16]), bytes(answer.data[16:]))

    def decrypt_pin_block(self, block: bytes, pan: str, fmt: int) -> bytearray:
        data = bytearray(pan.encode("ascii")) + b"\x00" + block
        try:
            answer = self._t.send(0x80, 0xF8, fmt, 0x00, data, secret=True)
        finally:
            data[:] = bytes(len(data))
        if answer.sw == 0x6A80:
            raise CardError(CardOutcome.INVALID_PIN_FORMAT, "the PIN block does not decode (key, PAN or format)")
        self._check(answer.sw, "PIN block decryption")
        try:
            if not answer.data or len(answer.data) != 1 + (answer.data[0] + 1) // 2:
                raise CardError(CardOutcome.PSAM_ERROR, "PSAM PIN answer has the wrong length")
            return bytearray(answer.data[1:])
        finally:
            answer.data[:] = bytes(len(answer.data))
