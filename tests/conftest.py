import os

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext

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


class Queries(int):
    """How many SQL queries a page ran: an int that also holds the statements and the response, so
    that a failed assert comparing it prints them (see pytest_assertrepr_compare below)."""

    url: str
    statements: list[str]
    response: HttpResponse

    def __new__(cls, url, statements, response):
        queries = super().__new__(cls, len(statements))
        queries.url, queries.statements, queries.response = url, statements, response
        return queries

    def listing(self):
        return [f"{int(self)} queries for {self.url}:", *(f"  {sql}" for sql in self.statements)]


@pytest.fixture
def count_queries():
    """`count_queries(client, url, **headers)`: GETs the page, asserts it answers 200, and returns its
    Queries. The pattern: count with a few rows, add many, count again, assert the same number."""

    def count(client, url, **headers):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, **headers)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        return Queries(url, [query["sql"] for query in captured], response)

    return count


def pytest_assertrepr_compare(op, left, right):
    """A failed assert on query counts prints the SQL statements behind each count, in full: the
    report shows them under "Captured stdout call" (an assert's own explanation is cut short)."""
    sides = [*left, *right] if isinstance(left, list) and isinstance(right, list) else [left, right]
    counted = [side for side in sides if isinstance(side, Queries)]
    if not counted:
        return None
    print("\n".join(line for queries in counted for line in queries.listing()))
    return [f"{left!r} {op} {right!r}: the SQL behind each count is printed (captured stdout)"]
