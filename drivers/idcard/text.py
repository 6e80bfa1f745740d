"""The 256-byte text block of a read (30 01h): fixed UCS-2 little-endian fields.

Resident ID card (居民身份证) layout, in bytes: name 30, sex 2, nation 4, birth date 16,
address 70, ID number 36, issuing authority 30, valid from 16, valid until 16, reserved 36.
Fields are padded with spaces (20 00). Byte 248 (inside the reserved part) is the card-type
character: a space for the resident ID card, "I" for the foreign permanent-resident card (2017
layout), "J" for the Hong Kong / Macao / Taiwan residence permit. Those two other documents are
*recognised* and refused with their own reason: their fields sit elsewhere, and reading them
with the resident layout would produce a plausible-looking but wrong person.

The ID number's check character is verified by the caller (kiosk/identity.py uses the project's
one GB 11643 / ISO 7064 MOD 11-2 helper); here only its shape is checked.
"""

from __future__ import annotations

from datetime import date

from drivers.idcard.api import DocumentKind, IdCardHolder

TEXT_LENGTH = 256
TYPE_OFFSET = 248
LONG_TERM = "长期"

# (field, byte length) in order; the sum is 256.
RESIDENT_LAYOUT: tuple[tuple[str, int], ...] = (
    ("name", 30), ("sex", 2), ("nation", 4), ("birth_date", 16), ("address", 70), ("id_number", 36),
    ("authority", 30), ("valid_from", 16), ("valid_until", 16), ("reserved", 36),
)
KIND_BY_TYPE = {" ": DocumentKind.RESIDENT_ID, "\x00": DocumentKind.RESIDENT_ID,
                "I": DocumentKind.FOREIGN_PERMANENT_RESIDENT, "J": DocumentKind.HMT_RESIDENCE_PERMIT}

# GB 3304 nation codes -> names (the card stores the code).
NATIONS = dict(enumerate((
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克",
    "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌",
    "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安",
    "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺"), start=1))
NATIONS.update({97: "其他", 98: "外国血统中国籍人士"})
SEX_CODES = ("0", "1", "2", "9")


class MalformedText(ValueError):
    """The text block does not decode; ``field`` names where (never the value)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"text block field {field!r}: {reason}")
        self.field = field


def document_kind(text: bytes | bytearray) -> DocumentKind:
    if len(text) != TEXT_LENGTH:
        raise MalformedText("length", f"expected {TEXT_LENGTH} bytes, got {len(text)}")
    try:
        marker = bytes(text[TYPE_OFFSET:TYPE_OFFSET + 2]).decode("utf-16-le")
    except UnicodeDecodeError:
        return DocumentKind.UNKNOWN
    return KIND_BY_TYPE.get(marker, DocumentKind.UNKNOWN)


def split_fields(text: bytes | bytearray) -> dict[str, str]:
    """Each field of the resident layout as a string, padding removed."""
    out: dict[str, str] = {}
    offset = 0
    for name, size in RESIDENT_LAYOUT:
        raw = bytes(text[offset:offset + size])
        offset += size
        try:
            value = raw.decode("utf-16-le")
        except UnicodeDecodeError:
            raise MalformedText(name, "not UCS-2 text") from None
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
            raise MalformedText(name, "not UCS-2 text")
        out[name] = value.rstrip(" \x00")
    return out


def decode_resident(text: bytes | bytearray) -> IdCardHolder:
    """Decode a resident ID card's text block; raises :class:`MalformedText` naming the field."""
    kind = document_kind(text)
    if kind is not DocumentKind.RESIDENT_ID:
        raise MalformedText("card_type", f"not a resident ID card layout ({kind.value})")
    f = split_fields(text)
    if not f["name"] or not f["name"].isprintable():
        raise MalformedText("name", "empty or not printable")
    if f["sex"] not in SEX_CODES:
        raise MalformedText("sex", "expected a GB/T 2261.1 code 0, 1, 2 or 9")
    if not (len(f["nation"]) == 2 and f["nation"].isascii() and f["nation"].isdigit()
            and int(f["nation"]) in NATIONS):
        raise MalformedText("nation", "expected a GB 3304 code")
    birth = _date(f["birth_date"], "birth_date")
    number = f["id_number"]
    if not (len(number) == 18 and number[:17].isascii() and number[:17].isdigit() and number[17] in "0123456789X"):
        raise MalformedText("id_number", "expected 17 digits and a digit or X")
    if number[6:14] != f["birth_date"]:
        raise MalformedText("id_number", "birth date in the number differs from the birth date field")
    if not f["address"].isprintable() or not f["authority"].isprintable():
        raise MalformedText("address" if not f["address"].isprintable() else "authority", "not printable")
    valid_from = _date(f["valid_from"], "valid_from")
    valid_until = None if f["valid_until"] == LONG_TERM else _date(f["valid_until"], "valid_until")
    if valid_until is not None and valid_until < valid_from:
        raise MalformedText("valid_until", "ends before it starts")
    return IdCardHolder(f["name"], f["sex"], f["nation"], birth, f["address"], number, f["authority"],
                        valid_from, valid_until)


def _date(value: str, field: str) -> date:
    if not (len(value) == 8 and value.isascii() and value.isdigit()):
        raise MalformedText(field, "expected YYYYMMDD")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise MalformedText(field, "not a calendar date") from None


def encode_resident(holder: IdCardHolder) -> bytes:
    """The text block a card holds for ``holder`` (the simulator, tests). Too long -> ValueError."""
    values = {
        "name": holder.name, "sex": holder.sex, "nation": holder.nation,
        "birth_date": holder.birth_date.strftime("%Y%m%d"), "address": holder.address,
        "id_number": holder.id_number, "authority": holder.authority,
        "valid_from": holder.valid_from.strftime("%Y%m%d"),
        "valid_until": LONG_TERM if holder.valid_until is None else holder.valid_until.strftime("%Y%m%d"),
        "reserved": "",
    }
    return b"".join(_pad(values[name], size, name) for name, size in RESIDENT_LAYOUT)


def encode_foreign_permanent(english_name: str, chinese_name: str, card_number: str, nationality: str,
                             sex: str, birth: str, valid_from: str, valid_until: str) -> bytes:
    """The 2017 foreign permanent-resident card layout (for the simulator): English name 120,
    sex 2, card number 30, nationality 6, Chinese name 30, valid from 16, valid until 16,
    birth 16, version 4, authority code 8, type "I" 2, reserved 6 (256 bytes)."""
    parts = [(english_name, 120), (sex, 2), (card_number, 30), (nationality, 6), (chinese_name, 30),
             (valid_from, 16), (valid_until, 16), (birth, 16), ("01", 4), ("1500", 8), ("I", 2), ("", 6)]
    block = b"".join(_pad(v, n, "foreign") for v, n in parts)
    assert len(block) == TEXT_LENGTH and block[TYPE_OFFSET:TYPE_OFFSET + 2] == "I".encode("utf-16-le")
    return block


def _pad(value: str, size: int, name: str) -> bytes:
    raw = value.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"field {name!r} holds at most {size // 2} characters")
    return raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)
