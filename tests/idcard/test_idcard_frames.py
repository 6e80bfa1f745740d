"""The SAM frames: known bytes, the streaming parser against noise, split chunks and damage."""

from __future__ import annotations

from drivers.idcard import sam


def test_find_card_frame_is_the_published_byte_string() -> None:
    # The interface's own example: find card = AA AA AA 96 69 00 03 20 01 22.
    assert sam.encode_command(sam.FIND_CARD).hex(" ").upper() == "AA AA AA 96 69 00 03 20 01 22"
    assert sam.encode_command(sam.SELECT_CARD).hex(" ").upper() == "AA AA AA 96 69 00 03 20 02 21"
    assert sam.encode_command(sam.READ_TEXT_PHOTO).hex(" ").upper() == "AA AA AA 96 69 00 03 30 01 32"
    assert sam.encode_command(sam.SAM_ID).hex(" ").upper() == "AA AA AA 96 69 00 03 12 FF EE"


def test_answer_frame_layout() -> None:
    frame = sam.encode_answer(sam.ST_FOUND, b"\x00\x00\x00\x00")
    assert frame.hex(" ").upper() == "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"


def test_parser_finds_frames_behind_noise_and_across_chunks() -> None:
    parser = sam.FrameParser()
    wire = b"\x13\xaa\x96" + sam.encode_answer(0x90, b"abc") + b"\xff" + sam.encode_answer(0x80)
    items: list[sam.Frame | sam.Junk] = []
    for i in range(len(wire)):                       # one byte at a time: the worst a UART can do
        items += parser.feed(wire[i:i + 1])
    frames = [bytes(i.payload) for i in items if isinstance(i, sam.Frame)]
    assert frames == [b"\x00\x00\x90abc", b"\x00\x00\x80"]
    assert sum(i.count for i in items if isinstance(i, sam.Junk) and i.reason == "noise") == 4
    assert parser.pending == 0


def test_a_damaged_frame_costs_only_itself() -> None:
    bad = bytearray(sam.encode_answer(0x90, b"xyz"))
    bad[-1] ^= 0xFF
    items = sam.FrameParser().feed(bytes(bad) + sam.encode_answer(0x9F))
    assert [type(i).__name__ for i in items if not (isinstance(i, sam.Junk) and i.reason == "noise")] \
        == ["Junk", "Frame"]
    assert isinstance(items[-1], sam.Frame) and items[-1].payload[2] == 0x9F


def test_an_impossible_length_is_junk_not_a_wait() -> None:
    items = sam.FrameParser().feed(sam.PREAMBLE + b"\xff\xff" + sam.encode_answer(0x90))
    assert any(isinstance(i, sam.Junk) and i.reason == "length" for i in items)
    assert isinstance(items[-1], sam.Frame)


def test_parser_wipe_zeroes_a_partial_answer() -> None:
    parser = sam.FrameParser()
    parser.feed(sam.encode_answer(0x90, b"secret-photo-bytes")[:-3])
    buffer = parser._buf
    assert parser.pending > 0
    parser.wipe()
    assert parser.pending == 0 and not any(buffer)


def test_sam_id_format() -> None:
    raw = bytes([5, 1]) + (20101012).to_bytes(4, "little") + (12345).to_bytes(4, "little") \
        + (1234567890).to_bytes(4, "little") + b"\x00\x00"
    assert sam.format_sam_id(raw) == "05.01-20101012-0000012345-1234567890"
