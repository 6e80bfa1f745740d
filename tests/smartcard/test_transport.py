"""APDU transport over the in-process reader: T=0 61xx/6Cxx, status words, the redacted trace."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.smartcard import ssse
from drivers.smartcard.api import CardError, CardOutcome
from drivers.smartcard.readers import ReaderError, ReaderErrorKind
from drivers.smartcard.status import outcome_for, pin_result
from drivers.smartcard.transport import Transport, describe_answer, describe_command
from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard
from drivers.smartcard.virtual.inproc import CITIZEN_SLOT, InProcessReaders


def _transport(config: CardConfig, trace: bool = False) -> tuple[Transport, VirtualSsCard, InProcessReaders]:
    readers = InProcessReaders()
    card = VirtualSsCard(config)
    readers.insert(card)
    return Transport(readers.connect(CITIZEN_SLOT), "test", trace), card, readers


def test_t0_get_response_is_followed_transparently():
    t, _card, _ = _transport(CardConfig(generation=2, t0_get_response=True))
    assert ssse.select_ssse(t) == "des"
    issuer = ssse.read_issuer(t)
    assert issuer.card_number == "A12345678"
    assert t.count == 17         # SELECT + GET RESPONSE, SELECT EF05, 7 x (READ RECORD + GET RESPONSE)


def test_t0_wrong_length_is_resent_with_the_length_the_card_asked_for():
    t, _card, _ = _transport(CardConfig(generation=2, t0_wrong_length=True))
    ssse.select_ssse(t)
    assert ssse.read_issuer(t).spec_version == "2.00"
    assert t.count == 16         # SELECT, SELECT EF05, 7 x (READ RECORD (6Cxx), READ RECORD again)


def test_sm4_cards_announce_their_algorithm():
    t, _card, _ = _transport(CardConfig(algorithm="sm4"))
    assert ssse.select_ssse(t) == "sm4"


def test_a_card_without_the_application_is_an_unknown_card():
    t, card, _ = _transport(CardConfig())
    card.before_command = lambda apdu: b"\x6A\x82"
    with pytest.raises(CardError) as caught:
        ssse.select_ssse(t)
    assert caught.value.outcome is CardOutcome.UNKNOWN_CARD


def test_a_removed_card_is_a_typed_outcome():
    t, _card, readers = _transport(CardConfig())
    readers.remove()
    with pytest.raises(CardError) as caught:
        t.send(0x00, 0xA4, 0x04, 0x00, ssse.SSSE_AID)
    assert caught.value.outcome is CardOutcome.CARD_REMOVED


def test_reader_errors_map_to_outcomes_through_the_lost_hook():
    seen: list[ReaderErrorKind] = []

    def lost(exc: ReaderError) -> CardError:
        seen.append(exc.kind)
        return CardError(CardOutcome.CARD_MUTE)

    t, _card, readers = _transport(CardConfig())
    t2 = Transport(t.connection, "test", on_lost=lost)
    readers.remove()
    with pytest.raises(CardError) as caught:
        t2.send(0x00, 0x84, 0x00, 0x00, le=8)
    assert caught.value.outcome is CardOutcome.CARD_MUTE and seen == [ReaderErrorKind.REMOVED]


def test_the_trace_shows_headers_and_hides_secrets(caplog):
    t, _card, _ = _transport(CardConfig(generation=2), trace=True)
    caplog.set_level(logging.DEBUG, logger="drivers.smartcard.apdu")
    ssse.select_ssse(t)
    t.send(0x00, 0x20, 0x00, 0x00, bytearray.fromhex("123456"))
    ssse.read_holder(t)
    lines = [f"{r.command} -> {r.answer}" for r in caplog.records]
    assert lines[0].startswith("00 A4 04 00 0F 73 78 31")
    assert "00 20 00 00 03 <3 bytes redacted>" in lines[1]
    assert "12 34 56" not in "\n".join(lines)
    reads = [line for line in lines if line.startswith("00 B2")]
    assert reads[-1].endswith("6A83")                                  # no extended name on this card
    assert all("bytes redacted> 9000" in line for line in reads[:-1])   # personal record data hidden


def test_describe_functions_redact_by_length_only():
    assert describe_command(bytes.fromhex("0020000003654321"), secret=True) == "00 20 00 00 03 <3 bytes redacted>"
    assert describe_command(bytes.fromhex("0084000008"), secret=False) == "00 84 00 00 08"
    assert describe_answer(bytes.fromhex("01029000"), secret=True) == "<2 bytes redacted> 9000"


@pytest.mark.parametrize(("sw", "outcome", "tries"), [
    (0x9000, CardOutcome.OK, None), (0x63C2, CardOutcome.WRONG_PIN, 2), (0x63C0, CardOutcome.BLOCKED, 0),
    (0x6983, CardOutcome.BLOCKED, 0), (0x6982, CardOutcome.SECURITY_NOT_SATISFIED, None),
    (0x6988, CardOutcome.AUTH_FAILED, None), (0x6F00, CardOutcome.UNKNOWN_STATUS, None),
])
def test_status_words_map_to_pin_results(sw, outcome, tries):
    result = pin_result(sw)
    assert result.outcome is outcome and result.tries_left == tries and result.sw == sw


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=0xFFFF))
def test_every_status_word_has_a_typed_outcome(sw):
    outcome = outcome_for(sw)
    assert isinstance(outcome, CardOutcome)
    result = pin_result(sw)
    assert result.outcome is outcome
    assert (result.tries_left is None) or 0 <= result.tries_left <= 15


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=0xFFFF).filter(lambda sw: sw >> 8 not in (0x61, 0x6C)))
def test_unknown_status_words_from_a_card_end_as_typed_errors(sw):
    t, card, _ = _transport(CardConfig(generation=2))
    card.before_command = lambda apdu: sw.to_bytes(2, "big")
    try:
        ssse.read_card(t, None)
    except CardError as exc:
        assert isinstance(exc.outcome, CardOutcome)
        assert exc.sw == sw or exc.outcome is CardOutcome.MALFORMED_DATA
    else:
        raise AssertionError("a card answering only a status word cannot have been read")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=20))
def test_any_garbage_from_a_card_ends_as_a_typed_card_error(answers):
    t, card, _ = _transport(CardConfig(generation=3))
    replies = iter(answers)
    card.before_command = lambda apdu: next(replies, b"\x6F\x00")
    try:
        ssse.read_card(t, None)
    except CardError as exc:
        assert isinstance(exc.outcome, CardOutcome)
    assert t.count <= 20 + 16 * len(answers)      # 61xx/6Cxx chains are bounded
