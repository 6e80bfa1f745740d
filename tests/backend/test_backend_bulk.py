"""The ingest's statements sent straight to psycopg (backend/bulk.py): errors keep SQLAlchemy's
classes (the app answers 503 only for a lost database), and the one-parameter id arrays refuse
anything but validated ids."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DataError, IntegrityError

from backend import bulk, dberrors


def test_fetch_returns_rows_and_psycopg_errors_keep_sqlalchemy_classes(services):
    with services.engine.connect() as conn, conn.begin():
        assert bulk.fetch(conn, "SELECT %s::int + 1, 'a'", (41,)) == [(42, "a")]
        assert bulk.fetch(conn, "SELECT id FROM records WHERE id = ANY(%s::text[])",
                          (bulk.text_array(["0190aaaa-0000-7000-8000-000000000000"]),)) == []
    with services.engine.connect() as conn, conn.begin(), pytest.raises(DataError) as bad:
        bulk.fetch(conn, "SELECT 1 / %s", (0,))
    assert dberrors.classify(bad.value)[0] == 422 and not dberrors.is_unavailable(bad.value)
    with services.engine.connect() as conn, conn.begin(), pytest.raises(IntegrityError) as dup:
        bulk.fetch(conn, "INSERT INTO rate_limit_lifts (kind, subject, lifted_at) VALUES ('phone', 'x', now()), "
                         "('phone', 'x', now())", ())
    assert dberrors.classify(dup.value)[0] == 409


def test_text_array_takes_ids_and_id_numbers_only():
    assert bulk.text_array([]) == "{}"
    assert bulk.text_array(["440106195203154324", "44010619520315432X"]) == \
        "{440106195203154324,44010619520315432X}"
    for bad in (["a,b"], ["NULL"], [""], ['x"}'], ["1 2"]):
        with pytest.raises(ValueError):
            bulk.text_array(bad)
