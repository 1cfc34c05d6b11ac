import os

import pytest
from django.contrib.auth.models import Group
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
