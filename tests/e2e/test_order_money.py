"""Browser tests of issue 12: the approval flow across two people, and a credit note with its refund."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings
from playwright.sync_api import expect

from orders import services
from orders.models import Order
from tests.e2e.conftest import SCREENSHOTS
from tests.factories import PASSWORD, CustomerFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, url, username):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": url}])
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@override_settings(ORDER_APPROVAL_LIMIT=Decimal("100000"))
def test_a_salesperson_asks_a_manager_approves_and_the_salesperson_confirms(
    page, browser, live_server, screenshot
):
    sales1 = UserFactory(username="sales1", groups=[Group.objects.get(name="Sales")])
    UserFactory(
        username="boss", first_name="Wang", last_name="Li", groups=[Group.objects.get(name="Managers")]
    )
    customer = CustomerFactory(owner=sales1, name="华东精密仪器有限公司")
    order = services.create_order(
        actor=sales1,
        customer=customer,
        lines=[{"description": "Production line", "quantity": 1, "unit_price": Decimal("150000.00")}],
    )
    sign_in(page, live_server.url, "sales1")
    page.goto(f"{live_server.url}{order.get_absolute_url()}")
    expect(page.get_by_test_id("blocked-confirm")).to_contain_text("Above the approval limit of 100,000.00")
    form = page.get_by_test_id("approval-request-form")
    form.get_by_label("Note for the approver").fill("Strategic customer, first order")
    form.get_by_role("button", name="Request approval").click()
    expect(page.get_by_test_id("approval-status")).to_contain_text("waiting for a manager")
    screenshot("approval-requested")

    manager = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    sign_in(manager, live_server.url, "boss")
    expect(manager.get_by_test_id("approvals-waiting")).to_have_text("1")
    manager.get_by_test_id("nav-approvals").click()
    card = manager.get_by_test_id(f"approval-{order.number}")
    expect(card).to_contain_text("Strategic customer, first order")
    expect(card).to_contain_text("150,000.00")
    manager.screenshot(path=str(SCREENSHOTS / "approval-queue.png"), full_page=True)
    card.get_by_label("Note").fill("Approved, watch the payment terms")
    card.get_by_role("button", name="Approve").click()
    expect(manager.locator(".alert-success, .alert")).to_contain_text(f"Order {order.number} approved.")
    expect(manager.get_by_test_id("approvals-waiting")).to_have_count(0)
    manager.context.close()

    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("approval-answers")).to_contain_text(order.number)
    page.goto(f"{live_server.url}{order.get_absolute_url()}")
    expect(page.get_by_test_id("approval-status")).to_contain_text("Approved, watch the payment terms")
    page.get_by_test_id("action-confirm").get_by_role("button", name="Confirm").click()
    expect(page.locator("h1 .order-status")).to_have_text("Confirmed")
    screenshot("approval-confirmed")
    assert Order.objects.get().status == "confirmed"
