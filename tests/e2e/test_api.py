"""The API's pages in the browser: a user makes a token, uses it, revokes it; the docs work under the CSP."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(page, login):
    UserFactory(username="sales1", groups=[Group.objects.get(name="Sales")])
    login("sales1", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()


def test_a_token_made_on_the_page_works_until_revoked(page, live_server, signed_in, screenshot):
    page.get_by_test_id("user-menu").click()
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    page.get_by_label("Valid for").select_option("30")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_test_id("new-token").locator("code").inner_text().strip()
    screenshot("api_tokens")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/customers/").status_code == 200

    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The token was revoked")).to_be_visible()
    expect(page.get_by_text("You have no tokens.")).to_be_visible()
    assert client.get("/api/v1/customers/").status_code == 401


def test_the_docs_render_from_static_files_under_the_policy(page, live_server, signed_in, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_text("/api/v1/orders/{id}/confirm/").first).to_be_visible(timeout=15000)
    screenshot("api_docs_mobile")
