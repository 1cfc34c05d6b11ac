"""Idempotency-Key: a retried POST returns the first answer and writes nothing new."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.models import IdempotencyKey
from customers.models import Customer
from orders.models import OrderEvent
from tests.factories import CustomerFactory
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db


def test_a_retried_create_returns_the_first_answer_and_creates_one(api):
    body = {"name": "Retry Ltd", "contact_methods": [{"type": "email", "value": "a@retry.example"}]}
    first = api.post("/api/v1/customers/", body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    again = api.post("/api/v1/customers/", body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Customer.objects.filter(name="Retry Ltd").count() == 1


def test_without_a_key_each_post_counts(api):
    for _ in range(2):
        assert api.post("/api/v1/customers/", {"name": "Twice Ltd"}, format="json").status_code == 201
    assert Customer.objects.filter(name="Twice Ltd").count() == 2


def test_a_retried_transition_records_one_event(api, sales1):
    order = make_order(sales1, CustomerFactory(owner=sales1))
    url = f"/api/v1/orders/{order.pk}/confirm/"
    first = api.post(url, {"note": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY="confirm-1")
    again = api.post(url, {"note": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY="confirm-1")
    assert first.status_code == again.status_code == 200
    assert OrderEvent.objects.filter(order=order, type="confirmed").count() == 1
    # Without the key the retry is a second confirmation, which the order refuses.
    assert api.post(url, {"note": "ok"}, format="json").status_code == 400


def test_a_refusal_is_replayed_too(api):
    first = api.post("/api/v1/customers/", {"name": ""}, format="json", HTTP_IDEMPOTENCY_KEY="bad-1")
    again = api.post("/api/v1/customers/", {"name": ""}, format="json", HTTP_IDEMPOTENCY_KEY="bad-1")
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()


def test_the_same_key_with_another_request_answers_422_and_writes_nothing(api):
    api.post("/api/v1/customers/", {"name": "First Ltd"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    other = api.post("/api/v1/customers/", {"name": "Second Ltd"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert other.status_code == 422
    assert not Customer.objects.filter(name="Second Ltd").exists()


def test_keys_belong_to_their_user(api, api_client, sales2):
    mine = api.post("/api/v1/customers/", {"name": "Mine Ltd"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    theirs = api_client(sales2).post(
        "/api/v1/customers/", {"name": "Mine Ltd"}, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert mine.status_code == theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["owner"] == sales2.pk


@pytest.mark.parametrize("key", ["", " padded ", "x" * 256, "ключ"])
def test_a_malformed_key_is_refused(api, key):
    response = api.post("/api/v1/customers/", {"name": "Keyed Ltd"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Customer.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_old_keys_are_pruned_and_then_a_retry_runs_again(api, settings):
    api.post("/api/v1/customers/", {"name": "Old Ltd"}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyKey.objects.update(
        created_at=timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_HOURS + 1)
    )
    api.post("/api/v1/customers/", {"name": "New Ltd"}, format="json", HTTP_IDEMPOTENCY_KEY="new")
    out = StringIO()
    call_command("prune_spent_keys", stdout=out)
    assert "Deleted 1 " in out.getvalue()
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
