import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from automation import tasks
from tests.automation.conftest import run_worker
from tests.factories import PASSWORD, ContactMethodFactory, CustomerFactory, UserFactory
from tests.orders.builders import make_order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_rule_emails_the_customer_when_an_order_is_confirmed(
    page, live_server, login, screenshot, mail_server, settings
):
    settings.LANGUAGE_CODE = (
        "en"  # what the system writes (the communication's outcome) is in the site's language
    )
    manager = UserFactory(username="manager", is_staff=True, groups=[Group.objects.get(name="Managers")])
    customer = CustomerFactory(owner=manager, name="华东精密仪器有限公司")
    ContactMethodFactory(customer=customer, type="email", value="buyer@example.com")
    order = make_order(manager, customer)
    login("manager", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()

    page.get_by_role("link", name="Automation").click()
    page.get_by_role("link", name="New rule").click()
    form = page.get_by_test_id("rule-form")
    form.locator("#id_name").fill("Order confirmed → e-mail the customer")
    form.locator("#id_trigger").select_option("order_transition")
    form.locator("#id_status").select_option("confirmed")
    form.locator("#id_action").select_option("email")
    form.locator("#id_language").select_option("en")
    form.locator("#id_subject_en").fill("Order {order_number} is confirmed")
    form.locator("#id_body_en").fill("Dear {customer}, we have confirmed order {order_number}.")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("would-match")).to_have_text("Would act on 0 records now.")
    screenshot("automation-rule")

    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.get_by_test_id("action-confirm").get_by_role("button", name="Confirm").click()
    expect(page.locator("h1 .order-status")).to_have_text("Confirmed")
    # The parts the page loads after confirming finish before the worker runs here: on SQLite the live
    # server's thread and this one share a database whose locks are per table, and do not wait.
    page.wait_for_load_state("networkidle")

    tasks.run_rules.enqueue()  # what the scheduler enqueues every few minutes
    run_worker()
    assert mail_server.recipients == ["buyer@example.com"]

    page.goto(f"{live_server.url}/automation/outbox/")
    row = page.get_by_role("row").filter(has_text=f"Order {order.number} is confirmed")
    expect(row.get_by_test_id("status")).to_have_text("Sent")
    screenshot("automation-outbox")

    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    timeline = page.locator("#timeline")
    expect(timeline.get_by_text(f"Order {order.number} is confirmed")).to_be_visible()
    rule_name = "Order confirmed → e-mail the customer"
    expect(timeline.get_by_text(f"By automation rule {rule_name}", exact=True)).to_be_visible()
    expect(timeline.get_by_text(f"Outcome: Sent by automation rule {rule_name}")).to_be_visible()
    screenshot("automation-customer-timeline")
