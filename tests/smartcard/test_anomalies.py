"""Answers a real card never gives, through the real pcscd: each faulty-card variant ends its
command as UNKNOWN_STATUS (never OK), the citizen's sentence is "unexpected answer" (never
"Done."), the anomaly is counted, and the log names it without the answer's data."""

from __future__ import annotations

import logging

import pytest

from drivers.smartcard.anomalies import AnomalyKind
from drivers.smartcard.api import CardInserted, CardOutcome, card_outcome
from drivers.smartcard.virtual.card import CardConfig
from drivers.smartcard.virtual.faulty import faulty_card
from kiosk.i18n import _
from kiosk.messages import card as card_messages

pytestmark = pytest.mark.pcsc

PIN = "246813"

# fault -> (card generation, the command that meets it, the anomaly counted)
CASES = {
    "short_challenge": (3, lambda s: s.read_card(), AnomalyKind.CHALLENGE_LENGTH),
    "select_without_fci": (2, lambda s: s.read_card(), AnomalyKind.NO_FCI),
    "empty_record": (2, lambda s: s.read_card(), AnomalyKind.SHORT_RECORD),
    "tries_above_max": (2, lambda s: s.pin_tries_left(), AnomalyKind.TRIES_ABOVE_MAX),
    "data_on_verify": (2, lambda s: s.verify_pin(bytearray(PIN.encode())), AnomalyKind.DATA_ON_VERIFY),
    "data_on_change": (2, lambda s: s.change_pin(bytearray(PIN.encode()), bytearray(b"975310")),
                       AnomalyKind.DATA_ON_PIN_COMMAND),
    "data_on_unblock": (3, lambda s: s.unblock_pin(), AnomalyKind.DATA_ON_PIN_COMMAND),
}


@pytest.mark.parametrize("fault", list(CASES))
def test_a_malformed_answer_is_refused_counted_and_never_done(pcsc_stack, pcsc_service, caplog, fault):
    service, events = pcsc_service
    generation, command, kind = CASES[fault]
    card = faulty_card(fault, CardConfig(generation=generation, pin=PIN))
    pcsc_stack.citizen.insert(card)
    events.wait_for(lambda e: isinstance(e, CardInserted))
    caplog.set_level(logging.WARNING, logger="drivers.smartcard.anomalies")
    done = command(service).wait(10)
    assert not done.ok, done
    assert card_outcome(done) is CardOutcome.UNKNOWN_STATUS
    assert done.error_code == CardOutcome.UNKNOWN_STATUS.value
    sentence = card_messages.for_completion(done)
    assert sentence == _(card_messages.OUTCOME[CardOutcome.UNKNOWN_STATUS])
    assert sentence != _(card_messages.OUTCOME[CardOutcome.OK])
    assert service.anomalies.count(kind) == 1
    [logged] = [r for r in caplog.records if getattr(r, "anomaly", None) == kind]
    assert logged.data.startswith("<") and "01 02" not in str(logged.__dict__)
    assert card.pin == PIN and card.tries_left == 3         # nothing was changed or spent


def test_a_failed_completion_whose_error_code_reads_ok_is_never_ok():
    """The backstop: even a completion built by hand with error code "ok" maps to UNKNOWN_STATUS."""
    from drivers.api import Completion, CompletionCode

    done = Completion("reloadPin", CompletionCode.COMMAND_ERROR, error_code="ok")
    assert card_outcome(done) is CardOutcome.UNKNOWN_STATUS
    assert card_messages.for_completion(done) != _(card_messages.OUTCOME[CardOutcome.OK])
