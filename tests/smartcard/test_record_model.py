"""The record model real cards use, through the real pcscd: one TLV per data element in EF05/EF06,
read per element, per number (current EF or SFI) and as a whole file, with the status words a real
card gives for everything else. The layout and what was assumed: drivers/smartcard/ssse_layout.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sc_helpers import CITIZEN, wait_reader_or_fail

from drivers.smartcard.readers import Connection, PcscBackend
from drivers.smartcard.records import holder_records, issuer_records
from drivers.smartcard.ssse import SSSE_AID
from drivers.smartcard.ssse_layout import EF05, EF06, RecordFile, RecordNumbering
from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard, sample_holder, sample_issuer
from drivers.smartcard.virtual.pcscd import PcscdStack

pytestmark = pytest.mark.pcsc

LONG_NAME = "阿卜杜热西提·买买提艾力·阿卜杜拉·热合曼"     # longer than tag 09's 30 bytes: has a 4E record
HOLDER = sample_holder(name=LONG_NAME)
EXPECTED = {**issuer_records(sample_issuer(2)), **holder_records(HOLDER)}
ELEMENTS = [(EF05, tag) for tag in EF05.tags] + [(EF06, tag) for tag in EF06.tags]


def _apdu(conn: Connection, hex_apdu: str) -> tuple[bytes, int]:
    raw = conn.transmit(bytes.fromhex(hex_apdu.replace(" ", "")))
    return raw[:-2], int.from_bytes(raw[-2:], "big")


def _select(conn: Connection, layout: RecordFile | None = None) -> None:
    assert _apdu(conn, "00 A4 04 00 0F" + SSSE_AID.hex())[1] == 0x9000
    if layout is not None:
        assert _apdu(conn, f"00 A4 02 00 02 {layout.fid:04X}")[1] == 0x9000


@pytest.fixture(scope="module", params=list(RecordNumbering))
def card_conn(request: pytest.FixtureRequest, pcsc_stack: PcscdStack) -> Iterator[tuple[Connection, RecordNumbering]]:
    """A 2nd-generation card (EF06 readable without the PSAM) in one record numbering, over pcscd."""
    numbering = request.param
    pcsc_stack.citizen.remove()                 # the last test's card may still show in pcscd
    wait_reader_or_fail(CITIZEN, present=False)
    pcsc_stack.citizen.insert(VirtualSsCard(CardConfig(generation=2, holder=HOLDER, record_numbering=numbering)))
    wait_reader_or_fail(CITIZEN, present=True)
    backend = PcscBackend()
    backend.open()
    conn = backend.connect(CITIZEN)
    try:
        yield conn, numbering
    finally:
        conn.close()
        backend.close()
        pcsc_stack.citizen.remove()
        wait_reader_or_fail(CITIZEN, present=False)


@pytest.mark.parametrize(("layout", "tag"), ELEMENTS, ids=[f"{f.name}-{t:02X}" for f, t in ELEMENTS])
def test_each_data_element_is_its_own_record_by_identifier_number_and_sfi(card_conn, layout, tag):
    conn, numbering = card_conn
    expected = EXPECTED[tag]
    number = layout.record_number(tag, numbering)
    _select(conn, layout)
    assert _apdu(conn, f"00 B2 {tag:02X} 00 00") == (expected, 0x9000)               # by identifier
    assert _apdu(conn, f"00 B2 {number:02X} 04 00") == (expected, 0x9000)            # by number
    _select(conn)                                                                      # no current EF
    assert _apdu(conn, f"00 B2 {number:02X} {layout.sfi << 3 | 4:02X} 00") == (expected, 0x9000)   # by SFI
    assert expected[0] == tag and expected[1] == len(expected) - 2                    # one TLV


@pytest.mark.parametrize("layout", [EF05, EF06], ids=["EF05", "EF06"])
def test_the_whole_file_read_returns_every_record_in_order(card_conn, layout):
    conn, _numbering = card_conn
    _select(conn, layout)
    data, sw = _apdu(conn, "00 B2 01 05 00")
    assert sw == 0x9000
    assert data == b"".join(EXPECTED[tag] for tag in layout.tags if tag in EXPECTED)


def test_other_reads_get_the_status_words_a_real_card_gives(card_conn):
    conn, _numbering = card_conn
    _select(conn)
    assert _apdu(conn, "00 B2 01 04 00")[1] == 0x6986            # no current EF
    assert _apdu(conn, "00 B0 00 00 00")[1] == 0x6986
    assert _apdu(conn, "00 B2 01 3C 00")[1] == 0x6A82            # SFI 07: no such file
    _select(conn, EF05)
    assert _apdu(conn, "00 B2 08 04 00")[1] == 0x6A83            # EF05 has 7 records
    assert _apdu(conn, "00 B2 09 00 00")[1] == 0x6A83            # tag 09 is in EF06, not EF05
    assert _apdu(conn, "00 B2 00 04 00")[1] == 0x6A83            # no current record
    assert _apdu(conn, "00 B2 01 02 00")[1] == 0x6A86            # "next occurrence" not supported
    assert _apdu(conn, "00 B0 00 00 00")[1] == 0x6981            # READ BINARY on a record file
    assert _apdu(conn, "00 B2 01 04 01 00")[1] == 0x6700          # READ RECORD has no data
