"""The sharing rule over the API, tested as an attacker: sales1 sends sales2's ids everywhere."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from customers import services as customer_services
from opportunities import services as opportunity_services
from opportunities.models import Stage
from orders.models import Order
from tests.factories import CommunicationFactory, CustomerFactory, FollowUpFactory, ProductFactory
from tests.orders.builders import order_in

pytestmark = pytest.mark.django_db

TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.fixture
def theirs(sales2):
    """sales2's customer and everything that hangs off it."""
    customer = CustomerFactory(owner=sales2, name="Secret Trading Ltd")
    product = ProductFactory()
    records = {
        "customer": customer,
        "method": customer_services.add_contact_method(
            actor=sales2, customer=customer, type="email", value="boss@secret.example"
        ),
        "person": customer_services.add_contact_person(actor=sales2, customer=customer, name="Mr Secret"),
        "need": customer_services.raise_need(actor=sales2, customer=customer, description="Secret need"),
        "communication": CommunicationFactory(customer=customer, subject="Secret pricing talk"),
        "followup": FollowUpFactory(customer=customer, subject="Secret callback"),
        "order": order_in("confirmed", sales2, customer),
        "opportunity": opportunity_services.create_opportunity(
            actor=sales2,
            customer=customer,
            title="Secret deal",
            expected_close_date=date.today() + timedelta(days=30),
            lines=[{"product": product, "quantity": 2}],
        ),
        "product": product,
    }
    return records


def snapshot():
    """Every row of the CRM's apps, as stored: any write shows as a difference."""
    rows = {}
    for app in ("customers", "orders", "opportunities", "followups"):
        for model in apps.get_app_config(app).get_models():
            rows[model._meta.label] = sorted(map(repr, model._base_manager.values()))
    return rows


def urls_and_bodies(records):
    c, o, op = records["customer"].pk, records["order"].pk, records["opportunity"].pk
    stage = Stage.objects.filter(kind="open").last()
    return {
        "get": [
            f"/api/v1/customers/{c}/",
            f"/api/v1/customers/{c}/contact-methods/",
            f"/api/v1/customers/{c}/contact-persons/",
            f"/api/v1/customers/{c}/needs/",
            f"/api/v1/contact-methods/{records['method'].pk}/",
            f"/api/v1/contact-persons/{records['person'].pk}/",
            f"/api/v1/needs/{records['need'].pk}/",
            f"/api/v1/orders/{o}/",
            f"/api/v1/orders/{o}/payments/",
            f"/api/v1/orders/{o}/events/",
            f"/api/v1/orders/{o}/credit-notes/",
            f"/api/v1/opportunities/{op}/",
            f"/api/v1/opportunities/{op}/events/",
            f"/api/v1/communications/{records['communication'].pk}/",
            f"/api/v1/followups/{records['followup'].pk}/",
        ],
        "patch": {
            f"/api/v1/customers/{c}/": {"name": "Hijacked"},
            f"/api/v1/contact-methods/{records['method'].pk}/": {"value": "me@hijack.example"},
            f"/api/v1/contact-persons/{records['person'].pk}/": {"name": "Hijacked"},
            f"/api/v1/needs/{records['need'].pk}/": {"status": "dropped"},
            f"/api/v1/orders/{o}/": {"notes": "Hijacked"},
            f"/api/v1/opportunities/{op}/": {"title": "Hijacked"},
            f"/api/v1/communications/{records['communication'].pk}/": {"subject": "Hijacked"},
            f"/api/v1/followups/{records['followup'].pk}/": {"subject": "Hijacked"},
        },
        "post": {
            f"/api/v1/customers/{c}/contact-methods/": {"type": "email", "value": "me@hijack.example"},
            f"/api/v1/customers/{c}/contact-persons/": {"name": "Spy"},
            f"/api/v1/customers/{c}/needs/": {"description": "Spy"},
            f"/api/v1/orders/{o}/confirm/": {},
            f"/api/v1/orders/{o}/process/": {},
            f"/api/v1/orders/{o}/finish/": {},
            f"/api/v1/orders/{o}/close/": {"reason": "Hijacked"},
            f"/api/v1/orders/{o}/payments/": {"amount": "1.00", "method": "cash"},
            f"/api/v1/orders/{o}/credit-notes/": {
                "reason": "Hijacked",
                "returns": [{"line": records["order"].lines.get().pk, "quantity": 1}],
                "amount": "1.00",
            },
            f"/api/v1/orders/{o}/request-approval/": {"note": "Hijacked"},
            f"/api/v1/orders/{o}/approve/": {},
            f"/api/v1/orders/{o}/refuse/": {"note": "Hijacked"},
            f"/api/v1/opportunities/{op}/move/": {"stage": stage.pk if stage else 1},
            f"/api/v1/opportunities/{op}/win/": {},
            f"/api/v1/opportunities/{op}/lose/": {"reason": "Hijacked"},
            f"/api/v1/opportunities/{op}/reopen/": {},
            f"/api/v1/followups/{records['followup'].pk}/complete/": {"result": "Hijacked"},
            f"/api/v1/followups/{records['followup'].pk}/postpone/": {"day": TOMORROW},
            f"/api/v1/followups/{records['followup'].pk}/cancel/": {"reason": "Hijacked"},
        },
        "delete": [
            f"/api/v1/contact-methods/{records['method'].pk}/",
            f"/api/v1/contact-persons/{records['person'].pk}/",
        ],
    }


