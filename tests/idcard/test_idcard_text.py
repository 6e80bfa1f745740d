"""The text block decoder, property-based: any card the resident layout can hold decodes back to
itself; any 256 bytes either decode or fail with MalformedText naming a field; other documents'
layouts are recognised, never read as a resident card."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.idcard.api import DocumentKind, IdCardHolder
from drivers.idcard.simulator import TEST_CARDS
from drivers.idcard.text import NATIONS, MalformedText, decode_resident, document_kind, encode_resident
from kiosk.flows.retiree import complete_id_number
from kiosk.identity import id_number_valid

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
ADDRESS_CHARS = st.one_of(CJK, st.sampled_from("0123456789号路街巷-（）·"))


@st.composite
def holders(draw: st.DrawFn) -> IdCardHolder:
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)))
    region = draw(st.sampled_from(["110101", "440106", "450103", "650102", "540102"]))
    seq = draw(st.integers(0, 999))
    number = complete_id_number(f"{region}{birth:%Y%m%d}{seq:03d}")
    assert number is not None
    # Minority names can be long and carry the middle dot: up to the field's 15 characters.
    name = draw(st.text(st.one_of(CJK, st.just("·")), min_size=1, max_size=15).filter(lambda s: s.strip(" ·")))
    name = name.strip(" ")
    valid_from = draw(st.dates(min_value=birth, max_value=date(2030, 1, 1)))
    term = draw(st.sampled_from([5, 10, 20, None]))
    valid_until = None if term is None else valid_from.replace(year=valid_from.year + term) \
        if not (valid_from.month == 2 and valid_from.day == 29) else valid_from + timedelta(days=365 * term)
    return IdCardHolder(
        name=name, sex=draw(st.sampled_from(["0", "1", "2", "9"])),
        nation=f"{draw(st.sampled_from(sorted(NATIONS))):02d}", birth_date=birth,
        address=draw(st.text(ADDRESS_CHARS, min_size=1, max_size=35)).strip() or "地址",
        id_number=number, authority=draw(st.text(CJK, min_size=1, max_size=15)),
        valid_from=valid_from, valid_until=valid_until)


@settings(max_examples=150, deadline=None)
@given(holders())
def test_every_holder_the_layout_can_hold_decodes_back_to_itself(holder: IdCardHolder) -> None:
    text = encode_resident(holder)
    assert len(text) == 256 and document_kind(text) is DocumentKind.RESIDENT_ID
    decoded = decode_resident(text)
    assert decoded == holder
    assert id_number_valid(decoded.id_number)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=256, max_size=256))
def test_any_bytes_decode_or_name_the_bad_field(raw: bytes) -> None:
    try:
        holder = decode_resident(raw)
    except MalformedText as exc:
        assert exc.field and str(exc).startswith("text block field")
    else:
        assert len(holder.id_number) == 18


@settings(max_examples=100, deadline=None)
@given(holders(), st.integers(0, 255), st.integers(0, 7))
def test_a_flipped_bit_never_passes_as_the_same_person_with_a_valid_number(holder: IdCardHolder, pos: int,
                                                                           bit: int) -> None:
    damaged = bytearray(encode_resident(holder))
    damaged[pos] ^= 1 << bit
    try:
        decoded = decode_resident(bytes(damaged))
    except MalformedText:
        return
    if decoded.id_number != holder.id_number:
        # A one-character change in the number is caught by its check character, or breaks the
        # birth-date cross-check; it never yields another valid number with this birth date.
        assert not id_number_valid(decoded.id_number) or decoded.id_number[6:14] != holder.id_number[6:14]


@given(holders(), st.integers(0, 9))
def test_a_wrong_check_character_is_caught(holder: IdCardHolder, delta: int) -> None:
    number = holder.id_number
    other = "0123456789X"[("0123456789X".index(number[17]) + 1 + delta) % 11]
    assert not id_number_valid(number[:17] + other)


def test_the_foreign_permanent_resident_card_is_recognised_not_misparsed() -> None:
    text = TEST_CARDS["foreign"].text
    assert document_kind(text) is DocumentKind.FOREIGN_PERMANENT_RESIDENT
    with pytest.raises(MalformedText) as caught:
        decode_resident(text)
    assert caught.value.field == "card_type"


def test_long_term_validity_and_field_limits() -> None:
    holder = decode_resident(TEST_CARDS["normal"].text)
    assert holder.valid_until is None and not holder.expired(date(2099, 1, 1))
    assert repr(holder) == "IdCardHolder(<personal data hidden>)" and holder.name not in repr(holder)
    with pytest.raises(ValueError, match="at most 15"):
        encode_resident(IdCardHolder("张" * 16, "1", "01", date(1950, 1, 1), "x", holder.id_number, "y",
                                     date(2000, 1, 1), None))


def test_birth_date_must_agree_with_the_number() -> None:
    holder = decode_resident(TEST_CARDS["normal"].text)
    other_birth = IdCardHolder(holder.name, holder.sex, holder.nation, date(1948, 11, 3), holder.address,
                               holder.id_number, holder.authority, holder.valid_from, None)
    with pytest.raises(MalformedText) as caught:
        decode_resident(encode_resident(other_birth))
    assert caught.value.field == "id_number"
