"""A customer's first order, through the API only: create, confirm, process, pay, finish, credit the
installation back with a refund, read it back with its events."""

import pytest

pytestmark = pytest.mark.django_db


def test_an_order_from_customer_to_finished_with_its_events(api, manager_api):
    product = manager_api.post(
        "/api/v1/products/", {"sku": "sen-9", "name": "Sensor", "unit_price": "120.00"}, format="json"
    )
    assert product.status_code == 201, product.json()
    assert product.json()["sku"] == "SEN-9"

    customer = api.post(
        "/api/v1/customers/",
        {
            "name": "Walkthrough Ltd",
            "industry": "retail",
            "contact_methods": [{"type": "email", "value": "Buyer@Example.com"}],
        },
        format="json",
    )
    assert customer.status_code == 201, customer.json()
    assert customer.json()["contact_methods"][0]["value"] == "buyer@example.com"

    order = api.post(
        "/api/v1/orders/",
        {
            "customer": customer.json()["id"],
            "tax_rate": "13",
            "lines": [
                {"product": product.json()["id"], "quantity": 2},
                {"description": "Installation", "quantity": 1, "unit_price": "60.00"},
            ],
        },
        format="json",
    )
    assert order.status_code == 201, order.json()
    body = order.json()
    assert (body["subtotal"], body["tax"], body["total"], body["status"]) == (
        "300.00",
        "39.00",
        "339.00",
        "created",
    )
    url = f"/api/v1/orders/{body['id']}/"

    assert api.post(url + "confirm/", {}, format="json").json()["status"] == "confirmed"
    processing = api.post(url + "process/", {"carrier": "SF", "tracking_number": "SF1"}, format="json")
    assert processing.json()["status"] == "processing"
    payment = api.post(url + "payments/", {"amount": "339.00", "method": "alipay"}, format="json")
    assert payment.status_code == 201, payment.json()
    finished = api.post(url + "finish/", {}, format="json")
    assert finished.status_code == 200, finished.json()
    assert finished.json()["invoice_number"].startswith("INV-")

    installation = body["lines"][1]
    credit = api.post(
        url + "credit-notes/",
        {
            "reason": "Installation not needed",
            "returns": [{"line": installation["id"], "quantity": 1}],
            "refund": "67.80",
            "refund_method": "alipay",
        },
        format="json",
    )
    assert credit.status_code == 201, credit.json()
    assert credit.json()["amount"] == "67.80"  # 60.00 and its 13% tax

    read = api.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert (read.json()["status"], read.json()["status_label"]) == ("finished", "Finished")
    assert (read.json()["credited"], read.json()["paid_amount"], read.json()["balance"]) == (
        "67.80",
        "271.20",
        "0.00",
    )
    assert [note["number"] for note in read.json()["credit_notes"]] == [credit.json()["number"]]
    assert read["ETag"]
    payments = api.get(url + "payments/").json()
    assert [p["amount"] for p in payments] == ["339.00", "-67.80"]
    events = api.get(url + "events/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [event["type"] for event in events] == [
        "refund_recorded",
        "credit_note_issued",
        "finished",
        "payment_recorded",
        "processing_started",
        "confirmed",
        "created",
    ]
    assert events[3]["summary"] == "Payment of 339.00 CNY recorded (Alipay)"
    chinese = api.get(url + "events/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert chinese[3]["summary"] == "已登记收款 339.00 CNY（支付宝）"
