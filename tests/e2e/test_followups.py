from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from followups.models import Communication, FollowUp
from tests.factories import PASSWORD, CustomerFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_log_a_call_find_its_followup_in_the_week_complete_it_from_my_day(
    page, live_server, login, screenshot
):
    sales1 = UserFactory(
        username="sales1", first_name="Lei", last_name="Zhang", groups=[Group.objects.get(name="Sales")]
    )
    customer = CustomerFactory(owner=sales1, name="华东精密仪器有限公司")
    login("sales1", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    tomorrow = timezone.localdate() + timedelta(days=1)

    # Log a phone call on the customer, with a follow-up due tomorrow.
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    form = page.get_by_test_id("communication-form")
    expect(form.get_by_label("Channel")).to_have_value("phone")
    form.get_by_label("Subject").fill("Price discussion")
    form.get_by_label("Content").fill("They need 200 sensors by March.")
    form.get_by_label("Schedule a follow-up").check()
    form.get_by_label("Follow-up", exact=True).fill("Send the quote")
    form.get_by_label("Due").fill(f"{tomorrow:%Y-%m-%d}T10:30")
    screenshot("followups-log-call")
    form.get_by_role("button", name="Log communication").click()

    timeline = page.locator("#timeline-entries")
    expect(page.get_by_test_id("quick-add")).to_contain_text("Communication logged.")
    expect(timeline).to_contain_text("Price discussion")
    expect(timeline).to_contain_text("Follow-up scheduled: Send the quote")
    expect(form.get_by_label("Subject")).to_have_value("")
    communication = Communication.objects.get()
    followup = FollowUp.objects.get()
    assert communication.channel == "phone" and followup.communication == communication
    assert timezone.localtime(followup.due_at).date() == tomorrow

    # Find it in the week view, on tomorrow's day.
    page.get_by_role("link", name="Follow-ups", exact=True).first.click()
    page.get_by_role("link", name="Week").click()
    if tomorrow.weekday() == 0:
        page.get_by_test_id("next-week").click()
    day = page.locator(f'[data-date="{tomorrow:%Y-%m-%d}"]')
    expect(day).to_contain_text("10:30")
    expect(day).to_contain_text("Send the quote")
    screenshot("followups-week")

    # Complete it from My day with a result.
    page.get_by_role("link", name="My day").click()
    row = page.get_by_test_id("my-day-row").filter(has_text="Send the quote")
    expect(page.get_by_test_id("upcoming-list")).to_contain_text("Send the quote")
    row.get_by_role("button", name="Done").click()
    expect(row.get_by_text("Write down the result.")).to_be_visible()
    row.get_by_label("Result").fill("Quote sent with a 5% volume discount")
    row.get_by_role("button", name="Done").click()
    expect(row).to_contain_text("Done: Quote sent with a 5% volume discount")
    screenshot("followups-my-day-done")
    followup.refresh_from_db()
    assert followup.status == "done" and followup.completed_by == sales1

    # Both are on the customer's timeline, newest first.
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    entries = page.locator("#timeline-entries .timeline-entry")
    expect(entries.nth(0)).to_contain_text("Follow-up done: Send the quote")
    expect(entries.nth(0)).to_contain_text("Quote sent with a 5% volume discount")
    expect(timeline).to_contain_text("Price discussion")
    expect(timeline).to_contain_text("They need 200 sensors by March.")
    screenshot("followups-timeline")

    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("followups-timeline-phone")
    page.goto(f"{live_server.url}/followups/today/")
    screenshot("followups-my-day-phone")


def test_postpone_from_my_day_and_load_more_on_the_timeline(page, live_server, login, screenshot):
    sales1 = UserFactory(username="sales1", groups=[Group.objects.get(name="Sales")])
    customer = CustomerFactory(owner=sales1, name="Acme Trading")
    customer.history.update(history_date=timezone.now() - timedelta(days=90))
    for index in range(25):
        Communication.objects.create(
            customer=customer,
            staff=sales1,
            subject=f"Call {index:02d}",
            content="Talked.",
            occurred_at=timezone.now() - timedelta(days=index + 1),
        )
    overdue = FollowUp.objects.create(
        customer=customer,
        assignee=sales1,
        subject="Chase the contract",
        due_at=timezone.now() - timedelta(days=1),
    )
    login("sales1", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()

    page.goto(f"{live_server.url}/followups/today/")
    expect(page.get_by_test_id("overdue-count")).to_have_text("1")
    row = page.get_by_test_id("my-day-row").filter(has_text="Chase the contract")
    row.get_by_role("button", name="Postpone").click()
    expect(row.get_by_test_id("postpone-form")).to_be_visible()  # loaded when the menu opened
    screenshot("followups-postpone-menu")
    row.get_by_role("button", name="Tomorrow").click()
    expect(row).to_contain_text("Moved to")
    expect(page.get_by_test_id("overdue-count")).to_have_text("0")
    overdue.refresh_from_db()
    assert timezone.localtime(overdue.due_at).date() == timezone.localdate() + timedelta(days=1)

    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    entries = page.locator("#timeline-entries .timeline-entry")
    expect(entries).to_have_count(20)
    page.get_by_test_id("timeline-more").click()
    expect(entries).to_have_count(27)  # 25 calls, the follow-up scheduled, the customer created
    expect(entries.last).to_contain_text("Customer created")
    expect(page.get_by_test_id("timeline-more")).to_have_count(0)
