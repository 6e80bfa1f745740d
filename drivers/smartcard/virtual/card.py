"""A virtual social-security card (SSSE application), answering APDUs like a real one. TEST KEYS ONLY.

Behaviour that tests choose: generation (2.0 reads EF06 freely, 3.0 answers 6982 until an
external authentication with the read key 0A), algorithm (DES or SM4), T=0 style answers
(``t0_get_response``: 61xx then GET RESPONSE; ``t0_wrong_length``: 6Cxx when Le is wrong), PIN
and initial PIN, the number of tries before the PIN locks.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from drivers.smartcard.api import HolderData, IssuerData
from drivers.smartcard.records import holder_records, issuer_records
from drivers.smartcard.ssse_layout import (
    EF06,
    FILES,
    FILES_BY_SFI,
    P2_IDENTIFIER_FIRST,
    P2_IDENTIFIER_LAST,
    P2_NUMBER,
    P2_NUMBER_TO_END,
    RecordNumbering,
)
from drivers.smartcard.virtual import scheme
from drivers.smartcard.virtual.keys import TEST_MASTER_KEYS

SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")
ALGORITHM_CODES = {"des": 0x01, "ssf33": 0x02, "sm4": 0x03}
ATR_GEN2 = bytes.fromhex("3B6D000080318065B0872701BC83089000")   # shape of a T=0 card ATR
# Test ATR: T0 6B = TB1, TC1 and 11 historical bytes: 80 (compact TLV), 59 (tag 5 "card issuer's
# data", 9 bytes) "CNSSE3001". It once declared 12 historical bytes and carried 11 (ATR_analysis:
# "ATR is truncated"); tests/smartcard/test_atr.py runs the parser on every simulator ATR.
ATR_GEN3 = bytes.fromhex("3B6B00008059434E53534533303031")

SW_OK = b"\x90\x00"


def _sw(value: int) -> bytes:
    return value.to_bytes(2, "big")


def sample_issuer(generation: int = 3, card_number: str = "A12345678") -> IssuerData:
    return IssuerData(card_id_code="440100D156000005", card_type="3", spec_version=f"{generation}.00",
                      institution="44010000000", issue_date=date(2023, 5, 12), expiry_date=date(2033, 5, 12),
                      card_number=card_number)


def sample_holder(name: str = "张三丰", ssn: str = "44010619900307123X") -> HolderData:
    return HolderData(ssn=ssn, name=name, sex="1", ethnicity="01", birthplace="440106",
                      birth_date=date(1990, 3, 7))


@dataclass
class CardConfig:
    generation: int = 3
    algorithm: str = "des"                    # "des" or "sm4"
    pin: str = "123456"
    initial_pin: str = "123456"               # the card starts in its initial-PIN state
    max_tries: int = 3
    t0_get_response: bool = False             # answer data as 61xx + GET RESPONSE
    t0_wrong_length: bool = False             # answer 6Cxx when Le does not match
    record_numbering: RecordNumbering = RecordNumbering.SEQUENTIAL   # EF06's (see ssse_layout)
    issuer: IssuerData | None = None
    holder: HolderData | None = None
    master_keys: dict[int, bytes] = field(default_factory=lambda: dict(TEST_MASTER_KEYS))


class VirtualSsCard:
    """The card's state machine; ``process`` takes a command APDU and returns the response APDU."""

    def __init__(self, config: CardConfig | None = None) -> None:
        self.config = config = config or CardConfig()
        issuer = config.issuer or sample_issuer(config.generation)
        if config.issuer is None:
            issuer = replace(issuer, spec_version=f"{config.generation}.00")
        self.issuer = issuer
        self.holder = config.holder or sample_holder()
        self.atr = ATR_GEN3 if config.generation >= 3 else ATR_GEN2
        card_id = issuer.card_id_code.encode("ascii")
        # The card holds only its own diversified keys, never the master keys.
        self._keys = {kid: scheme.diversify(config.algorithm, key, card_id)
                      for kid, key in config.master_keys.items()}
        self._pin = bytearray(config.pin.encode())
        self.tries_left = config.max_tries
        # One TLV per record, as real cards keep them (layout: drivers/smartcard/ssse_layout.py).
        self._records = {0xEF05: issuer_records(issuer), 0xEF06: holder_records(self.holder)}
        self._lock = threading.Lock()
        self.apdu_count = 0
        self.before_command: Callable[[bytes], bytes | None] | None = None   # test hook: canned answer
        self.power_on()

    # -- state ---------------------------------------------------------------------------------
    def power_on(self) -> None:
        self._app_selected = False
        self._current_ef: int | None = None
        self._pin_verified = False
        self._authenticated: set[int] = set()
        self._challenges: list[bytes] = []
        self._pending: bytes = b""
        self._challenge_after_auth: bytes | None = None

    @property
    def pin(self) -> str:
        return self._pin.decode()

    @property
    def in_initial_state(self) -> bool:
        return bytes(self._pin) == self.config.initial_pin.encode()

    @property
    def blocked(self) -> bool:
        return self.tries_left <= 0

    # -- APDUs ---------------------------------------------------------------------------------
    def process(self, apdu: bytes) -> bytes:
        with self._lock:
            self.apdu_count += 1
            if self.before_command is not None:
                canned = self.before_command(apdu)
                if canned is not None:
                    return canned
            if len(apdu) < 4:
                return _sw(0x6700)
            cla, ins = apdu[0], apdu[1]
            if ins == 0xC0 and cla == 0x00:
                return self._get_response(apdu)
            self._pending = b""
            handler = _HANDLERS.get((cla, ins))
            if handler is None:
                return _sw(0x6E00 if cla not in (0x00, 0x80, 0x84) else 0x6D00)
            lc, data, le = _parse(apdu)
            if lc < 0:
                return _sw(0x6700)
            return handler(self, apdu[2], apdu[3], data, le)

    def _answer(self, data: bytes, le: int | None, sw: int = 0x9000) -> bytes:
        """Return data as a T=1 card would, or in the T=0 styles the config asks for."""
        if self.config.t0_get_response and data:
            self._pending = data
            return _sw(0x6100 | min(len(data), 0xFF) if len(data) < 256 else 0x6100)
        if self.config.t0_wrong_length and data and le is not None and le != len(data) % 256:
            return _sw(0x6C00 | (len(data) & 0xFF))
        if le is not None and le and le < len(data):
            data = data[:le]
        return data + _sw(sw)

    def _get_response(self, apdu: bytes) -> bytes:
        if not self._pending:
            return _sw(0x6985)
        le = apdu[4] if len(apdu) > 4 else 0
        want = le or 256
        chunk, self._pending = self._pending[:want], self._pending[want:]
        if self._pending:
            return chunk + _sw(0x6100 | min(len(self._pending), 0xFF))
        return chunk + SW_OK

    def _select(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if p1 == 0x04:
            if data != SSSE_AID:
                return _sw(0x6A82)
            self._app_selected, self._current_ef = True, None
            prop = bytes.fromhex("9F0C03") + bytes([0x86, 0x01, ALGORITHM_CODES[self.config.algorithm]])
            fci = b"\x84" + bytes([len(SSSE_AID)]) + SSSE_AID + b"\xA5" + bytes([len(prop)]) + prop
            return self._answer(b"\x6F" + bytes([len(fci)]) + fci, le)
        if p1 == 0x00 and data == b"\x3F\x00":
            self._app_selected, self._current_ef = False, None
            return SW_OK
        if p1 == 0x02 and len(data) == 2:
            fid = int.from_bytes(data, "big")
            if not self._app_selected or fid not in FILES:
                return _sw(0x6A82)
            self._current_ef = fid
            return SW_OK
        return _sw(0x6A86)

    def _read_record(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        """READ RECORD as a record-structured file answers it (ISO 7816-4): P2 bits 8-4 = SFI
        (0: the current EF; an SFI also makes that file current), bits 3-1 = how P1 is meant."""
        if data:
            return _sw(0x6700)
        sfi, mode = p2 >> 3, p2 & 0x07
        if sfi:
            if not self._app_selected or sfi not in FILES_BY_SFI:
                return _sw(0x6A82)                     # file not found
            self._current_ef = FILES_BY_SFI[sfi].fid
        elif self._current_ef is None:
            return _sw(0x6986)                         # command not allowed: no current EF
        layout = FILES[self._current_ef]
        if layout is EF06 and self.config.generation >= 3 and 0x0A not in self._authenticated:
            return _sw(0x6982)
        records = self._records[layout.fid]
        numbering = self.config.record_numbering if layout is EF06 else RecordNumbering.BY_TAG
        numbered = {layout.record_number(tag, numbering): tlv for tag, tlv in records.items()}
        if mode in (P2_IDENTIFIER_FIRST, P2_IDENTIFIER_LAST):
            found = records.get(p1)
        elif mode == P2_NUMBER:
            found = numbered.get(p1) if p1 else None   # P1 = 0: current record; there is none
        elif mode == P2_NUMBER_TO_END:
            chosen = [numbered[n] for n in sorted(numbered) if n >= p1] if p1 else []
            found = b"".join(chosen) or None
        else:
            return _sw(0x6A86)                         # next/previous occurrence: not supported
        if found is None:
            return _sw(0x6A83)                         # record not found
        return self._answer(found, le)

    def _read_binary(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if self._current_ef is None and not p1 & 0x80:
            return _sw(0x6986)
        return _sw(0x6981)                             # command incompatible with file structure

    def _get_challenge(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if le not in (4, 8):
            return _sw(0x6700)
        challenge = os.urandom(le)
        self._challenges = [*self._challenges[-1:], challenge]
        self._challenge_after_auth = challenge if self._authenticated & {0x06} else None
        return self._answer(challenge, le)

    def _external_auth(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        key = self._keys.get(p2)
        if key is None:
            return _sw(0x6A88)
        if len(data) != 16:
            return _sw(0x6700)
        if len(self._challenges) < 2:
            return _sw(0x6984)
        first, second = self._challenges
        self._challenges = []
        if data != scheme.external_auth_data(self.config.algorithm, key, first, second):
            return _sw(0x6300)
        self._authenticated.add(p2)
        return SW_OK

    def _verify(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if not self._app_selected:
            return _sw(0x6985)
        if self.blocked:
            return _sw(0x6983)
        if not data:
            return _sw(0x63C0 | self.tries_left)
        return self._check_pin(data)

    def _check_pin(self, bcd: bytes) -> bytes:
        candidate = _bcd_to_digits(bcd)
        if candidate is None:
            return _sw(0x6A80)
        if candidate == bytes(self._pin):
            self.tries_left = self.config.max_tries
            self._pin_verified = True
            return SW_OK
        self._pin_verified = False
        self.tries_left -= 1
        return _sw(0x6983) if self.blocked else _sw(0x63C0 | self.tries_left)

    def _change_pin(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if p1 != 0x01:
            return _sw(0x6A86)
        if not self._app_selected:
            return _sw(0x6985)
        if self.blocked:
            return _sw(0x6983)
        if b"\xFF" not in data:
            return _sw(0x6A80)
        split = data.index(b"\xFF")
        old, new = data[:split], data[split + 1:]
        new_digits = _bcd_to_digits(new)
        if new_digits is None:
            return _sw(0x6A80)
        answer = self._check_pin(old)
        if answer != SW_OK:
            return answer
        self._pin[:] = new_digits
        return SW_OK

    def _reset_or_unblock(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        """84 24 00 01 (reset: encrypted new PIN || MAC) and 84 24 00 00 (unblock: MAC)."""
        if 0x06 not in self._authenticated:
            return _sw(0x6982)
        challenge, self._challenge_after_auth = self._challenge_after_auth, None
        if challenge is None:
            return _sw(0x6984)
        alg = self.config.algorithm
        sk = scheme.session_key(alg, self._keys[0x06], challenge)
        header = bytes([0x84, 0x24, p1, p2, len(data)])
        body, mac = data[:-4], data[-4:]
        if p1 == 0x00 and p2 == 0x01:
            if len(body) != (16 if alg == "sm4" else 8):
                return _sw(0x6700)
            if mac != scheme.mac(alg, sk, header + body):
                return _sw(0x6988)
            plain = scheme.cipher(alg, sk).decrypt(body)
            digits = _bcd_to_digits(plain[1:1 + plain[0]]) if 0 < plain[0] < len(plain) else None
            if digits is None:
                return _sw(0x6A80)
            self._pin[:] = digits
        elif p1 == 0x00 and p2 == 0x00:
            if body:
                return _sw(0x6700)
            if mac != scheme.mac(alg, sk, header):
                return _sw(0x6988)
        else:
            return _sw(0x6A86)
        self.tries_left = self.config.max_tries
        self._authenticated.discard(0x06)
        return SW_OK


def _parse(apdu: bytes) -> tuple[int, bytes, int | None]:
    """(lc, data, le) of a short APDU; lc = -1 when the lengths do not add up."""
    if len(apdu) == 4:
        return 0, b"", None
    if len(apdu) == 5:
        return 0, b"", apdu[4]
    lc = apdu[4]
    if len(apdu) == 5 + lc:
        return lc, apdu[5:], None
    if len(apdu) == 6 + lc:
        return lc, apdu[5:5 + lc], apdu[-1]
    return -1, b"", None


def _bcd_to_digits(bcd: bytes) -> bytes | None:
    digits = bcd.hex().upper().rstrip("F")
    if not 4 <= len(digits) <= 12 or not digits.isdigit():
        return None
    return digits.encode()


_HANDLERS: dict[tuple[int, int], Callable[..., bytes]] = {
    (0x00, 0xA4): VirtualSsCard._select,
    (0x00, 0xB2): VirtualSsCard._read_record,
    (0x00, 0xB0): VirtualSsCard._read_binary,
    (0x00, 0x84): VirtualSsCard._get_challenge,
    (0x00, 0x82): VirtualSsCard._external_auth,
    (0x00, 0x20): VirtualSsCard._verify,
    (0x80, 0x5E): VirtualSsCard._change_pin,
    (0x84, 0x24): VirtualSsCard._reset_or_unblock,
}
