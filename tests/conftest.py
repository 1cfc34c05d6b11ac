import os
import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import translation

from tests.factories import UserFactory

# pytest-playwright keeps an event loop running in the test thread; Django would refuse
# synchronous database access from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_PATH = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM_PATH, "args": CHROMIUM_ARGS}


@pytest.fixture
def sales1(db):
    return UserFactory(username="sales1", groups=[Group.objects.get(name="Sales")])


@pytest.fixture
def sales2(db):
    return UserFactory(username="sales2", groups=[Group.objects.get(name="Sales")])


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", is_staff=True, groups=[Group.objects.get(name="Managers")])


@pytest.fixture
def sales_client(client, sales1):
    client.force_login(sales1)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def english(client, settings):
    """The messages a test reads are the English ones (the default language is Chinese)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


# Tests of several transactions at once: SQLite serialises every write behind one lock and its test
# database cannot be shared between threads, so they run on PostgreSQL.
POSTGRESQL_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL-only: SQLite cannot run concurrent write transactions from several threads",
)


@pytest.fixture
def run_together():
    """Runs actions in their own threads and connections, all starting at once; returns what each
    returned or raised. Each action gets a barrier to wait at once it has read what it acts on."""

    def run_all(*actions):
        barrier = threading.Barrier(len(actions))
        results = [None] * len(actions)

        def run(index, action):
            try:
                results[index] = action(barrier)
            except Exception as error:  # the test inspects what each thread got
                results[index] = error
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(index, action)) for index, action in enumerate(actions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        return results

    return run_all
