"""The reports in a browser: charts drawn from the page's data blocks beside their tables, the custom
period's days shown only when chosen, both languages, a phone's width and a desktop's."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from customers.segmentation import compute_rfm
from opportunities import services as deal_services
from opportunities.models import Stage
from orders.models import Order, Product
from tests.factories import PASSWORD, CustomerFactory, UserFactory
from tests.orders.builders import order_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
REPORTS = ["sales", "pipeline", "orders", "customers", "integration"]


@pytest.fixture
def history(default_stages):
    """A few months of finished orders and deals for the manager to read."""
    sales = Group.objects.get(name="Sales")
    sales1 = UserFactory(username="sales1", first_name="Lei", last_name="Zhang", groups=[sales])
    UserFactory(
        username="manager", first_name="Min", last_name="Wang", groups=[Group.objects.get(name="Managers")]
    )
    product = Product.objects.create(
        sku="SEN-T100", name="工业温度传感器 T100", unit_price=Decimal("1280.00")
    )
    now = timezone.now()
    for index in range(8):
        customer = CustomerFactory(owner=sales1, name=f"客户 {index}", region=["上海", "北京"][index % 2])
        order = order_in("finished", sales1, customer, lines=[{"product": product, "quantity": index + 1}])
        finished = now - timedelta(days=30 * index + 3)
        Order.objects.filter(pk=order.pk).update(
            created_at=finished - timedelta(days=9),
            confirmed_at=finished - timedelta(days=8),
            processing_at=finished - timedelta(days=5),
            finished_at=finished,
        )
        deal = deal_services.create_opportunity(
            actor=sales1,
            customer=customer,
            stage=Stage.objects.get(code="evaluate"),
            lines=[{"product": product, "quantity": 2}],
            title=f"Deal {index}",
            expected_close_date=(now + timedelta(days=20 * index)).date(),
        )
        if index % 3 == 0:
            deal_services.mark_won(actor=sales1, opportunity=deal)
    compute_rfm()


@pytest.mark.parametrize("language, button", [("en", "English"), ("zh-hans", "简体中文")])
def test_every_report_draws_its_charts_beside_its_tables(
    page, live_server, login, screenshot, history, language, button
):
    login("manager", PASSWORD)
    page.get_by_role("button", name=button).click()
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        for key in REPORTS:
            page.goto(f"{live_server.url}/reports/{key}/")
            first = page.locator("section[data-testid^=report-table-]").first
            expect(first.locator("table")).to_be_visible()
            charts = page.locator(".report-chart")
            expect(charts.first.locator("svg")).to_be_visible()
            assert charts.count() == page.locator("script[type='application/json'][id^=chart-]").count()
            screenshot(f"report-{key}-{language}-{width}")
        page.goto(f"{live_server.url}/")
        expect(page.get_by_test_id("kpi-revenue-value")).not_to_have_text("—")
        screenshot(f"dashboard-{language}-{width}")


def test_the_custom_period_and_a_download(page, live_server, login, history):
    login("manager", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    page.goto(f"{live_server.url}/reports/sales/")
    start = page.get_by_label("From", exact=True)
    expect(start).to_be_hidden()
    page.get_by_label("Period", exact=True).select_option("custom")
    expect(start).to_be_visible()
    today = timezone.localdate()
    start.fill((today - timedelta(days=95)).isoformat())
    page.get_by_label("Until", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("report-period")).to_contain_text((today - timedelta(days=95)).isoformat())
    months = page.get_by_test_id("report-table-by_month").locator("tbody tr")
    expect(months).to_have_count(4)
    with page.expect_download() as download:
        page.get_by_test_id("export-by_month-csv").click()
    content = download.value.path().read_text(encoding="utf-8-sig")
    assert content.splitlines()[0].startswith("Month,Revenue")
    assert len(content.splitlines()) == 5


def test_the_dashboards_figures_fit_a_phone_when_they_run_to_trillions(
    page, live_server, login, screenshot, history
):
    manager = Group.objects.get(name="Managers").user_set.get()  # who may confirm orders this large
    for index in range(2):
        customer = CustomerFactory(owner=manager, name=f"大客户 {index}")
        line = {"description": "Plant", "quantity": 900, "unit_price": Decimal("999999999.99")}
        order_in("finished", manager, customer, lines=[line])
    login("manager", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    for width in (360, 390, 768, 1366):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(f"{live_server.url}/")
        revenue = page.get_by_test_id("kpi-revenue-value")
        expect(revenue).to_have_text(re.compile(r"^1,8\d\d(,\d{3}){3}\.\d\d$"))  # 20 characters
        assert page.evaluate("document.documentElement.scrollWidth") == width
        overflowing = page.evaluate(
            "[...document.querySelectorAll('.kpi-value')]"
            ".filter(figure => figure.scrollWidth > figure.parentElement.clientWidth).length"
        )
        assert overflowing == 0, width
        assert float(revenue.evaluate("figure => getComputedStyle(figure).fontSize")[:-2]) >= 9
        screenshot(f"dashboard-trillions-{width}")
