"""The headers the CRM answers with: its Content-Security-Policy, Permissions-Policy, no caching of
a signed-in user's pages, and the request id; and, with the production settings (DEBUG off), the
same policy and one JSON log line per event carrying the request's id."""

import json
import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _directives(policy):
    return dict(directive.strip().split(" ", 1) for directive in policy.split(";"))


def test_signed_in_pages_have_a_strict_policy_and_are_never_stored(sales_client):
    for url in [
        reverse("dashboard"),
        reverse("customers:index"),
        reverse("customers:export") + "?format=csv",
    ]:
        response = sales_client.get(url)
        assert response.status_code == 200, url
        directives = _directives(response["Content-Security-Policy"])
        assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'", url
        assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'", url
        assert "unsafe-inline" not in response["Content-Security-Policy"], url
        assert "unsafe-eval" not in response["Content-Security-Policy"], url
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= cache_control, url
        assert "camera=()" in response["Permissions-Policy"], url


def test_anonymous_answers_are_not_marked_private(client):
    response = client.get(reverse("customers:index"))
    assert response.status_code == 302
    assert "Cache-Control" not in response
    assert "Content-Security-Policy" in response and "Permissions-Policy" in response


def test_static_files_keep_their_own_caching(sales_client, settings):
    settings.WHITENOISE_USE_FINDERS = True  # serve from the source folders, as in development
    response = sales_client.get(static("crm/crm.js"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_request_id_is_taken_from_the_caller_or_made_and_echoed(client):
    given = uuid.uuid4().hex
    assert client.get(reverse("healthz"), HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    made = client.get(reverse("healthz"))["X-Request-ID"]
    forged = client.get(reverse("healthz"), HTTP_X_REQUEST_ID='x" injected="1')["X-Request-ID"]
    assert uuid.UUID(made).hex == made and uuid.UUID(forged).hex == forged != made


def test_admin_history_pages_alone_allow_simple_historys_inline_style(manager):
    client = Client()
    client.force_login(manager)
    customer = CustomerFactory()
    changelist = client.get(reverse("admin:customers_customer_changelist"))
    assert "style-src-attr" not in _directives(changelist["Content-Security-Policy"])
    history = client.get(reverse("admin:customers_customer_history", args=[customer.pk]))
    assert history.status_code == 200
    directives = _directives(history["Content-Security-Policy"])
    assert directives["style-src"] == "'self'"
    assert directives["style-src-attr"] == "'unsafe-hashes' 'sha256-" + BORDER_TOP_0_SHA256 + "'"


# simple-history's style="border-top: 0", by its SHA-256.
BORDER_TOP_0_SHA256 = "XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM="


# Run with the production settings in a process of its own: DEBUG off changes logging and more.
PRODUCTION_REQUEST = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/readyz", secure=True, headers={"X-Request-ID": REQUEST_ID})
print(json.dumps({"status": response.status_code, "headers": dict(response.headers)}))
"""


def test_production_settings_send_the_policy_and_log_json_with_the_request_id(tmp_path):
    request_id = uuid.uuid4().hex
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DEBUG": "0",
        "SECRET_KEY": "production-settings-test",
        "ALLOWED_HOSTS": "testserver",
        # A database that cannot be opened: /readyz answers 503 and logs why.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"REQUEST_ID = {request_id!r}\n{PRODUCTION_REQUEST}"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    answer = json.loads(result.stdout)
    assert answer["status"] == 503
    headers = answer["headers"]
    assert _directives(headers["Content-Security-Policy"])["script-src"] == "'self'"
    assert headers["X-Request-ID"] == request_id
    log_lines = [json.loads(line) for line in result.stderr.splitlines()]  # every line is JSON
    failure = next(line for line in log_lines if line["message"] == "Readiness check database failed")
    assert failure["level"] == "WARNING" and failure["logger"] == "crm.health"
    assert failure["request_id"] == request_id and "time" in failure
    assert "unable to open database file" in failure["exc_info"]
