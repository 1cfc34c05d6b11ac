import importlib
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

# Each page reports its Content-Security-Policy violations to the test through an exposed function.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline code"} on ${event.documentURI}` +
    ` line ${event.lineNumber}: ${event.sample}`
  );
});
"""


@pytest.fixture(autouse=True)
def csp_violations(request):
    """Fails any browser test whose pages break the Content-Security-Policy: each violation the page
    reports (the `securitypolicyviolation` event) or Chromium logs to the console is collected, and
    the test fails at the end if there is any. A test that provokes one on purpose empties the list."""
    violations = []
    if "page" in request.fixturenames:
        page = request.getfixturevalue("page")
        page.expose_function("reportCspViolation", lambda text: violations.append(text))
        page.add_init_script(REPORT_CSP_VIOLATIONS)
        page.on("console", lambda message: _collect_csp_message(message, violations))
    yield violations
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


def _collect_csp_message(message, violations):
    if "Content Security Policy" in message.text:
        violations.append(f"console: {message.text}")


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
