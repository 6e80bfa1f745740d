"""Bulk writes for ingest on PostgreSQL: one COPY or one array statement per batch instead of a
prepared statement per row (each cost tens of microseconds of replica CPU per record; see
bench/backend_ingest.py), and the ingest statements sent straight to psycopg (:func:`fetch`).
Elsewhere (the embedded SQLite store) the plain SQLAlchemy path."""

from __future__ import annotations

import operator
import re
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
        raise _wrapped(conn, f"COPY {table.name}", exc) from exc
    finally:
        cursor.close()


def _wrapped(conn: Connection, statement: str, exc: Exception) -> BaseException:
    """A psycopg error as SQLAlchemy would have raised it (OperationalError, DataError, ... with
    connection_invalidated for a lost connection), so the app classifies it the same way
    (backend/dberrors.py: 503 only when the database is really unavailable)."""
    import psycopg

    lost = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)
    return DBAPIError.instance(statement, None, exc, psycopg.Error, connection_invalidated=lost,
                               dialect=conn.dialect)


def fetch(conn: Connection, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """One statement (psycopg ``%s`` placeholders) on the connection's psycopg connection, in its
    transaction; its rows as tuples ([] when it returns none). SQLAlchemy Core's execution of a
    cached statement cost 3-5 times psycopg's own CPU here (~200-300 us per statement, several
    per batch; bench/backend_ingest.py); psycopg prepares a statement it has run five times."""
    import psycopg

    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description is not None else []
    except psycopg.Error as exc:
        raise _wrapped(conn, statement, exc) from exc
    finally:
        cursor.close()


# What a validated record id (UUID) or ID number is made of: hexadecimal digits, dashes, X. No
# comma, brace, quote, backslash or space, and no NULL, so the array literal needs no quoting.
_ARRAY_SAFE = re.compile(r"[0-9A-Fa-fXx-]+(?:,[0-9A-Fa-fXx-]+)*")


def text_array(values: list[str]) -> str:
    """``values`` as one PostgreSQL array literal for ``= ANY(%s::text[])``: PostgreSQL parses it
    once, where psycopg dumps a Python list element by element in Python (and string_to_array
    cost PostgreSQL more CPU per batch than the statement's own work). Only for validated record
    ids and ID numbers; anything else is a programming error."""
    text = ",".join(values)
    if values and (text.count(",") != len(values) - 1 or not _ARRAY_SAFE.fullmatch(text)):
        raise ValueError("text_array is for record ids and ID numbers only")
    return "{" + text + "}"


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
