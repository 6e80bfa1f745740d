"""EF05 / EF06 records of the SSSE application: tag(1) length(1) value, ``cn`` and ``an`` fields.

``cn`` = BCD digits padded with F; ``an`` = ASCII or GBK padded with 00. Decoders raise only
:class:`MalformedRecord`, whose message names the file and tag but never the field's content.
The encoders exist for the virtual card (and round-trip tests).
"""

from __future__ import annotations

from datetime import date

from drivers.smartcard.api import HolderData, IssuerData


class MalformedRecord(ValueError):
    """A record does not decode. The message never contains personal data."""


# -- field codecs -----------------------------------------------------------------------------
def decode_cn(value: bytes, where: str) -> str:
    digits = value.hex().upper().rstrip("F")
    if not digits.isdigit() and digits != "":
        raise MalformedRecord(f"{where}: not BCD digits padded with F")
    return digits


def encode_cn(digits: str, length: int) -> bytes:
    if not digits.isdigit() or len(digits) > 2 * length:
        raise ValueError("cn field: digits only, and no longer than the field")
    return bytes.fromhex(digits.ljust(2 * length, "F"))


def decode_an(value: bytes, where: str) -> str:
    text = value.rstrip(b"\x00").rstrip(b" ")
    try:
        decoded = text.decode("gbk")
    except UnicodeDecodeError:
        raise MalformedRecord(f"{where}: not GBK text") from None
    if any(ord(ch) < 0x20 for ch in decoded):
        raise MalformedRecord(f"{where}: control characters in a text field")
    return decoded


def encode_an(text: str, length: int) -> bytes:
    raw = text.encode("gbk")
    if len(raw) > length:
        raise ValueError("an field longer than its length")
    return raw.ljust(length, b"\x00")


def decode_date(value: bytes, where: str) -> date:
    digits = decode_cn(value, where)
    if len(digits) != 8:
        raise MalformedRecord(f"{where}: a date has 8 BCD digits (YYYYMMDD)")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise MalformedRecord(f"{where}: not a calendar date") from None


def encode_date(value: date) -> bytes:
    return encode_cn(value.strftime("%Y%m%d"), 4)


# -- TLV --------------------------------------------------------------------------------------
def parse_tlv(data: bytes, file: str) -> dict[int, bytes]:
    """tag(1) length(1) value ...; stops at 00/FF filler (the unused rest of a record)."""
    fields: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        tag = data[i]
        if tag in (0x00, 0xFF):
            break
        if i + 1 >= len(data):
            raise MalformedRecord(f"{file}: tag {tag:02X} has no length byte")
        length = data[i + 1]
        end = i + 2 + length
        if end > len(data):
            raise MalformedRecord(f"{file}: tag {tag:02X} runs past the end of the record")
        if tag in fields:
            raise MalformedRecord(f"{file}: tag {tag:02X} appears twice")
        fields[tag] = data[i + 2:end]
        i = end
    return fields


def _need(fields: dict[int, bytes], tag: int, file: str) -> bytes:
    if tag not in fields:
        raise MalformedRecord(f"{file}: tag {tag:02X} missing")
    return fields[tag]


# -- EF05 / EF06 ------------------------------------------------------------------------------
def decode_issuer(data: bytes) -> IssuerData:
    f = parse_tlv(data, "EF05")
    card_id = decode_an(_need(f, 0x01, "EF05"), "EF05 tag 01")
    if len(card_id) < 6 or not card_id[:6].isdigit():
        raise MalformedRecord("EF05 tag 01: the card identification code starts with a 6-digit region")
    version = decode_an(_need(f, 0x03, "EF05"), "EF05 tag 03")
    if not version[:1].isdigit():
        raise MalformedRecord("EF05 tag 03: the specification version starts with a digit")
    card_number = decode_an(_need(f, 0x07, "EF05"), "EF05 tag 07")
    if not card_number or not card_number.isascii() or not card_number.isalnum():
        raise MalformedRecord("EF05 tag 07: the card number is letters and digits")
    return IssuerData(
        card_id_code=card_id,
        card_type=decode_an(f.get(0x02, b""), "EF05 tag 02"),
        spec_version=version,
        institution=decode_an(f.get(0x04, b""), "EF05 tag 04"),
        issue_date=decode_date(_need(f, 0x05, "EF05"), "EF05 tag 05"),
        expiry_date=decode_date(_need(f, 0x06, "EF05"), "EF05 tag 06"),
        card_number=card_number,
    )


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag, len(value)]) + value


