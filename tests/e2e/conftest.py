import importlib
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@pytest.fixture
def screenshot(page):
    """Saves a full-page screenshot under var/screenshots/ and returns its path."""

    def take(name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login(page, live_server):
    def log_in(username, password):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").or_(page.get_by_label("用户名")).fill(username)
        page.get_by_label("Password").or_(page.get_by_label("密码")).fill(password)
        page.locator("form button[type=submit]").filter(has_text="Log in").or_(
            page.locator("form button[type=submit]").filter(has_text="登录")
        ).click()

    return log_in


@pytest.fixture
def default_stages():
    """The stages and weights the data migration installs; an earlier transactional test's flush
    may have emptied their tables, so install them again."""
    importlib.import_module("opportunities.migrations.0002_default_stages").create(django_apps, None)
