"""Which database errors mean "the database is down" (503, retry) and which mean "this request
cannot be stored" (4xx, do not retry): a kiosk retries a 503 forever, so a poison value must
never be answered with one."""

from __future__ import annotations

from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)

# SQLSTATE classes that say the server or the connection is unavailable, not the request wrong:
# 08 connection exception, 53 insufficient resources, 57P admin shutdown / cannot connect now,
# 40001/40P01 serialization failure and deadlock (retry later).
_UNAVAILABLE_PREFIXES = ("08", "53", "57P", "40001", "40P01", "55P03")


def sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def is_unavailable(exc: BaseException) -> bool:
    """True for a lost or refused connection, an overloaded or stopping server."""
    if isinstance(exc, (DisconnectionError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        state = sqlstate(exc)
        # No SQLSTATE: the client could not reach the server at all (or SQLite is locked/busy).
        return state is None or state.startswith(_UNAVAILABLE_PREFIXES)
    return False


def classify(exc: DBAPIError) -> tuple[int, str, str]:
    """-> (status, error code, reason) for the API's error body."""
    if is_unavailable(exc):
        return 503, "service_unavailable", "the backend's database is unavailable; try again later"
    if isinstance(exc, DataError):
        return 422, "unstorable", ("a value in the request cannot be stored (for example a NUL character or a "
                                   "number out of range); correct the request")
    if isinstance(exc, IntegrityError):
        return 409, "conflict", "the request conflicts with data already stored"
    return 500, "internal_error", "the backend failed on this request; it is logged for the operators"
