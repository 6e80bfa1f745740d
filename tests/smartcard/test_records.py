"""EF05/EF06 decoders: known records, GBK names with the extended part, and malformed input."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.smartcard.records import (
    MalformedRecord,
    decode_holder,
    decode_issuer,
    encode_holder,
    encode_issuer,
    parse_tlv,
)
from drivers.smartcard.virtual.card import sample_holder, sample_issuer


def test_issuer_record_round_trips_with_bcd_dates_and_region():
    issuer = sample_issuer(3)
    raw = encode_issuer(issuer)
    assert raw[:2] == b"\x01\x10"                       # tag 01, 16 bytes
    assert b"\x05\x04\x20\x23\x05\x12" in raw            # issue date as BCD
    decoded = decode_issuer(raw + b"\x00" * 12)          # filler after the last record is ignored
    assert decoded == issuer
    assert decoded.region_code == "440100"
    assert decoded.generation == "3"


def test_holder_record_round_trips_and_hides_itself_in_repr():
    holder = sample_holder()
    decoded = decode_holder(encode_holder(holder))
    assert decoded == holder
    assert holder.ssn not in repr(decoded) and holder.name not in repr(decoded)


def test_a_long_name_uses_the_extended_name_field():
    name = "阿卜杜热合曼·买买提依明·艾合买提江·库尔班"     # longer than 30 GBK bytes
    holder = sample_holder(name=name)
    raw = encode_holder(holder)
    fields = parse_tlv(raw, "EF06")
    assert len(fields[0x09]) == 30 and 0x4E in fields
    assert decode_holder(raw).name == name


def test_cn_fields_are_bcd_padded_with_f():
    raw = encode_holder(sample_holder())
    fields = parse_tlv(raw, "EF06")
    assert fields[0x0B] == b"\x01"                # ethnicity 01
    assert fields[0x0C] == bytes.fromhex("440106")
    assert fields[0x0D] == bytes.fromhex("19900307")


@pytest.mark.parametrize(("raw", "message"), [
    (b"\x08", "no length byte"),
    (b"\x08\x12" + b"4401", "runs past the end"),
    (b"\x09\x02AB", "tag 08 missing"),
    (b"\x08\x0244\x08\x0244", "appears twice"),
])
def test_malformed_holder_records_give_typed_errors(raw, message):
    with pytest.raises(MalformedRecord, match=message):
        decode_holder(raw)


def test_an_impossible_date_is_a_typed_error_without_the_value():
    raw = encode_issuer(sample_issuer(2)).replace(b"\x06\x04\x20\x33\x05\x12", b"\x06\x04\x20\x33\x13\x45")
    with pytest.raises(MalformedRecord) as caught:
        decode_issuer(raw)
    assert "not a calendar date" in str(caught.value)
    assert "2033" not in str(caught.value)


def test_a_wrong_card_number_is_refused():
    raw = encode_issuer(sample_issuer(2)).replace(b"A12345678", b"A1234\x01678")
    with pytest.raises(MalformedRecord):
        decode_issuer(raw)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_decoders_never_fail_with_anything_but_malformed_record(raw):
    for decode in (decode_issuer, decode_holder):
        try:
            result = decode(raw)
        except MalformedRecord as exc:
            assert str(exc).startswith(("EF05", "EF06"))
        else:
            assert result is not None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0x4E]),
                          st.binary(max_size=40)), max_size=12))
def test_well_framed_but_wrong_fields_never_crash(fields):
    raw = b"".join(bytes([tag, len(value)]) + value for tag, value in fields)
    for decode in (decode_issuer, decode_holder):
        try:
            decode(raw)
        except MalformedRecord:
            pass


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="张王李赵刘陈杨黄周吴·阿卜杜", min_size=1, max_size=25),
       st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
def test_any_gbk_name_and_date_round_trip(name, birth):
    holder = sample_holder(name=name)
    holder = type(holder)(holder.ssn, name, holder.sex, holder.ethnicity, holder.birthplace, birth)
    assert decode_holder(encode_holder(holder)) == holder


def _fields(raw: bytes, file: str) -> dict[int, bytes]:
    return parse_tlv(raw, file)


_VALID = {
    "EF05": (_fields(encode_issuer(sample_issuer(3)), "EF05"), decode_issuer),
    "EF06": (_fields(encode_holder(sample_holder()), "EF06"), decode_holder),
}


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(sorted(_VALID)), st.data())
def test_a_valid_record_with_one_field_replaced_never_crashes(file, data):
    fields, decode = _VALID[file]
    tag = data.draw(st.sampled_from(sorted(fields)))
    value = data.draw(st.binary(max_size=40) | st.sampled_from([b"", b"\xff" * 4, b"\x00", "张".encode("gbk")[:1]]))
    raw = b"".join(bytes([t, len(value if t == tag else v)]) + (value if t == tag else v) for t, v in fields.items())
    try:
        result = decode(raw)
    except MalformedRecord as exc:
        assert str(exc).startswith(file)
    else:
        assert result is not None


def test_binary_sex_codes_are_read_too():
    fields = _fields(encode_holder(sample_holder()), "EF06")
    fields[0x0A] = b"\x02"
    raw = b"".join(bytes([t, len(v)]) + v for t, v in fields.items())
    assert decode_holder(raw).sex == "2"
