"""The SSSE application (《社会保障（个人）卡规范》): select, read EF05/EF06, external authentication.

APDU counts per flow are in docs/smartcard.md. PIN commands live in ``pin_handoff``.
"""

from __future__ import annotations

from drivers.smartcard.api import CardError, CardInfo, CardOutcome, HolderData, IssuerData
from drivers.smartcard.psam import Psam
from drivers.smartcard.records import MalformedRecord, decode_holder, decode_issuer
from drivers.smartcard.status import outcome_for
from drivers.smartcard.transport import Transport

SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")   # "sx1.sh.社会保障" in GBK
KEY_READ = 0x0A          # RKSSSE: external auth before EF06 on 3.0 cards
KEY_PIN_UNBLOCK = 0x06   # external auth + MAC for reset (重置) and unblock (解锁)
_ALGORITHMS = {0x01: "des", 0x02: "ssf33", 0x03: "sm4"}


def _fail(sw: int, what: str) -> CardError:
    return CardError(outcome_for(sw), what, sw=sw)


def select_ssse(t: Transport) -> str:
    """Select the application; returns its algorithm ("des", "ssf33", "sm4")."""
    answer = t.send(0x00, 0xA4, 0x04, 0x00, SSSE_AID)
    if answer.sw in (0x6A82, 0x6A86):
        raise CardError(CardOutcome.UNKNOWN_CARD, "no social-security application on this card", sw=answer.sw)
    if not answer.ok:
        raise _fail(answer.sw, "SELECT SSSE")
    return _algorithm_from_fci(bytes(answer.data))


def _algorithm_from_fci(fci: bytes) -> str:
    """Find 9F0C -> 86 in the FCI; DES when the card does not say (1st/2nd generation cards)."""
    i = fci.find(b"\x9F\x0C")
    if i >= 0:
        j = fci.find(b"\x86\x01", i + 3)
        if j >= 0 and j + 2 < len(fci):
            return _ALGORITHMS.get(fci[j + 2], "des")
    return "des"


def read_file(t: Transport, fid: int) -> bytes:
    answer = t.send(0x00, 0xA4, 0x02, 0x00, fid.to_bytes(2, "big"))
    if not answer.ok:
        raise _fail(answer.sw, f"SELECT EF{fid:04X}")
    answer = t.send(0x00, 0xB2, 0x01, 0x05, le=0x00)
    if not answer.ok:
        raise _fail(answer.sw, f"READ RECORD EF{fid:04X}")
    try:
        return bytes(answer.data)
    finally:
        answer.data[:] = bytes(len(answer.data))


def get_challenge(t: Transport) -> bytes:
    answer = t.send(0x00, 0x84, 0x00, 0x00, le=0x08)
    if not answer.ok or len(answer.data) != 8:
        raise _fail(answer.sw, "GET CHALLENGE")
    return bytes(answer.data)


def external_authenticate(t: Transport, psam: Psam, key_id: int, algorithm: str, card_id: str) -> None:
    """GET CHALLENGE twice (original random, then process factor), PSAM computes, 00 82."""
    first = get_challenge(t)
    second = get_challenge(t)
    data = bytearray(psam.external_auth_data(key_id, algorithm, card_id.encode("ascii"), first, second))
    try:
        answer = t.send(0x00, 0x82, 0x00, key_id, data, secret=True)
    finally:
        data[:] = bytes(len(data))
    if answer.sw in (0x6300, 0x6988) or answer.sw & 0xFFF0 == 0x63C0:
        raise CardError(CardOutcome.AUTH_FAILED, f"card refused the PSAM's external authentication (key {key_id:02X})",
                        sw=answer.sw)
    if not answer.ok:
        raise _fail(answer.sw, "EXTERNAL AUTHENTICATE")


def read_issuer(t: Transport) -> IssuerData:
    try:
        return decode_issuer(read_file(t, 0xEF05))
    except MalformedRecord as exc:
        raise CardError(CardOutcome.MALFORMED_DATA, str(exc)) from None


def read_holder(t: Transport) -> HolderData:
    try:
        return decode_holder(read_file(t, 0xEF06))
    except MalformedRecord as exc:
        raise CardError(CardOutcome.MALFORMED_DATA, str(exc)) from None


def read_card(t: Transport, psam: Psam | None, atr: bytes = b"") -> CardInfo:
    algorithm = select_ssse(t)
    issuer = read_issuer(t)
    needs_auth = issuer.generation >= "3"
    if not needs_auth:
        try:
            holder = read_holder(t)
            return CardInfo(issuer, holder, algorithm, atr)
        except CardError as exc:
            if exc.sw != 0x6982:             # a 2.0-labelled card that still wants the read key
                raise
    if psam is None:
        raise CardError(CardOutcome.PSAM_MISSING, "this card needs the PSAM to read holder data")
    external_authenticate(t, psam, KEY_READ, algorithm, issuer.card_id_code)
    return CardInfo(issuer, read_holder(t), algorithm, atr)
