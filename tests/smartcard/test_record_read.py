"""Reading the per-element record model through the real pcscd: a 3rd-generation card's holder
records before authentication, and the service reading every element under either numbering.
(Separate from test_record_model.py, whose module-scoped card would otherwise be in the reader.)"""

from __future__ import annotations

import pytest
from sc_helpers import CITIZEN, wait_reader_or_fail
from test_record_model import EXPECTED, HOLDER, _apdu, _select

from drivers.smartcard.api import CardInserted
from drivers.smartcard.readers import PcscBackend
from drivers.smartcard.ssse_layout import EF05, EF06, RecordNumbering
from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard

pytestmark = pytest.mark.pcsc


def test_a_third_generation_card_refuses_holder_records_by_every_form_before_authentication(pcsc_stack):
    pcsc_stack.citizen.remove()                 # the last test's card may still show in pcscd
    wait_reader_or_fail(CITIZEN, present=False)
    pcsc_stack.citizen.insert(VirtualSsCard(CardConfig(generation=3)))
    wait_reader_or_fail(CITIZEN, present=True)
    backend = PcscBackend()
    backend.open()
    conn = backend.connect(CITIZEN)
    try:
        _select(conn, EF05)
        assert _apdu(conn, "00 B2 07 2C 00")[0] == EXPECTED[0x07]                 # EF05 is free
        assert _apdu(conn, "00 B2 08 34 00")[1] == 0x6982                         # EF06 by SFI
        _select(conn, EF06)
        assert _apdu(conn, "00 B2 09 00 00")[1] == 0x6982
        assert _apdu(conn, "00 B2 01 05 00")[1] == 0x6982
    finally:
        conn.close()
        backend.close()
        pcsc_stack.citizen.remove()
        wait_reader_or_fail(CITIZEN, present=False)


@pytest.mark.parametrize("numbering", list(RecordNumbering))
def test_the_service_reads_every_element_under_either_numbering(pcsc_stack, pcsc_service, numbering):
    service, events = pcsc_service
    card = VirtualSsCard(CardConfig(generation=3, holder=HOLDER, record_numbering=numbering))
    pcsc_stack.citizen.insert(card)
    events.wait_for(lambda e: isinstance(e, CardInserted))
    done = service.read_card().wait(10)
    assert done.ok, done
    assert done.result.holder == HOLDER                         # 08-0D and the 4E extended name
    assert done.result.issuer == card.issuer                    # 01-07
