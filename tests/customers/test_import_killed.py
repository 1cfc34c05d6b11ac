"""An import killed in the middle (SIGKILL: no handler, no cleanup) leaves nothing of its batch, and
running it again completes it, without duplicates.

The import runs as a real `manage.py import_customers --commit` process against the test database
and is killed once it has inserted rows (the id sequence, which is not transactional, has moved).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from customers.models import ContactMethod, Customer
from tests.conftest import POSTGRESQL_ONLY

pytestmark = [pytest.mark.django_db(transaction=True), POSTGRESQL_ONLY]

ROWS = 3000
MANAGE = Path(settings.BASE_DIR) / "manage.py"


def _database_url():
    db = connection.settings_dict
    host, port = db["HOST"] or "localhost", db["PORT"] or 5432
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}"


def _import(path, **popen):
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": _database_url()}
    command = [sys.executable, str(MANAGE), "import_customers", str(path), "--user", "sales1", "--commit"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **popen)


def _customer_ids_handed_out():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sequence_last_value(pg_get_serial_sequence('customers_customer', 'id'))")
        return cursor.fetchone()[0] or 0


@pytest.fixture
def large_file(tmp_path):
    path = tmp_path / "customers.csv"
    lines = ["name,mobile,region"] + [f"Imported {n:05d},138{n:08d},Shanghai" for n in range(ROWS)]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_an_import_killed_midway_leaves_nothing_and_a_second_run_completes_it(sales1, large_file):
    process = _import(large_file)
    deadline = time.monotonic() + 120
    while _customer_ids_handed_out() == 0:  # no row inserted yet
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the import wrote nothing in two minutes"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert _customer_ids_handed_out() > 0  # it had inserted rows when it died
    assert Customer.objects.count() == 0 and ContactMethod.objects.count() == 0

    for _run in range(2):  # the second run finds every customer by its mobile: updates, no duplicates
        rerun = _import(large_file)
        assert rerun.wait(timeout=300) == 0, rerun.stderr.read().decode()
    assert Customer.objects.count() == ROWS
    assert ContactMethod.objects.count() == ROWS
    assert Customer.objects.filter(name="Imported 02999", region="Shanghai").exists()
