from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from followups.models import Communication, FollowUp
from opportunities import services as opportunity_services
from tests.factories import PASSWORD, CustomerFactory, UserFactory
from tests.orders.builders import make_order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_from_an_order_log_a_call_with_its_followup_and_from_an_opportunity_schedule_one(
    page, live_server, login, screenshot, default_stages
):
    sales1 = UserFactory(
        username="sales1", first_name="Lei", last_name="Zhang", groups=[Group.objects.get(name="Sales")]
    )
    customer = CustomerFactory(owner=sales1, name="华东精密仪器有限公司")
    order = make_order(sales1, customer)
    opportunity = opportunity_services.create_opportunity(
        actor=sales1,
        customer=customer,
        title="Sensors for line 3",
        expected_close_date=timezone.localdate() + timedelta(days=30),
    )
    tomorrow = timezone.localdate() + timedelta(days=1)
    login("sales1", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()

    # The order's page: log a call about it, with the follow-up it calls for, and come back.
    page.goto(f"{live_server.url}{order.get_absolute_url()}")
    card = page.get_by_test_id("linked-followups")
    expect(card).to_contain_text("None yet.")
    card.get_by_test_id("linked-log").click()
    expect(page.get_by_label("Order")).to_have_value(str(order.pk))
    page.get_by_label("Subject").fill("Delivery date")
    page.get_by_label("Content").fill("They need the sensors a week earlier.")
    page.get_by_label("Schedule a follow-up").check()
    page.get_by_label("Follow-up", exact=True).fill("Confirm the new delivery date")
    page.get_by_label("Due").fill(f"{tomorrow:%Y-%m-%d}T10:30")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("links-log-about-an-order-phone")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(f"{live_server.url}{order.get_absolute_url()}")
    expect(page.get_by_role("alert").or_(page.locator(".alert-success")).first).to_contain_text(
        "Communication logged."
    )
    expect(card.get_by_test_id("linked-communications")).to_contain_text("Delivery date")
    expect(card.get_by_test_id("linked-followups-list")).to_contain_text("Confirm the new delivery date")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot("links-order-page")
    communication, followup = Communication.objects.get(), FollowUp.objects.get()
    assert communication.order == order and followup.order == order

    # The opportunity's page: schedule a follow-up about it.
    page.goto(f"{live_server.url}{opportunity.get_absolute_url()}")
    card.get_by_test_id("linked-schedule").click()
    expect(page.get_by_label("Opportunity")).to_have_value(str(opportunity.pk))
    page.get_by_label("Subject").fill("Book the demo")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{live_server.url}{opportunity.get_absolute_url()}")
    expect(card.get_by_test_id("linked-followups-list")).to_contain_text("Book the demo")
    assert FollowUp.objects.get(subject="Book the demo").opportunity == opportunity

    # Both show on the customer's timeline, with what they are about.
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    timeline = page.locator("#timeline-entries")
    entry = timeline.locator('.timeline-entry[data-kind="communication"]')
    expect(entry.get_by_role("link", name=order.number)).to_be_visible()
    expect(timeline).to_contain_text("Opportunity created: Sensors for line 3")
    screenshot("links-customer-timeline")
