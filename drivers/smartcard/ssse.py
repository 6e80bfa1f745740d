"""The SSSE application (《社会保障（个人）卡规范》): select, read EF05/EF06, external authentication.

APDU counts per flow are in docs/smartcard.md. PIN commands live in ``pin_handoff``.
"""

from __future__ import annotations

from drivers.smartcard.anomalies import AnomalyKind
from drivers.smartcard.api import CardError, CardInfo, CardOutcome, HolderData, IssuerData
from drivers.smartcard.psam import Psam
from drivers.smartcard.records import MalformedRecord, decode_holder, decode_issuer, one_record
from drivers.smartcard.ssse_layout import FILES, P2_IDENTIFIER_FIRST, RecordFile, read_record_p2
from drivers.smartcard.status import outcome_for
from drivers.smartcard.transport import Transport

SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")   # "sx1.sh.社会保障" in GBK
KEY_READ = 0x0A          # RKSSSE: external auth before EF06 on 3.0 cards
KEY_PIN_UNBLOCK = 0x06   # external auth + MAC for reset (重置) and unblock (解锁)
_ALGORITHMS = {0x01: "des", 0x02: "ssf33", 0x03: "sm4"}


def _fail(sw: int, what: str) -> CardError:
    """A refusal by status word (never 9000: CardError turns an "ok" failure into UNKNOWN_STATUS)."""
    return CardError(outcome_for(sw), what, sw=sw)


def select_ssse(t: Transport) -> str:
    """Select the application; returns its algorithm ("des", "ssf33", "sm4")."""
    answer = t.send(0x00, 0xA4, 0x04, 0x00, SSSE_AID)
    if answer.sw in (0x6A82, 0x6A86):
        raise CardError(CardOutcome.UNKNOWN_CARD, "no social-security application on this card", sw=answer.sw)
    if not answer.ok:
        raise _fail(answer.sw, "SELECT SSSE")
    fci = bytes(answer.data)
    if len(fci) < 2 or fci[0] != 0x6F or fci[1] + 2 > len(fci):
        # A real card answers SELECT by name with its FCI template (6F); 9000 alone is not a
        # selected SSSE application, and guessing DES from it would be a silent assumption.
        raise t.refuse(AnomalyKind.NO_FCI, "SELECT SSSE", answer)
    algorithm = _algorithm_from_fci(fci)
    if algorithm is None:
        raise t.refuse(AnomalyKind.BAD_FCI, "SELECT SSSE", answer)
    return algorithm


def _algorithm_from_fci(fci: bytes) -> str | None:
    """Find 9F0C -> 86 in the FCI; DES when the card does not say (1st/2nd generation cards);
    None for an algorithm code the specification does not define."""
    i = fci.find(b"\x9F\x0C")
    if i >= 0:
        j = fci.find(b"\x86\x01", i + 3)
        if j >= 0 and j + 2 < len(fci):
            return _ALGORITHMS.get(fci[j + 2])
    return "des"


def select_file(t: Transport, layout: RecordFile) -> None:
    answer = t.send(0x00, 0xA4, 0x02, 0x00, layout.fid.to_bytes(2, "big"))
    if not answer.ok:
        raise _fail(answer.sw, f"SELECT {layout.name}")


def read_element(t: Transport, layout: RecordFile, tag: int) -> bytes | None:
    """One data element by its record identifier (P2 = 00, P1 = the tag) in the selected file,
    as public reader code reads real cards; None when the card has no such record (6A83)."""
    answer = t.send(0x00, 0xB2, tag, read_record_p2(P2_IDENTIFIER_FIRST), le=0x00)
    try:
        if answer.sw == 0x6A83:
            return None
        if not answer.ok:
            raise _fail(answer.sw, f"READ RECORD {layout.name} {tag:02X}")
        if not answer.data:
            raise t.refuse(AnomalyKind.SHORT_RECORD, f"READ RECORD {layout.name} {tag:02X}", answer)
        return one_record(bytes(answer.data), tag, layout.name)
    finally:
        answer.data[:] = bytes(len(answer.data))


def read_file(t: Transport, fid: int) -> bytes:
    """The file's data elements, each read as its own record, joined as TLVs for the decoder."""
    layout = FILES[fid]
    select_file(t, layout)
    found: list[bytes] = []
    for tag in layout.tags:
        element = read_element(t, layout, tag)
        if element is None:
            if tag not in layout.optional:
                raise CardError(CardOutcome.MALFORMED_DATA, f"{layout.name}: record {tag:02X} missing")
            continue
        found.append(element)
    return b"".join(found)


def get_challenge(t: Transport) -> bytes:
    answer = t.send(0x00, 0x84, 0x00, 0x00, le=0x08)
    if not answer.ok:
        raise _fail(answer.sw, "GET CHALLENGE")
    if len(answer.data) != 8:
        raise t.refuse(AnomalyKind.CHALLENGE_LENGTH, "GET CHALLENGE", answer)
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
