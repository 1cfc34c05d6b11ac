"""How the API refuses: field messages (400), permission (403), conflicts (409), If-Match (412)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from orders import services
from orders.models import Order, OrderEvent, Product
from tests.conftest import POSTGRESQL_ONLY
from tests.factories import CustomerFactory
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(sales1):
    return make_order(sales1, CustomerFactory(owner=sales1))


def test_a_services_refusal_is_400_with_the_field_messages(api, english, order):
    url = f"/api/v1/orders/{order.pk}/payments/"
    response = api.post(url, {"amount": "10.00", "method": "cash"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": ["An order that is “Created” takes no payments."]
    }
    lines = api.patch(
        f"/api/v1/orders/{order.pk}/",
        {"lines": [{"description": "x", "quantity": 1, "unit_price": "5.00", "discount": "9.00"}]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert lines.status_code == 400
    assert "lines-0" in lines.json()["errors"]
    assert order.payments.count() == 0 and order.lines.get().description == "Sensor"


def test_bad_shapes_are_400_at_the_field_never_500(api, sales1):
    customer = CustomerFactory(owner=sales1)
    bodies = [
        {"customer": "1; drop table", "lines": []},
        {"customer": 2**70, "lines": []},
        {"customer": customer.pk, "lines": [{"quantity": 2**40, "unit_price": "1"}]},
        {"customer": customer.pk, "lines": [{"quantity": 1, "unit_price": "1e30"}]},
        {"customer": customer.pk, "notes": "nul\x00byte"},
        {"customer": customer.pk, "lines": "not a list"},
    ]
    for body in bodies:
        response = api.post("/api/v1/orders/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert response.json()["errors"]
    assert not Order.objects.exists()
    assert api.post("/api/v1/orders/", "[", content_type="application/json").status_code == 400
    assert api.get("/api/v1/orders/?created_after=0001-01-01").status_code == 400
    assert api.get("/api/v1/orders/?total_min=1e400").status_code == 400
    assert api.get("/api/v1/customers/?search=" + "x" * 201).status_code == 400


def test_permission_is_403_with_the_services_message(api, english):
    response = api.post(
        "/api/v1/products/",
        {"sku": "X-1", "name": "X", "unit_price": "1.00"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Only managers may do this."}
    assert not Product.objects.exists()


def test_above_the_approval_limit_a_salesperson_cannot_confirm(api, settings, order):
    settings.ORDER_APPROVAL_LIMIT = Decimal("100")
    response = api.post(f"/api/v1/orders/{order.pk}/confirm/", {}, format="json")
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == "created"


def test_a_status_seen_out_of_date_is_409_with_the_current_status(api, sales1, order):
    services.confirm_order(actor=sales1, order=order)
    response = api.post(
        f"/api/v1/orders/{order.pk}/close/", {"reason": "x", "seen_status": "created"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["current"] == {"status": "confirmed"}
    assert Order.objects.get(pk=order.pk).status == "confirmed"


def test_if_match_guards_an_update(api, order):
    url = f"/api/v1/orders/{order.pk}/"
    etag = api.get(url)["ETag"]
    changed = api.patch(url, {"notes": "first"}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    stale = api.patch(url, {"notes": "second"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert Order.objects.get(pk=order.pk).notes == "first"
    assert api.patch(url, {"notes": "third"}, format="json", HTTP_IF_MATCH=changed["ETag"]).status_code == 200
    assert api.patch(url, {"notes": "any"}, format="json", HTTP_IF_MATCH="*").status_code == 200


def test_if_match_guards_a_transition(api, sales1, order):
    url = f"/api/v1/orders/{order.pk}/"
    etag = api.get(url)["ETag"]
    services.update_order(actor=sales1, order=order, notes="changed meanwhile")
    assert api.post(url + "confirm/", {}, format="json", HTTP_IF_MATCH=etag).status_code == 412
    assert Order.objects.get(pk=order.pk).status == "created"


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_one_succeeds_the_other_gets_409(api_client, sales1, run_together):
    order = make_order(sales1, CustomerFactory(owner=sales1))
    clients = [api_client(sales1), api_client(sales1)]

    def confirm(client):
        def act(barrier):
            barrier.wait()
            response = client.post(
                f"/api/v1/orders/{order.pk}/confirm/", {"seen_status": "created"}, format="json"
            )
            return response.status_code, response.json()

        return act

    results = run_together(*(confirm(client) for client in clients))
    assert sorted(code for code, _body in results) == [200, 409], results
    conflict = next(body for code, body in results if code == 409)
    assert conflict["current"] == {"status": "confirmed"}
    assert OrderEvent.objects.filter(order=order, type="confirmed").count() == 1
    assert Order.objects.get(pk=order.pk).confirmed_at <= timezone.now()
