"""Backup and restore: `manage.py backup`, then `manage.py restore` into an empty database in
another process, as an operator runs them; the restored key tables are compared row by row with
the originals, and a non-empty database is refused untouched.

On PostgreSQL the restore target is a database of its own, named after the test database and
dropped afterwards; on SQLite it is a new file.
"""

import hashlib
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from orders import services as order_services
from orders.models import Order
from tests.factories import CustomerFactory
from tests.orders.builders import advance, make_order

pytestmark = pytest.mark.django_db(transaction=True)

KEY_TABLES = ["customers_customer", "orders_order", "orders_orderline", "orders_payment"]


@pytest.fixture
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "contracts").mkdir(parents=True)
    (settings.MEDIA_ROOT / "contracts" / "合同-2026.pdf").write_bytes(b"%PDF-1.7 signed contract")
    return settings.MEDIA_ROOT


@pytest.fixture
def business(sales1):
    """Customers with orders in several states, their lines, payments and a refund."""
    for index in range(3):
        customer = CustomerFactory(owner=sales1, name=f"上海贸易 {index}")
        order = make_order(
            sales1,
            customer,
            lines=[
                {"description": "Sensor", "quantity": 3, "unit_price": Decimal("100.00")},
                {
                    "description": "温度计",
                    "quantity": 2,
                    "unit_price": Decimal("45.50"),
                    "discount": Decimal("1"),
                },
            ],
        )
        order = advance(sales1, order, "confirmed")
        order_services.record_payment(
            actor=sales1, order=order, amount=Decimal("200.00"), method="bank_transfer"
        )
        if index == 1:
            order_services.record_payment(
                actor=sales1, order=order, amount=Decimal("-50.00"), method="bank_transfer"
            )
    assert Order.objects.count() == 3


@pytest.fixture
def restore_target(tmp_path):
    """An empty database to restore into: its DATABASE_URL."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"{database['NAME']}_restore"
    with closing(psycopg.connect(**_libpq(database, "postgres"), autocommit=True)) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
        yield f"postgres://{database['USER']}{password}@{database['HOST']}:{database['PORT'] or 5432}/{name}"
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq(database, name):
    parameters = {
        "dbname": name,
        "host": database["HOST"],
        "port": database["PORT"],
        "user": database["USER"],
    }
    return {key: value for key, value in {**parameters, "password": database["PASSWORD"]}.items() if value}


def _table_digests(cursor, vendor):
    """Each key table's row count and a SHA-256 of its rows as text, in id order (an independent
    reading: the database renders each row, no Python type conversion in between)."""
    digests = {}
    for table in KEY_TABLES:
        if vendor == "postgresql":
            cursor.execute(f"SELECT t::text FROM {table} t ORDER BY id")
        else:
            columns = [row[1] for row in cursor.execute(f"PRAGMA table_info({table})").fetchall()]
            row_text = " || ',' || ".join(f'quote("{column}")' for column in columns)
            cursor.execute(f"SELECT {row_text} FROM {table} ORDER BY id")
        rows = [row[0] for row in cursor.fetchall()]
        digests[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return digests


def _restored_digests(target_url, tmp_path):
    if connection.vendor == "sqlite":
        with closing(sqlite3.connect(tmp_path / "restored.sqlite3")) as restored:
            return _table_digests(restored.cursor(), "sqlite")
    with closing(psycopg.connect(target_url)) as restored:
        return _table_digests(restored.cursor(), "postgresql")


def test_backup_then_restore_into_an_empty_database(business, media_root, restore_target, tmp_path):
    archive = tmp_path / "backups" / "crm.tar.gz"
    call_command("backup", output=archive)
    assert archive.exists() and oct(archive.stat().st_mode & 0o777) == "0o600"

    restored_media = tmp_path / "restored-media"
    environment = {**os.environ, "DATABASE_URL": restore_target, "MEDIA_ROOT": str(restored_media)}
    environment["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    result = subprocess.run(
        [sys.executable, "manage.py", "restore", str(archive)],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "the same counts as the backup's" in result.stdout

    with connection.cursor() as cursor:
        original = _table_digests(cursor, connection.vendor)
    assert original["orders_payment"][0] == 4 and original["orders_orderline"][0] == 6
    assert _restored_digests(restore_target, tmp_path) == original
    restored_file = restored_media / "contracts" / "合同-2026.pdf"
    assert restored_file.read_bytes() == b"%PDF-1.7 signed contract"


def test_restore_refuses_a_database_that_is_not_empty(business, media_root, tmp_path):
    archive = tmp_path / "crm.tar.gz"
    call_command("backup", output=archive)
    with connection.cursor() as cursor:
        before = _table_digests(cursor, connection.vendor)

    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", archive)

    with connection.cursor() as cursor:
        assert _table_digests(cursor, connection.vendor) == before


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    not_a_backup = tmp_path / "notes.tar.gz"
    not_a_backup.write_text("hello")
    with pytest.raises(CommandError, match="is not a readable CRM backup"):
        call_command("restore", not_a_backup)
