from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from orders.models import Order, Product
from tests.factories import PASSWORD, CustomerFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_order_from_creation_to_invoice(page, live_server, login, screenshot):
    sales1 = UserFactory(username="sales1", groups=[Group.objects.get(name="Sales")])
    CustomerFactory(owner=sales1, name="华东精密仪器有限公司", address="上海市浦东新区张江路 88 号")
    Product.objects.create(
        sku="SEN-T100", name="工业温度传感器 T100", series="Sensors", unit_price=Decimal("1280.00")
    )
    login("sales1", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()

    page.goto(f"{live_server.url}/orders/new/")
    page.get_by_role("searchbox", name="Customer").fill("华东")
    page.get_by_role("option", name="华东精密仪器有限公司").click()
    first, second = page.get_by_test_id("line-row-0"), page.get_by_test_id("line-row-1")
    first.get_by_label("Product").select_option(label="SEN-T100 · 工业温度传感器 T100")
    first.get_by_label("Quantity").fill("2")
    second.get_by_label("Description").fill("On-site commissioning")
    second.get_by_label("Quantity").fill("1")
    second.get_by_label("Unit price").fill("2800")
    page.get_by_label("Tax rate (%)").fill("13")
    screenshot("order-create")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("SO-")
    expect(page.get_by_test_id("order-total")).to_have_text("6,056.80 CNY")  # (2 × 1280 + 2800) × 1.13
    order = Order.objects.get()
    assert order.lines.count() == 2

    page.get_by_test_id("action-confirm").get_by_role("button", name="Confirm").click()
    expect(page.locator("h1 .order-status")).to_have_text("Confirmed")

    processing = page.get_by_test_id("action-start_processing")
    processing.get_by_label("Carrier").fill("顺丰速运")
    processing.get_by_label("Tracking number").fill("SF1234567890")
    processing.get_by_role("button", name="Start processing").click()
    expect(page.locator("h1 .order-status")).to_have_text("Processing")
    expect(page.get_by_test_id("tracking-number")).to_have_text("SF1234567890")
    expect(page.get_by_test_id("blocked-finish")).to_contain_text("record the payments first")

    payment = page.get_by_test_id("payment-form")
    payment.get_by_label("Amount").fill("6056.80")
    payment.get_by_label("Method").select_option("bank_transfer")
    payment.get_by_label("Reference").fill("BOC-20261123-01")
    payment.get_by_role("button", name="Record").click()
    expect(page.get_by_test_id("order-balance")).to_have_text("0.00")
    screenshot("order-processing-paid")

    page.get_by_test_id("action-finish").get_by_role("button", name="Finish").click()
    expect(page.locator("h1 .order-status")).to_have_text("Finished")
    invoice_number = page.get_by_test_id("invoice-number").inner_text()
    assert invoice_number.startswith("INV-")
    expect(page.locator("#order-events")).to_contain_text(f"Order finished, invoice {invoice_number}")
    screenshot("order-finished")

    page.get_by_role("link", name="Settlement statement").click()
    expect(page.get_by_test_id("statement-number")).to_have_text(invoice_number)
    expect(page.get_by_test_id("statement-balance")).to_have_text("0.00 CNY")
    screenshot("order-invoice")
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    screenshot("order-invoice-print")

    order.refresh_from_db()
    assert (order.status, order.invoice_number, order.balance) == (
        "finished",
        invoice_number,
        Decimal("0.00"),
    )
    assert list(order.events.order_by("at", "id").values_list("type", flat=True)) == [
        "created",
        "confirmed",
        "processing_started",
        "payment_recorded",
        "finished",
    ]


def test_closing_asks_for_a_reason_and_a_confirmation_on_a_phone(page, live_server, login, screenshot):
    sales1 = UserFactory(username="sales1", groups=[Group.objects.get(name="Sales")])
    customer = CustomerFactory(owner=sales1, name="Beta Trading")
    from orders import services

    order = services.create_order(
        actor=sales1,
        customer=customer,
        lines=[{"description": "Cable", "quantity": 3, "unit_price": Decimal("18.00")}],
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    login("sales1", PASSWORD)
    page.goto(f"{live_server.url}{order.get_absolute_url()}")
    screenshot("order-detail-phone")
    close = page.get_by_test_id("action-close")
    close.get_by_label("Reason").fill("Customer cancelled by phone")
    page.once("dialog", lambda dialog: dialog.accept())
    close.get_by_role("button", name="Close").click()
    expect(page.locator("h1 .order-status")).to_have_text("Closed")
    expect(page.locator(".order-facts")).to_contain_text("Customer cancelled by phone")
    assert Order.objects.get().status == "closed"
