"""Which database errors are outages (a 503 that says so) and which are bugs (a 500)."""

import sqlite3

import psycopg
import pytest

from crm.db_errors import Outage, outage_of


def _sqlite_error(code):
    error = sqlite3.OperationalError("as sqlite3 raises it")
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (psycopg.errors.ReadOnlySqlTransaction(), Outage.READ_ONLY),
        (psycopg.errors.DiskFull(), Outage.READ_ONLY),
        (psycopg.errors.AdminShutdown(), Outage.UNAVAILABLE),
        (psycopg.errors.CannotConnectNow(), Outage.UNAVAILABLE),
        (psycopg.errors.TooManyConnections(), Outage.UNAVAILABLE),
        (psycopg.OperationalError("connection refused"), Outage.UNAVAILABLE),
        (psycopg.errors.UniqueViolation(), None),
        (psycopg.errors.NumericValueOutOfRange(), None),
        (_sqlite_error(sqlite3.SQLITE_READONLY), Outage.READ_ONLY),
        (_sqlite_error(sqlite3.SQLITE_FULL), Outage.READ_ONLY),
        (_sqlite_error(sqlite3.SQLITE_BUSY), Outage.UNAVAILABLE),
        (_sqlite_error(sqlite3.SQLITE_CONSTRAINT_CHECK), None),
        (ValueError("not a database error"), None),
    ],
)
def test_which_errors_are_outages(error, outage):
    wrapped = RuntimeError("as Django raises it")
    wrapped.__cause__ = error
    assert outage_of(wrapped) == outage
