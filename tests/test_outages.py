"""A read-only or full database answers a clear 503 page in both languages, and reads keep working.

The database is made read-only for real: on PostgreSQL the connection's transactions become read
only (what a standby or an operator's `ALTER DATABASE … SET default_transaction_read_only` does);
on SQLite the connection reopens a copy of the database file read-only, as SQLite itself opens a
file it may not write (as root, file permissions would not stop the writes), or the file is capped
at its present size, which is what a full disk looks like to SQLite.
"""

import sqlite3

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from customers.models import Need
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

READ_ONLY_HEADING = {
    "en": "Changes cannot be saved right now",
    "zh-hans": "现在无法保存更改",
}


@pytest.fixture
def signed_in(sales1):
    """A signed-in user's client that gets the error pages instead of the exceptions behind them."""
    client = Client(raise_request_exception=False)
    client.force_login(sales1)
    return client


@pytest.fixture
def customer(sales1):
    return CustomerFactory(owner=sales1, name="Acme Trading")


def _copy_of_sqlite_database(directory):
    """A copy of the test database in a file, without free pages."""
    path = directory / "crm.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.execute("VACUUM")
    target.close()
    return path


def _reopen_sqlite(path, **connect_options):
    """Points the default connection at another SQLite database; returns a function that undoes it."""
    original = connection.connection
    params = {**connection.get_connection_params(), "database": path, **connect_options}
    connection.connection = connection.get_new_connection(params)

    def restore():
        connection.connection.close()
        connection.connection = original

    return restore


@pytest.fixture
def read_only_database(tmp_path, customer):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = on")
        yield
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = off")
        return
    restore = _reopen_sqlite(f"file:{_copy_of_sqlite_database(tmp_path)}?mode=ro")
    yield
    restore()


def need_data():
    return {"type": Need.Type.PRODUCT, "priority": "normal", "description": "200 units by March"}


def test_reads_work_and_writes_answer_a_clear_503_in_both_languages(signed_in, customer, read_only_database):
    assert signed_in.get(reverse("customers:index")).status_code == 200
    assert signed_in.get(customer.get_absolute_url()).status_code == 200

    for language, heading in READ_ONLY_HEADING.items():
        signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = signed_in.post(reverse("customers:need_add", args=[customer.pk]), need_data())
        page = response.content.decode()
        assert response.status_code == 503, page
        assert heading in page
        assert "Traceback" not in page and "OperationalError" not in page and "InternalError" not in page
        assert response["Retry-After"] == "30"
        assert "no-store" in response["Cache-Control"]

    htmx = signed_in.post(
        reverse("customers:need_add", args=[customer.pk]), need_data(), HTTP_HX_REQUEST="true"
    )
    assert htmx.status_code == 503
    assert not Need.objects.exists()


def test_a_full_sqlite_database_answers_503(signed_in, customer, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: a full disk cannot be arranged on the shared PostgreSQL server")
    restore = _reopen_sqlite(str(_copy_of_sqlite_database(tmp_path)))
    try:
        with connection.cursor() as cursor:  # no room for one more page, as on a full disk
            cursor.execute("PRAGMA page_count")
            cursor.execute(f"PRAGMA max_page_count = {cursor.fetchone()[0]}")
        description = "x" * 5000  # longer than a page: it needs a new one, whatever room is left
        response = signed_in.post(
            reverse("customers:need_add", args=[customer.pk]), {**need_data(), "description": description}
        )
        assert response.status_code == 503
        assert READ_ONLY_HEADING["zh-hans"] in response.content.decode()
        assert not Need.objects.exists()
    finally:
        restore()
