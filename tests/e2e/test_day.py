"""A salesperson's day in the browser, at a laptop's 1366×900 and a phone's 390×844 (issue 18)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from opportunities import services
from opportunities.models import Stage
from orders import services as order_services
from orders.models import Order
from tests.factories import PASSWORD, CustomerFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "华东精密 200 台传感器 年度框架协议 第二期 含安装调试与培训"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def sales1(db):
    return UserFactory(username="sales1", groups=[Group.objects.get(name="Sales")])


@pytest.fixture
def opportunity(default_stages, sales1):
    customer = CustomerFactory(owner=sales1, name="华东精密仪器有限公司")
    sensor = ProductFactory(sku="SEN-100", name="工业温度传感器", unit_price=Decimal("480.00"))
    return services.create_opportunity(
        actor=sales1,
        customer=customer,
        stage=Stage.objects.get(code="decision"),
        title=TITLE,
        expected_close_date=date.today() - timedelta(days=3),
        lines=[{"product": sensor, "quantity": 200}],
    )


def in_english(page, login):
    login("sales1", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()


def drag(page, handle, target):
    """Presses on `handle`, moves in small steps to the middle of `target`, releases."""
    start, end = handle.bounding_box(), target.bounding_box()
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 10, y + 10, steps=5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 30, steps=20)
    page.mouse.up()


def test_at_1366_every_stage_is_in_view_and_a_card_drags_to_won_by_its_title(
    page, live_server, login, screenshot, opportunity
):
    in_english(page, login)
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/opportunities/board/")
    for stage in Stage.objects.all():
        box = page.get_by_test_id(f"column-{stage.code}").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"], f"{stage.code} is out of view"
    card = page.get_by_test_id(f"card-{opportunity.pk}")
    expect(card.get_by_test_id("overdue")).to_contain_text("Overdue")
    title = card.get_by_role("link", name=TITLE)
    title.hover()  # the full title shows on hover: the link is taller than one line
    assert title.bounding_box()["height"] > 30
    screenshot("day-board-1366")

    drag(page, title, page.get_by_test_id("column-won").locator("[data-stage-list]"))
    dialog = page.locator("#board-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("dialog")).to_have_count(0)  # the dialog itself is the role=dialog
    expect(page.get_by_role("dialog", name=f"Win “{TITLE}”")).to_be_visible()
    dialog.get_by_role("button", name="Win and create the order").click()
    expect(page.get_by_role("alert").filter(has_text="Won!")).to_be_visible()
    order = Order.objects.get()
    assert order.source_opportunity == opportunity
    expect(page).to_have_url(f"{live_server.url}{order.get_absolute_url()}")


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_a_keyboard_move_keeps_the_focus_on_the_moved_card(
    page, live_server, login, screenshot, opportunity, viewport
):
    in_english(page, login)
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/opportunities/board/")
    move = page.get_by_role("button", name=f"Move “{TITLE}” to another stage")
    move.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=f"Move “{TITLE}”")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Stage")).to_be_focused()
    page.keyboard.press("ArrowUp")  # decision → demo scheduled
    page.keyboard.press("Tab")
    page.keyboard.type("Demo on Friday")
    page.keyboard.press("Enter")
    expect(page.locator("#board-dialog")).to_be_hidden()
    moved = page.get_by_test_id("column-demo_scheduled").get_by_test_id(f"card-{opportunity.pk}")
    expect(moved).to_be_visible()
    expect(moved.locator(".board-move")).to_be_focused()
    expect(page.locator("#board-status")).to_have_text(f"“{TITLE}” is now in Demo scheduled.")
    screenshot(f"day-board-keyboard-{viewport['width']}")


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_add_a_contact_person_pick_it_and_log_a_call_later_on_top_of_the_timeline(
    page, live_server, login, screenshot, sales1, viewport
):
    customer = CustomerFactory(owner=sales1, name="华东精密仪器有限公司")
    in_english(page, login)
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    loaded = timezone.now()
    # a few minutes after the page was loaded (the server's clock moved on), something else happens
    # first: a contact person is added in place
    with time_machine.travel(loaded + timedelta(minutes=4), tick=True):
        _add_a_person_and_log_a_call(page, screenshot, customer, loaded, viewport)


def _add_a_person_and_log_a_call(page, screenshot, customer, loaded, viewport):
    people = page.locator("#contact-persons")
    people.get_by_text("Add a contact person").click()
    people.get_by_label("Name").fill("王芳")
    people.get_by_role("button", name="Add").click()
    expect(people).to_contain_text("王芳")

    page.get_by_test_id("customer-actions").get_by_role("link", name="Log a call").click()
    form = page.get_by_test_id("communication-form")
    expect(form.get_by_label("Subject")).to_be_focused()
    expect(form.get_by_label("Channel")).to_have_value("phone")
    form.get_by_label("Contact person").select_option(label="王芳")  # offered without a reload
    form.get_by_label("Subject").fill("Called about the second phase")
    form.get_by_label("Content").fill("They want 200 more sensors.")
    form.get_by_role("button", name="Log communication").click()
    first = page.locator("#timeline-entries > li").first
    expect(first).to_contain_text("Called about the second phase")
    expect(first).to_contain_text("王芳")
    screenshot(f"day-customer-logged-{viewport['width']}")
    communication = customer.communications.get()
    assert communication.contact_person is not None and communication.contact_person.name == "王芳"
    assert communication.channel == "phone"
    # "When" was the time of submission, not of the page's loading
    assert communication.occurred_at >= loaded + timedelta(minutes=4)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_merge_a_duplicate_found_by_searching(page, live_server, login, screenshot, sales1, viewport):
    survivor = CustomerFactory(owner=sales1, name="华东精密仪器有限公司")
    duplicate = CustomerFactory(owner=sales1, name="华东精密仪器")
    in_english(page, login)
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}{survivor.get_absolute_url()}")
    page.get_by_label("Find the duplicate").fill("精密仪器")
    found = page.get_by_test_id("merge-candidates")
    expect(found).to_contain_text(f"#{duplicate.pk}")
    expect(found).not_to_contain_text(f"#{survivor.pk}")
    found.get_by_role("link", name=f"Review merging “{duplicate.name}” into this customer").click()
    expect(page.get_by_test_id("merge-preview")).to_be_visible()
    screenshot(f"day-merge-preview-{viewport['width']}")
    page.get_by_role("button", name="Merge now").click()
    expect(page.get_by_role("alert").filter(has_text="was merged into this customer")).to_be_visible()
    assert not type(duplicate).objects.filter(pk=duplicate.pk).exists()


def _order_with_lines(owner, count):
    customer = CustomerFactory(owner=owner, name="华东精密仪器有限公司")
    lines = [
        {"description": f"工业温度传感器 第 {n} 批", "quantity": n, "unit_price": Decimal("480.00")}
        for n in range(1, count + 1)
    ]
    return order_services.create_order(actor=owner, customer=customer, lines=lines)


def _top(locator):
    return locator.bounding_box()["y"]


def test_an_order_on_a_phone_opens_with_its_summary_and_next_step_then_lines_before_forms(
    page, live_server, login, screenshot, sales1
):
    order = _order_with_lines(sales1, 6)
    in_english(page, login)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{order.get_absolute_url()}")
    summary = page.get_by_test_id("order-summary")
    expect(summary).to_contain_text("Total")
    expect(summary).to_contain_text(f"{order.total:,.2f} {order.currency}")
    expect(summary).to_contain_text("Balance")
    expect(page.locator("h1")).to_contain_text(order.number)
    expect(page.locator("h1 .order-status")).to_have_text("Created")
    primary = summary.get_by_role("button", name="Confirm")
    box = primary.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box  # in the first screen
    # the lines and the total come before the action forms
    lines, actions = page.locator("#order-lines"), page.locator("#order-actions")
    assert _top(lines) < _top(actions) < _top(page.locator("#order-payments"))
    assert _top(page.get_by_test_id("order-total")) < _top(actions)
    screenshot("day-order-created-390")

    primary.click()
    expect(page.locator("h1 .order-status")).to_have_text("Confirmed")
    order.refresh_from_db()
    assert order.status == "confirmed"
    # confirmed, the next step is to start processing; processing, it is the payment still owed
    expect(summary.get_by_role("button", name="Start processing")).to_be_visible()
    summary.get_by_role("button", name="Start processing").click()
    expect(page.locator("h1 .order-status")).to_have_text("Processing")
    record = summary.get_by_role("link", name="Record payment")
    box = record.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], box
    record.click()
    amount = page.get_by_test_id("payment-form").get_by_label("Amount")
    expect(amount).to_be_focused()
    expect(amount).to_be_in_viewport()
    screenshot("day-order-processing-390")


def test_at_1366_the_order_page_keeps_its_two_columns_and_the_list_shows_when_each_was_created(
    page, live_server, login, sales1
):
    order = _order_with_lines(sales1, 2)
    in_english(page, login)
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}{order.get_absolute_url()}")
    # the lines card says it all beside the actions
    expect(page.get_by_test_id("order-summary")).to_be_hidden()
    actions = page.get_by_test_id("action-confirm").get_by_role("button", name="Confirm")
    assert actions.bounding_box()["y"] + actions.bounding_box()["height"] <= LAPTOP["height"]
    page.goto(f"{live_server.url}/orders/")
    created = page.get_by_role("columnheader", name="Created")
    expect(created).to_be_visible()
    box = created.bounding_box()
    assert box["x"] + box["width"] <= LAPTOP["width"]
    created_on = timezone.localdate(order.created_at).isoformat()
    expect(page.locator("table tbody tr").first).to_contain_text(created_on)


def test_at_390_a_card_is_won_through_its_move_dialog(page, live_server, login, screenshot, opportunity):
    """On a phone the board scrolls sideways and a finger scrolls rather than drags: the card's
    Move… button is the way to Won there (the drag is tested at 1366)."""
    in_english(page, login)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/opportunities/board/")
    move = page.get_by_role("button", name=f"Move “{TITLE}” to another stage")
    box = move.bounding_box()
    assert box["height"] >= 44 or box["width"] >= 44, box
    move.click()
    page.get_by_role("dialog", name=f"Move “{TITLE}”").get_by_label("Stage").select_option(label="Won")
    page.get_by_test_id("move-dialog").get_by_role("button", name="Move").click()
    win = page.get_by_role("dialog", name=f"Win “{TITLE}”")
    expect(win).to_be_visible()
    screenshot("day-board-win-390")
    win.get_by_role("button", name="Win and create the order").click()
    expect(page.get_by_role("alert").filter(has_text="Won!")).to_be_visible()
    order = Order.objects.get()
    assert order.source_opportunity == opportunity
    expect(page).to_have_url(f"{live_server.url}{order.get_absolute_url()}")


def test_at_390_the_customer_list_shows_the_columns_that_matter_and_the_rest_on_request(
    page, live_server, login, screenshot, sales1
):
    CustomerFactory(owner=sales1, name="华东精密仪器有限公司")
    in_english(page, login)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/customers/")
    table = page.locator("#customer-table")
    for shown in ("Name", "Stage", "Last activity"):
        expect(table.get_by_role("columnheader", name=shown)).to_be_visible()
    for behind in ("Phone", "Email", "Open needs", "Created"):
        expect(table.get_by_role("columnheader", name=behind)).to_be_hidden()
    scroller = page.locator("#customer-table").locator(
        "xpath=ancestor::div[contains(@class, 'table-responsive')]"
    )
    assert scroller.evaluate("(box) => box.scrollWidth <= box.clientWidth")  # no sideways scrolling
    screenshot("day-customer-list-390")

    toggle = page.get_by_role("button", name="All columns")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    for behind in ("Phone", "Email", "Open needs", "Created"):
        expect(table.get_by_role("columnheader", name=behind)).to_be_visible()
    toggle.click()
    expect(table.get_by_role("columnheader", name="Email")).to_be_hidden()

    page.set_viewport_size(LAPTOP)  # a laptop shows every column without asking
    expect(toggle).to_be_hidden()
    for header in ("Name", "Stage", "Phone", "Email", "Tags", "Open needs", "Created", "Last activity"):
        expect(table.get_by_role("columnheader", name=header)).to_be_visible()
