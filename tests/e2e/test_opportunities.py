from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from opportunities import services
from opportunities.models import Stage
from orders.models import Order
from tests.factories import PASSWORD, CustomerFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "华东精密 200 台传感器"


@pytest.fixture
def opportunity(default_stages):
    sales1 = UserFactory(username="sales1", groups=[Group.objects.get(name="Sales")])
    customer = CustomerFactory(owner=sales1, name="华东精密仪器有限公司")
    sensor = ProductFactory(sku="SEN-100", name="工业温度传感器", unit_price=Decimal("480.00"))
    return services.create_opportunity(
        actor=sales1,
        customer=customer,
        stage=Stage.objects.get(code="evaluate"),
        title=TITLE,
        expected_close_date=date.today() + timedelta(days=20),
        lines=[{"product": sensor, "quantity": 200}],
        score_segmentation=80,
        score_relationship=60,
    )


def drag(page, source, target):
    """Drags like a hand does: press on the card (not on its link or button), move in small steps,
    release (SortableJS follows the pointer's moves)."""
    start, end = source.bounding_box(), target.bounding_box()
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 10, y + 10, steps=5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 30, steps=20)
    page.mouse.up()


def column(page, code):
    return page.get_by_test_id(f"column-{code}")


def test_drag_a_card_from_evaluate_to_decision_win_it_and_land_on_its_order(
    page, live_server, login, screenshot, opportunity
):
    page.set_viewport_size({"width": 1920, "height": 1080})  # a desktop monitor shows every stage
    login("sales1", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    page.goto(f"{live_server.url}/opportunities/board/")
    card = page.get_by_test_id(f"card-{opportunity.pk}")
    expect(column(page, "evaluate").get_by_test_id(f"card-{opportunity.pk}")).to_be_visible()
    expect(column(page, "decision").get_by_test_id("count")).to_have_text("0")
    screenshot("opportunity-board")

    drag(page, card, column(page, "decision").locator("[data-stage-list]"))
    expect(column(page, "decision").get_by_test_id("count")).to_have_text("1")
    expect(column(page, "evaluate").get_by_test_id("count")).to_have_text("0")
    expect(column(page, "decision").get_by_test_id(f"card-{opportunity.pk}")).to_be_visible()
    event = opportunity.events.first()
    assert (event.from_stage.code, event.to_stage.code, event.actor.username) == (
        "evaluate",
        "decision",
        "sales1",
    )

    card = page.get_by_test_id(f"card-{opportunity.pk}")
    drag(page, card, column(page, "won").locator("[data-stage-list]"))
    dialog = page.locator("#board-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("工业温度传感器")
    expect(dialog).to_contain_text("96,000.00")
    expect(dialog).to_have_css("opacity", "1")  # faded in (a string predicate would need eval: CSP)
    screenshot("opportunity-win-dialog")
    dialog.get_by_role("button", name="Win and create the order").click()

    expect(page.get_by_role("alert").filter(has_text="Won!")).to_be_visible()
    order = Order.objects.get()
    assert order.source_opportunity == opportunity
    # 96,000.00 of lines and the default 13% tax (DEFAULT_TAX_RATE) of an order won from a deal.
    assert (order.customer_id, order.total) == (opportunity.customer_id, Decimal("108480.00"))
    expect(page).to_have_url(f"{live_server.url}{order.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(order.number)
    expect(page.get_by_test_id("source-opportunity")).to_have_text(opportunity.title)
    screenshot("opportunity-won")


def test_move_a_card_with_the_keyboard(page, live_server, login, screenshot, opportunity):
    login("sales1", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    page.goto(f"{live_server.url}/opportunities/board/")
    page.get_by_role("button", name=f"Move “{TITLE}” to another stage").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#board-dialog")
    expect(dialog.get_by_label("Stage")).to_be_focused()
    page.keyboard.press("ArrowDown")  # evaluate → demo scheduled
    page.keyboard.press("Tab")
    page.keyboard.type("Demo booked for Friday")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(column(page, "demo_scheduled").get_by_test_id(f"card-{opportunity.pk}")).to_be_visible()
    event = opportunity.events.first()
    assert (event.to_stage.code, event.note) == ("demo_scheduled", "Demo booked for Friday")


def test_the_pages_at_phone_width(page, live_server, login, screenshot, opportunity):
    login("sales1", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    page.set_viewport_size({"width": 390, "height": 844})
    for name, path in [
        ("board", "/opportunities/board/"),
        ("list", "/opportunities/"),
        ("detail", opportunity.get_absolute_url()),
        ("form", f"/opportunities/{opportunity.pk}/edit/"),
    ]:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("main")).to_contain_text(TITLE if name != "form" else "Products of interest")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name} scrolls sideways ({width}px)"
        screenshot(f"opportunity-{name}-phone")
