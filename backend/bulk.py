"""Bulk writes for ingest on PostgreSQL: one COPY or one array statement per batch instead of a
prepared statement per row (each cost tens of microseconds of replica CPU per record; see
bench/backend_ingest.py). Elsewhere (the embedded SQLite store) the plain SQLAlchemy path."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, StatementError

from backend.db import UtcDateTime

_UTC_COLUMN = UtcDateTime()


def on_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def naive_utc(value: datetime) -> datetime:
    """What backend.db.UtcDateTime stores, by its own conversion (COPY bypasses its bind
    processing): a naive datetime is refused here as it is there."""
    return _UTC_COLUMN.process_bind_param(value, None)  # type: ignore[return-value]


def copy_rows(conn: Connection, table: sa.Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY ``rows`` (tuples in ``columns`` order, datetimes already naive UTC) into ``table``, in
    the connection's transaction. A driver error surfaces as SQLAlchemy's DBAPIError, which the
    app classifies (503 only for a lost connection)."""
    import psycopg

    cursor = conn.connection.driver_connection.cursor()
    try:
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError(f"COPY {table.name}", None, exc) from exc
    finally:
        cursor.close()


def any_of(conn: Connection, column: sa.ColumnElement[Any], values: list[str]) -> sa.ColumnElement[bool]:
    """``column IN values``: on PostgreSQL ``= ANY(array)``, one bind parameter however many values
    (an expanding IN renders and binds a parameter per value on every batch)."""
    if on_postgresql(conn):
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == sa.any_(sa.bindparam(None, values, type_=ARRAY(sa.String())))
    return column.in_(values)


def insert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert dict rows: COPY on PostgreSQL (UtcDateTime columns converted here), else executemany."""
    if not rows:
        return
    if not on_postgresql(conn):
        conn.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    stamps = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, UtcDateTime)]
    values = operator.itemgetter(*columns) if len(columns) > 1 else (lambda r: (r[columns[0]],))
    try:
        copy_rows(conn, table, columns, _naive_stamps((values(r) for r in rows), stamps) if stamps
                  else (values(r) for r in rows))
    except ValueError as exc:
        # UtcDateTime's refusal (a naive datetime), raised as SQLAlchemy raises it on the plain path.
        raise StatementError(str(exc), f"COPY {table.name}", None, exc) from exc


def _naive_stamps(tuples: Iterable[Sequence[Any]], stamps: list[int]) -> Iterator[Sequence[Any]]:
    """Only the timestamp columns converted, and a value repeated from the row before (a batch's
    received_at) converted once: this loop ran per column per row before (bench/backend_ingest.py)."""
    last_in: Any = None
    last_out: Any = None
    for row in tuples:
        out = list(row)
        for i in stamps:
            value = out[i]
            if value is None:
                continue
            if value is not last_in:
                last_in, last_out = value, naive_utc(value)
            out[i] = last_out
        yield out
