import asyncio
import os
import re
import socket
import threading
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from django.contrib.auth.models import Group
from django.db import connection, connections
from django.forms import SplitDateTimeWidget
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts.models import Membership, Team
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
def lead_client(client, sales1):
    """A team lead whose team has sales1."""
    lead = UserFactory(username="lead", groups=[Group.objects.get(name="Team leads")])
    team = Team.objects.create(name="East")
    Membership.objects.create(user=lead, team=team)
    Membership.objects.create(user=sales1, team=team)
    client.force_login(lead)
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
        results: list[object] = [None] * len(actions)

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


class MailServer:
    """What the test SMTP server received, and how it behaves: `refuse` answers 550, `delay` (seconds)
    keeps the client waiting, `on_message` (called with the envelope, in a thread of its own, with its
    own database connection) looks at the world as the message arrives."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []
        self.refuse = False
        self.delay: float = 0
        self.on_message: Callable[[Envelope], object] | None = None
        self.port = 0

    async def handle_DATA(self, server, session, envelope):
        if self.on_message is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._look, self.on_message, envelope)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse:
            return "550 Mailbox unavailable"
        self.messages.append(envelope)
        return "250 OK"

    @staticmethod
    def _look(on_message: Callable[[Envelope], object], envelope: Envelope) -> None:
        try:
            on_message(envelope)
        finally:
            connections.close_all()

    @property
    def recipients(self):
        return sorted(address for envelope in self.messages for address in envelope.rcpt_tos)


@pytest.fixture
def mail_server(settings):
    """A real SMTP server on 127.0.0.1 that Django's SMTP backend sends to."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = MailServer()
    server.port = port
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 10
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    controller.stop()


def _admin_page_data(page):
    """What an admin change page posts back when saved unchanged: its form's and its inlines' fields."""
    data: dict[str, Any] = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data |= {management.add_prefix(name): management[name].value() for name in management.fields}
        forms += inline.formset.forms
    for form in forms:
        for name, field in form.fields.items():
            value, key = form[name].value(), form.add_prefix(name)
            if value is None or value is False:
                continue
            if isinstance(field.widget, SplitDateTimeWidget):  # the admin's date and time are two inputs
                parts = value if isinstance(value, list) else field.widget.decompress(value)
                data |= {f"{key}_{index}": "" if part is None else part for index, part in enumerate(parts)}
            else:
                data[key] = value
    return data


@pytest.fixture
def admin_form():
    """`admin_form(client, url)`: the data of the admin page at `url`, ready to change and post."""

    def read(client, url):
        page = client.get(url)
        assert page.status_code == 200, url
        return _admin_page_data(page)

    return read


def add_inline_row(data, prefix, **fields):
    """Adds a new row to an inline's posted data."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = index + 1
    data |= {f"{prefix}-{index}-{name}": value for name, value in fields.items()}
    return data


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


def shown_customer_page(client, customer) -> str:
    return shown_page(client, customer.get_absolute_url())


def shown_page(client, url: str) -> str:
    """A page as a browser shows it once the parts it loads on its own (htmx, on load) have come: the
    page's HTML followed by each part's."""
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    parts = re.findall(r'hx-get="([^"]+)" hx-trigger="load', html)
    return html + "".join(client.get(unescape(url), HTTP_HX_REQUEST="true").content.decode() for url in parts)