def test_their_ids_answer_404_and_change_nothing(api, theirs):
    before = snapshot()
    requests = urls_and_bodies(theirs)
    for url in requests["get"]:
        assert api.get(url).status_code == 404, url
    for url, body in requests["patch"].items():
        assert api.patch(url, body, format="json").status_code == 404, url
    for url, body in requests["post"].items():
        response = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=f"attack {url}")
        assert response.status_code == 404, url
        assert response.json() == {"detail": response.json()["detail"]}, "a 404 names nothing"
    for url in requests["delete"]:
        assert api.delete(url).status_code == 404, url
    assert snapshot() == before


def test_their_records_named_in_a_body_are_refused_at_the_field(api, sales1, theirs):
    mine = CustomerFactory(owner=sales1)
    before = snapshot()
    due = (timezone.now() + timedelta(days=1)).isoformat()
    refused = {
        "/api/v1/orders/": ({"customer": theirs["customer"].pk, "lines": []}, "customer"),
        "/api/v1/opportunities/": (
            {"customer": theirs["customer"].pk, "title": "x", "expected_close_date": TOMORROW},
            "customer",
        ),
        "/api/v1/communications/": (
            {
                "customer": mine.pk,
                "channel": "phone",
                "subject": "x",
                "content": "x",
                "order": theirs["order"].pk,
            },
            "order",
        ),
        "/api/v1/followups/": (
            {"customer": mine.pk, "subject": "x", "due_at": due, "opportunity": theirs["opportunity"].pk},
            "opportunity",
        ),
    }
    for url, (body, field) in refused.items():
        response = api.post(url, body, format="json")
        assert response.status_code == 400, (url, response.json())
        assert field in response.json()["errors"], url
    assert snapshot() == before


def test_lists_show_only_their_own(api, sales1, theirs):
    mine = CustomerFactory(owner=sales1, name="Mine Ltd")
    order_in("created", sales1, mine)
    assert [row["name"] for row in api.get("/api/v1/customers/").json()["results"]] == ["Mine Ltd"]
    orders = api.get("/api/v1/orders/").json()["results"]
    assert [row["customer"] for row in orders] == [mine.pk]
    for url in (
        "/api/v1/opportunities/",
        "/api/v1/communications/",
        "/api/v1/followups/",
        "/api/v1/balances/",
    ):
        assert api.get(url).json()["results"] == [], url
    # A filter naming their customer finds nothing of theirs either.
    assert api.get(f"/api/v1/orders/?customer={theirs['customer'].pk}").json()["results"] == []
    assert Order.objects.count() == 2


def test_a_manager_sees_and_changes_them(manager_api, theirs):
    order = theirs["order"]
    assert manager_api.get(f"/api/v1/orders/{order.pk}/").status_code == 200
    response = manager_api.post(f"/api/v1/orders/{order.pk}/process/", {}, format="json")
    assert response.status_code == 200, response.json()
    order.refresh_from_db()
    assert order.status == "processing"
    assert Decimal(response.json()["total"]) == order.total
