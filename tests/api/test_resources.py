"""Each resource's writes do what the page's would: the same services, through the API."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import ContactMethod, Need
from followups.models import FollowUp
from opportunities.models import Opportunity, Stage
from orders.models import Order
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(sales1):
    return CustomerFactory(owner=sales1, name="Resource Ltd")


def test_customer_parts(api, customer):
    url = f"/api/v1/customers/{customer.pk}/"
    assert api.patch(url, {"region": "  上海  "}, format="json").json()["region"] == "上海"
    method = api.post(url + "contact-methods/", {"type": "mobile", "value": "138 0013 8000"}, format="json")
    assert method.status_code == 201 and method.json()["value"] == "+8613800138000"
    method_url = f"/api/v1/contact-methods/{method.json()['id']}/"
    assert api.patch(method_url, {"note": "office"}, format="json").json()["note"] == "office"
    assert api.delete(method_url).status_code == 204
    assert not ContactMethod.objects.filter(customer=customer).exists()
    person = api.post(url + "contact-persons/", {"name": "Li Lei", "email": "LI@x.example"}, format="json")
    assert person.json()["email"] == "li@x.example"
    need = api.post(url + "needs/", {"description": "Faster delivery", "priority": "high"}, format="json")
    resolved = api.patch(f"/api/v1/needs/{need.json()['id']}/", {"status": "met"}, format="json")
    assert resolved.json()["resolved_at"]
    assert Need.objects.get().status == "met"
    assert [row["name"] for row in api.get(url + "contact-persons/").json()] == ["Li Lei"]


def test_an_opportunity_moves_and_is_won_into_an_order(api, customer):
    product = ProductFactory()
    created = api.post(
        "/api/v1/opportunities/",
        {
            "customer": customer.pk,
            "title": "Line 3",
            "expected_close_date": (date.today() + timedelta(days=20)).isoformat(),
            "lines": [{"product": product.pk, "quantity": 3}],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["amount"] == "300.00"
    url = f"/api/v1/opportunities/{body['id']}/"
    later = Stage.objects.filter(kind="open").exclude(pk=body["stage"]).last()
    assert later is not None
    moved = api.post(url + "move/", {"stage": later.pk, "from_stage": body["stage"]}, format="json")
    assert moved.json()["stage"] == later.pk
    stale = api.post(url + "move/", {"stage": body["stage"], "from_stage": body["stage"]}, format="json")
    assert stale.status_code == 409 and stale.json()["current"]["stage"] == later.pk
    won = api.post(url + "win/", {"note": "signed"}, format="json")
    assert won.status_code == 200, won.json()
    order = Order.objects.get(pk=won.json()["order"])
    # 300 of lines and the default 13% tax (DEFAULT_TAX_RATE) of an order won from a deal.
    assert order.total == Decimal("339.00") and order.customer == customer
    assert [event["type"] for event in api.get(url + "events/").json()] == ["won", "stage_moved", "created"]
    assert Opportunity.objects.get().won_at is not None


def test_a_conversation_and_its_follow_up(api, customer):
    talk = api.post(
        "/api/v1/communications/",
        {"customer": customer.pk, "channel": "phone", "subject": "Pricing", "content": "Asked for 5 % off"},
        format="json",
    )
    assert talk.status_code == 201, talk.json()
    due = (timezone.now() + timedelta(days=2)).isoformat()
    task = api.post(
        "/api/v1/followups/",
        {"customer": customer.pk, "subject": "Send the offer", "due_at": due},
        format="json",
    )
    assert task.status_code == 201, task.json()
    url = f"/api/v1/followups/{task.json()['id']}/"
    day = (date.today() + timedelta(days=5)).isoformat()
    postponed = api.post(url + "postpone/", {"day": day}, format="json")
    assert timezone.localtime(FollowUp.objects.get().due_at).date().isoformat() == day, postponed.json()
    done = api.post(url + "complete/", {"result": "Offer sent"}, format="json")
    assert done.json()["status"] == "done"
    again = api.post(url + "cancel/", {}, format="json")
    assert again.status_code == 400
    assert FollowUp.objects.get().status == "done"
    assert [
        row["subject"] for row in api.get(f"/api/v1/communications/?search={customer.name}").json()["results"]
    ] == ["Pricing"]


def test_managers_keep_the_catalogue(manager_api, api):
    product = ProductFactory(sku="OLD-1")
    url = f"/api/v1/products/{product.pk}/"
    assert manager_api.patch(url, {"active": False}, format="json").json()["active"] is False
    assert api.patch(url, {"active": True}, format="json").status_code == 403
    clash = manager_api.post(
        "/api/v1/products/", {"sku": "old-1", "name": "Dup", "unit_price": "1"}, format="json"
    )
    assert clash.status_code == 400 and "sku" in clash.json()["errors"]