def issuer_records(issuer: IssuerData) -> dict[int, bytes]:
    """EF05 as its records: tag -> one TLV (the layout is in ``ssse_layout``)."""
    return {0x01: _tlv(0x01, encode_an(issuer.card_id_code, 16)), 0x02: _tlv(0x02, encode_an(issuer.card_type, 1)),
            0x03: _tlv(0x03, encode_an(issuer.spec_version, 4)), 0x04: _tlv(0x04, encode_an(issuer.institution, 11)),
            0x05: _tlv(0x05, encode_date(issuer.issue_date)), 0x06: _tlv(0x06, encode_date(issuer.expiry_date)),
            0x07: _tlv(0x07, encode_an(issuer.card_number, 9))}


def encode_issuer(issuer: IssuerData) -> bytes:
    return b"".join(issuer_records(issuer).values())


def one_record(data: bytes, tag: int, file: str) -> bytes:
    """A single-record answer: exactly one TLV with the tag asked for (filler 00/FF after it)."""
    fields = parse_tlv(data, file)
    if list(fields) != [tag]:
        raise MalformedRecord(f"{file}: record {tag:02X} does not hold exactly its own data element")
    return _tlv(tag, fields[tag])


def decode_holder(data: bytes) -> HolderData:
    f = parse_tlv(data, "EF06")
    ssn = decode_an(_need(f, 0x08, "EF06"), "EF06 tag 08")
    if len(ssn) not in (15, 18) or not ssn[:-1].isdigit() or not (ssn[-1].isdigit() or ssn[-1] in "Xx"):
        raise MalformedRecord("EF06 tag 08: the social-security number has 15 or 18 characters")
    name = decode_an(_need(f, 0x09, "EF06"), "EF06 tag 09")
    if 0x4E in f:
        name += decode_an(f[0x4E], "EF06 tag 4E")
    if not name.strip():
        raise MalformedRecord("EF06 tag 09: empty name")
    sex_raw = f.get(0x0A, b"9")
    if len(sex_raw) != 1:
        raise MalformedRecord("EF06 tag 0A: sex is one byte")
    sex = chr(sex_raw[0]) if sex_raw[0] >= 0x30 else str(sex_raw[0])    # ASCII "1" or binary 01
    if sex not in ("0", "1", "2", "9"):
        raise MalformedRecord("EF06 tag 0A: sex is 1, 2 or 9")
    return HolderData(
        ssn=ssn.upper(),
        name=name.strip(),
        sex=sex,
        ethnicity=decode_cn(f.get(0x0B, b""), "EF06 tag 0B"),
        birthplace=decode_cn(f.get(0x0C, b""), "EF06 tag 0C"),
        birth_date=decode_date(_need(f, 0x0D, "EF06"), "EF06 tag 0D"),
    )


def holder_records(holder: HolderData) -> dict[int, bytes]:
    """EF06 as its records: tag -> one TLV (4E only when the name does not fit tag 09)."""
    raw_name = holder.name.encode("gbk")
    main, extended = raw_name[:30], raw_name[30:]
    if len(main) == 30 and len(extended) and _splits_gbk(raw_name, 30):
        main, extended = raw_name[:29], raw_name[29:]
    records = {0x08: _tlv(0x08, encode_an(holder.ssn, 18)), 0x09: _tlv(0x09, main.ljust(30, b"\x00")),
               0x0A: _tlv(0x0A, holder.sex.encode("ascii")), 0x0B: _tlv(0x0B, encode_cn(holder.ethnicity, 1)),
               0x0C: _tlv(0x0C, encode_cn(holder.birthplace, 3)), 0x0D: _tlv(0x0D, encode_date(holder.birth_date))}
    if extended:
        records[0x4E] = _tlv(0x4E, extended.ljust(20, b"\x00"))
    return records


def encode_holder(holder: HolderData) -> bytes:
    return b"".join(holder_records(holder).values())


def _splits_gbk(raw: bytes, at: int) -> bool:
    """Whether cutting at ``at`` splits a two-byte GBK character."""
    i = 0
    while i < at:
        i += 2 if raw[i] >= 0x81 else 1
    return i != at
