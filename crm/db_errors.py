"""Which database errors are outages (the database is down, restarting, read-only or full) rather
than bugs: those answer a 503 page that says so, in the reader's language, instead of a 500.

Django raises its own `DatabaseError` subclasses with the driver's error as `__cause__`; the
driver's error says what happened: psycopg by SQLSTATE, sqlite3 by its result code.
"""

import enum
import sqlite3

import psycopg


class Outage(enum.Enum):
    READ_ONLY = "read_only"  # reads work; writes are refused (read-only database, disk full)
    UNAVAILABLE = "unavailable"  # nothing works for a moment (down, restarting, unreachable, busy)


# PostgreSQL: read_only_sql_transaction (also a standby after a failover), disk_full.
POSTGRES_READ_ONLY = {"25006", "53100"}
# Classes: connection_exception, insufficient_resources (e.g. too many connections), and the
# shutdowns of operator_intervention (admin_shutdown, crash_shutdown, cannot_connect_now).
POSTGRES_UNAVAILABLE_CLASSES = ("08", "53", "57P")
SQLITE_READ_ONLY = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_FULL}
SQLITE_UNAVAILABLE = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CANTOPEN,
}


def outage_of(error: BaseException | None) -> Outage | None:
    """The outage `error` (or the driver error behind it) reports, or None for any other error."""
    while error is not None:
        if isinstance(error, psycopg.Error):
            return _postgres_outage(error)
        if isinstance(error, sqlite3.Error):
            return _sqlite_outage(error)
        error = error.__cause__
    return None


def _postgres_outage(error: psycopg.Error) -> Outage | None:
    state = error.sqlstate
    if state in POSTGRES_READ_ONLY:
        return Outage.READ_ONLY
    if state is None:
        # No answer from a server at all: it refused the connection or dropped it.
        is_connection_error = isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)
        return Outage.UNAVAILABLE if is_connection_error else None
    return Outage.UNAVAILABLE if state.startswith(POSTGRES_UNAVAILABLE_CLASSES) else None


def _sqlite_outage(error: sqlite3.Error) -> Outage | None:
    primary_code = getattr(error, "sqlite_errorcode", 0) & 0xFF  # extended codes keep it in the low byte
    if primary_code in SQLITE_READ_ONLY:
        return Outage.READ_ONLY
    if primary_code in SQLITE_UNAVAILABLE:
        return Outage.UNAVAILABLE
    return None
