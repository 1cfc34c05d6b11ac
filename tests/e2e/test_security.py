"""The Content-Security-Policy in the browser: the guard every browser test runs under catches a
violation; what used to be inline script works from the static files; the admin works under the
policy; a failed htmx request says so."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import PASSWORD, CustomerFactory, FollowUpFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def manager_signed_in(page, login):
    """A manager with staff rights, signed in, reading English."""
    UserFactory(username="boss", is_staff=True, groups=[Group.objects.get(name="Managers")])
    login("boss", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()


def test_the_guard_catches_a_violation(page, live_server, manager_signed_in, csp_violations):
    response = page.goto(f"{live_server.url}/customers/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert not csp_violations

    page.evaluate("() => document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    for _ in range(20):
        if csp_violations:
            break
        page.wait_for_timeout(100)
    assert any("style-src" in violation for violation in csp_violations), csp_violations
    csp_violations.clear()  # provoked on purpose: the test passes


def test_behaviour_that_was_inline_works_from_static_files(page, live_server, manager_signed_in):
    owner = UserFactory(username="sales1", groups=[Group.objects.get(name="Sales")])
    for name in ("Acme", "Globex"):
        CustomerFactory(owner=owner, name=name)
    FollowUpFactory(customer__owner=owner, assignee=owner, due_at=timezone.now() + timedelta(hours=2))

    page.goto(f"{live_server.url}/customers/")
    page.get_by_role("checkbox", name="Select all").check()
    for name in ("Acme", "Globex"):
        expect(page.get_by_role("checkbox", name=f"Select {name}")).to_be_checked()

    page.goto(f"{live_server.url}/followups/calendar/")
    page.get_by_label("Assignee").select_option("all")
    expect(page).to_have_url(f"{live_server.url}/followups/calendar/?week={_monday()}&assignee=all")

    page.goto(f"{live_server.url}/customers/new/")
    page.get_by_label("Name").fill("Acme")
    page.get_by_label("Name").press("Tab")
    expect(page.locator("#duplicates")).to_contain_text("Acme")  # the duplicates check ran over htmx
    expect(page.get_by_label("Birth date")).to_be_hidden()  # person-only fields follow the kind
    page.get_by_label("Kind").select_option("person")
    expect(page.get_by_label("Birth date")).to_be_visible()


def _monday():
    today = timezone.localdate()
    return (today - timedelta(days=today.weekday())).isoformat()


def test_a_failed_htmx_request_says_so(page, live_server, manager_signed_in, screenshot):
    page.goto(f"{live_server.url}/customers/new/")
    page.route("**/customers/duplicates/**", lambda route: route.fulfill(status=503, body="down"))
    page.get_by_label("Name").fill("Acme")
    page.get_by_label("Name").press("Tab")
    expect(page.get_by_role("alert")).to_contain_text("The CRM is briefly unavailable or cannot save")
    screenshot("htmx-request-unavailable")

    page.unroute("**/customers/duplicates/**")
    page.route("**/customers/duplicates/**", lambda route: route.abort())
    page.get_by_label("Name").fill("Globex")
    page.get_by_label("Name").press("Tab")
    expect(page.get_by_role("alert")).to_contain_text("The server could not be reached")


def test_the_admin_works_under_the_policy(page, live_server, manager_signed_in, screenshot):
    customer = CustomerFactory(name="Acme Trading")
    customer.notes = "Changed once, so that the history has two entries"
    customer.save()

    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_role("link", name="Orders").first).to_be_visible()
    page.goto(f"{live_server.url}/admin/customers/customer/?q=Acme")
    expect(page.locator("#result_list")).to_contain_text("Acme Trading")
    page.goto(f"{live_server.url}/admin/customers/customer/{customer.pk}/change/")
    expect(page.get_by_label("Name")).to_have_value("Acme Trading")
    page.get_by_role("link", name="History").click()
    expect(page.locator("#change-history")).to_be_visible()
    screenshot("admin-history")
    page.goto(f"{live_server.url}/admin/orders/order/")
    expect(page.locator("#changelist")).to_be_visible()
