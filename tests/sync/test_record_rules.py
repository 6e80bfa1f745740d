"""The kiosk refuses, before signing, a record the backend could not store (named field), and
cleans the NUL/space padding of card text where it enters."""

from __future__ import annotations

import pytest

from kiosk.store import Store
from kiosk.store.record_rules import RecordRefused, clean_card_text


@pytest.mark.parametrize("type_,payload,operator_id,field", [
    ("pin_change\n", {}, None, "type"),
    ("a" * 41, {}, None, "type"),
    ("attempt_failed", {"note": "a\x00b"}, None, "payload.note"),
    ("attempt_failed", {}, "op\x00", "operator_id"),
    ("pin_change", {"id_number": "44010619520315432ß"}, None, "payload.id_number"),
    ("certification", {"result": "passed"}, None, "payload.id_number"),
    ("attempt_failed", {"n": 2**70}, None, "payload.n"),
    ("attempt_failed", {"blob": "x" * 1_100_000}, None, "payload"),
])
def test_unstorable_records_are_refused_before_signing(store: Store, type_, payload, operator_id, field):
    with pytest.raises(RecordRefused) as info:
        store.commit_result(type_, payload, operator_id=operator_id)
    assert info.value.field == field and field in str(info.value)
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM seq_counter").fetchone()[0] == 0   # no seq used up


def test_card_padding_is_cleaned_before_signing(store: Store):
    assert clean_card_text("张建明\x00\x00 \x00") == "张建明"
    ref = store.commit_result("pin_change", {"id_number": "440106195203154324\x00\x00", "name": "张建明 \x00"})
    with store.read() as conn:
        (envelope,) = conn.execute("SELECT envelope FROM outbox WHERE id = ?", (ref.id,)).fetchone()
    assert '"id_number":"440106195203154324"' in envelope and "\\u0000" not in envelope
