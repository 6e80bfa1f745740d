"""A virtual PSAM speaking the PBOC-style command set of drivers.smartcard.psam_pboc. TEST KEYS ONLY.

It holds the issuer master keys (by card key id) and the PIN pad's master key, and does inside
what a real PSAM does: diversify, derive session keys, encrypt, MAC, make and wrap PIN working
keys, and decrypt the pad's PIN blocks.
"""

from __future__ import annotations

import os
import threading

from drivers.crypto.ciphers import cipher_for, kcv
from drivers.crypto.pinblock import PinBlockError, PinBlockFormat, decrypt_pin_block
from drivers.smartcard.virtual import scheme
from drivers.smartcard.virtual.keys import TEST_MASTER_KEYS, TEST_PAD_MASTER_KEY

ATR_PSAM = bytes.fromhex("3B6900FF5053414D2D54455354")       # historical bytes "PSAM-TEST"


def _sw(value: int) -> bytes:
    return value.to_bytes(2, "big")


class VirtualPsam:
    def __init__(self, master_keys: dict[int, bytes] | None = None,
                 pad_master_key: bytes = TEST_PAD_MASTER_KEY, pin_algorithm: str = "sm4",
                 corrupt_mac: bool = False) -> None:
        self._masters = dict(master_keys if master_keys is not None else TEST_MASTER_KEYS)
        self._pad_master = pad_master_key
        self.pin_algorithm = pin_algorithm
        self.corrupt_mac = corrupt_mac          # test: a PSAM whose MACs the card must refuse
        self.atr = ATR_PSAM
        self._lock = threading.Lock()
        self.apdu_count = 0
        self.power_on()

    def power_on(self) -> None:
        self._key: bytes | None = None
        self._algorithm = "des"
        self._working_key: bytes | None = None

    def process(self, apdu: bytes) -> bytes:
        with self._lock:
            self.apdu_count += 1
            if len(apdu) < 4:
                return _sw(0x6700)
            cla, ins, p1, p2 = apdu[:4]
            data = apdu[5:5 + apdu[4]] if len(apdu) > 5 else b""
            if (cla, ins) == (0x00, 0xA4):
                return b"\x90\x00"
            if cla != 0x80:
                return _sw(0x6E00)
            if ins == 0x1A:
                return self._des_init(p1, p2, data)
            if ins == 0xFA:
                return self._des_crypt(p1, data)
            if ins == 0xF6:
                return self._new_working_key(p1)
            if ins == 0xF8:
                return self._decrypt_pin_block(p1, data)
            return _sw(0x6D00)

    def _des_init(self, usage: int, version: int, data: bytes) -> bytes:
        """80 1A <key id, +80 for SM4> <version> Lc <card id (16)> [<challenge (8)>]."""
        self._algorithm = "sm4" if usage & 0x80 else "des"
        master = self._masters.get(usage & 0x7F)
        if master is None or version != 0x01:
            return _sw(0x6A88)
        if len(data) not in (16, 24):
            return _sw(0x6700)
        key = scheme.diversify(self._algorithm, master, data[:16])
        if len(data) == 24:
            key = scheme.session_key(self._algorithm, key, data[16:])
        self._key = key
        return b"\x90\x00"

    def _des_crypt(self, mode: int, data: bytes) -> bytes:
        """80 FA 00: encrypt (data whole blocks); 80 FA 05: MAC (the PSAM pads), 4 bytes."""
        if self._key is None:
            return _sw(0x6985)
        cipher = scheme.cipher(self._algorithm, self._key)
        if mode == 0x00:
            if not data or len(data) % cipher.block_size:
                return _sw(0x6700)
            return cipher.encrypt(data) + b"\x90\x00"
        if mode == 0x05:
            mac = scheme.mac(self._algorithm, self._key, data)
            if self.corrupt_mac:
                mac = bytes([mac[0] ^ 0x01]) + mac[1:]
            return mac + b"\x90\x00"
        return _sw(0x6A86)

    def _new_working_key(self, alg_code: int) -> bytes:
        """80 F6 <01 3DES | 03 SM4> 00: a fresh PIN working key, wrapped under the pad master key, + KCV."""
        algorithm = {0x01: "3des", 0x03: "sm4"}.get(alg_code)
        if algorithm is None:
            return _sw(0x6A86)
        self.pin_algorithm = algorithm
        self._working_key = os.urandom(16)
        wrapped = cipher_for(algorithm, self._pad_master).encrypt(self._working_key)
        check = kcv(cipher_for(algorithm, self._working_key))
        return wrapped + check + b"\x90\x00"

    def _decrypt_pin_block(self, fmt: int, data: bytes) -> bytes:
        """80 F8 <format> 00 Lc <PAN digits, ASCII> 00 <block>: L || BCD digits padded with F."""
        if self._working_key is None:
            return _sw(0x6985)
        if b"\x00" not in data:
            return _sw(0x6A80)
        pan, block = data.split(b"\x00", 1)
        try:
            digits = decrypt_pin_block(block, pan.decode("ascii"), PinBlockFormat(fmt),
                                       cipher_for(self.pin_algorithm, self._working_key),
                                       pan_has_check_digit=False)
        except (PinBlockError, ValueError, UnicodeDecodeError):
            return _sw(0x6A80)
        try:
            nibbles = digits.decode() + "F" * (len(digits) % 2)
            return bytes([len(digits)]) + bytes.fromhex(nibbles) + b"\x90\x00"
        finally:
            digits[:] = bytes(len(digits))
