"""The KMY frame codec and streaming parser: known frames, both wire forms, and hypothesis
properties (any chunking, noise between frames, arbitrary garbage never breaks the parser)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.pinpad import kmy
from drivers.pinpad.kmy import STX, Frame, FrameParser, Junk, KeyByte, Nak, encode_frame

WIRE_FORMS = ["binary", "ascii_hex"]
KEY_BYTES = sorted(kmy.KeyMap().kinds()) + list(b"0123456789")


def test_get_version_frame_in_both_wire_forms() -> None:
    # PINPAD.md: "get version" = 02 '01' '30' '31' 03 in the ASCII-hex form.
    assert encode_frame(0x30, b"", "ascii_hex") == b"\x02" + b"013031" + b"\x03"
    assert encode_frame(0x30, b"", "binary") == bytes([0x02, 0x01, 0x30, 0x31, 0x03])
    assert encode_frame(0x30, b"", "binary", etx=False) == bytes([0x02, 0x01, 0x30, 0x31])


def test_bcc_is_xor_of_length_through_data() -> None:
    frame = encode_frame(0x43, bytes([0x00, 0x01]))
    assert frame[1] == 3 and frame[-2] == 0x03 ^ 0x43 ^ 0x00 ^ 0x01


@pytest.mark.parametrize("wire_form", WIRE_FORMS)
def test_parser_separates_frames_keys_and_naks(wire_form: str) -> None:
    parser = FrameParser(wire_form)
    stream = (b"**" + encode_frame(0x04, b"\x01\x02", wire_form) + b"\r" + bytes([kmy.NAK])
              + encode_frame(0x80, b"", wire_form))
    items = parser.feed(stream)
    assert items == [KeyByte(0x2A), KeyByte(0x2A), Frame(0x04, b"\x01\x02"), KeyByte(0x0D), Nak(), Frame(0x80, b"")]


@pytest.mark.parametrize("wire_form", WIRE_FORMS)
def test_wrong_bcc_costs_only_that_frame(wire_form: str) -> None:
    bad = bytearray(encode_frame(0x04, b"AB", wire_form))
    if wire_form == "binary":
        bad[-2] ^= 0xFF
    else:
        bad[-2] = ord("0") if bad[-2] != ord("0") else ord("1")
    items = FrameParser(wire_form).feed(bytes(bad) + encode_frame(0x04, b"OK", wire_form))
    frames = [i for i in items if isinstance(i, Frame)]
    assert frames == [Frame(0x04, b"OK")]
    assert any(isinstance(i, Junk) and i.reason in ("bcc", "length", "hex") for i in items)


@pytest.mark.parametrize("wire_form", WIRE_FORMS)
def test_partial_frame_waits_then_expires(wire_form: str) -> None:
    parser = FrameParser(wire_form)
    whole = encode_frame(0x04, b"xyz", wire_form)
    assert parser.feed(whole[:3]) == []
    assert parser.pending == 3
    assert parser.feed(whole[3:]) == [Frame(0x04, b"xyz")]
    # A lone STX with nothing after it is given up by expire() (the caller's frame-gap timer).
    assert parser.feed(bytes([STX])) == []
    assert parser.expire() == [Junk("partial")]
    assert parser.pending == 0


def test_unknown_wire_form_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="wire form"):
        FrameParser("hex")
    with pytest.raises(ValueError, match="too long"):
        encode_frame(0x04, bytes(300))


frames_st = st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=40)), max_size=6)
noise_st = st.binary(max_size=8).map(lambda b: bytes(x for x in b if x not in (STX, kmy.NAK, kmy.ETX)
                                                     and x not in KEY_BYTES))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=frames_st, noises=st.lists(noise_st, min_size=7, max_size=7),
       cuts=st.lists(st.integers(1, 64), max_size=30), wire_form=st.sampled_from(WIRE_FORMS))
def test_any_chunking_and_noise_between_frames_yields_every_frame(frames, noises, cuts, wire_form) -> None:  # type: ignore[no-untyped-def]
    stream = bytearray()
    for i, (code, data) in enumerate(frames):
        stream += noises[i % len(noises)] + encode_frame(code, data, wire_form)
    stream += noises[-1]
    parser = FrameParser(wire_form)
    items: list[object] = []
    pos = 0
    for cut in cuts:
        items += parser.feed(bytes(stream[pos:pos + cut]))
        pos += cut
    items += parser.feed(bytes(stream[pos:]))
    got = [(i.code, i.data) for i in items if isinstance(i, Frame)]
    assert got == frames
    assert not any(isinstance(i, Junk) and i.reason != "noise" for i in items)
    assert parser.pending == 0


@settings(max_examples=300, deadline=None)
@given(garbage=st.binary(max_size=600), wire_form=st.sampled_from(WIRE_FORMS))
def test_arbitrary_bytes_never_raise_and_never_stick(garbage: bytes, wire_form: str) -> None:
    parser = FrameParser(wire_form)
    items = parser.feed(garbage)
    items += parser.expire()
    while parser.pending:           # every expire() makes progress: at most one byte per round
        before = parser.pending
        items += parser.expire()
        assert parser.pending < before
    assert all(isinstance(i, Frame | KeyByte | Nak | Junk) for i in items)
    # And a valid frame after any garbage is still recovered once the garbage is expired.
    assert parser.feed(encode_frame(0x04, b"after", wire_form)) == [Frame(0x04, b"after")]


@settings(max_examples=150, deadline=None)
@given(code=st.integers(0, 255), data=st.binary(max_size=254), flip=st.integers(1, 10_000),
       wire_form=st.sampled_from(WIRE_FORMS))
def test_a_corrupted_byte_never_yields_a_wrong_frame(code: int, data: bytes, flip: int, wire_form: str) -> None:
    frame = bytearray(encode_frame(code, data, wire_form, etx=True))
    pos = 1 + flip % (len(frame) - 2)          # any byte between STX and ETX
    frame[pos] ^= 1 << (flip % 8)
    parser = FrameParser(wire_form)
    items = parser.feed(bytes(frame)) + parser.expire()
    for item in items:
        # A single bit flip is always caught by the BCC (or the length): the only frame that may
        # come out is the original, when the flip only changed the case of a hex letter.
        if isinstance(item, Frame):
            assert item == Frame(code, data), f"corrupted frame accepted: {item!r}"
            assert wire_form == "ascii_hex" and bytes(frame).upper() == encode_frame(code, data, wire_form)


@pytest.mark.parametrize("code", sorted(kmy.REDACTED))
def test_traces_redact_key_and_pin_block_commands_both_ways(code: int) -> None:
    secret = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    assert secret.hex(" ").upper() not in kmy.describe(code, secret)
    assert "<redacted 16 bytes>" in kmy.describe(code, secret)
    answer = kmy.describe_answer(code, Frame(kmy.ST_OK, secret))
    assert "<redacted 16 bytes>" in answer and "01 23" not in answer
    assert kmy.describe(kmy.CMD_CARD_NUMBER, b"020011223344") == "34h <12 digits>"
    assert kmy.describe(kmy.CMD_START_PIN, bytes([6, 6, 0, 31])) == "35h 06 06 00 1F"
