"""No double submit: the payment, credit note and transition forms carry a one-time token; a repeated
post writes nothing and is answered with the first post's result."""

import re
import uuid
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from orders import once
from orders.models import CreditNote, FormSubmission, OrderEvent, Payment
from tests.orders.builders import make_order, order_in

pytestmark = pytest.mark.django_db


def token_in(page: str, form_marker: str) -> str:
    """The form token of the form that `form_marker` (its data-testid) names on the page."""
    form = page[page.index(form_marker) :]
    found = re.search(r'name="form_token" value="([0-9a-f-]{36})"', form)
    assert found, f"no form token after {form_marker}"
    return found.group(1)


def post(client, url, data):
    """Posts, follows the redirect, and returns the messages the page then showed."""
    response = client.post(url, data, follow=True)
    assert response.redirect_chain, "the post was not answered with a redirect"
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_posting_the_same_payment_form_twice_records_one_payment(sales_client, sales1, customer):
    order = order_in("confirmed", sales1, customer)
    page = sales_client.get(order.get_absolute_url()).content.decode()
    data = {
        "form_token": token_in(page, 'data-testid="payment-form"'),
        "kind": "payment",
        "amount": "100.00",
        "method": "cash",
    }
    url = reverse("orders:payment_add", args=[order.pk])
    first, second = post(sales_client, url, data), post(sales_client, url, data)
    assert Payment.objects.filter(order=order).count() == 1
    assert OrderEvent.objects.filter(order=order, type="payment_recorded").count() == 1
    assert first == second == ["Payment of 100.00 recorded."]
    # A new form gets a new token, and pays again.
    page = sales_client.get(order.get_absolute_url()).content.decode()
    assert token_in(page, 'data-testid="payment-form"') != data["form_token"]


def test_a_refused_post_leaves_the_token_unspent(sales_client, sales1, customer):
    order = order_in("confirmed", sales1, customer)
    url = reverse("orders:payment_add", args=[order.pk])
    data = {"form_token": str(uuid.uuid4()), "kind": "payment", "amount": "999999", "method": "cash"}
    assert sales_client.post(url, data).status_code == 200  # more than the balance: refused
    assert not FormSubmission.objects.exists()
    assert sales_client.post(url, {**data, "amount": "300"}).status_code == 302
    assert Payment.objects.filter(order=order).count() == 1


def test_a_repeated_credit_note_post_issues_one_credit_note(sales_client, sales1, customer):
    order = order_in("finished", sales1, customer)
    url = reverse("orders:credit_note_create", args=[order.pk])
    data = {
        "form_token": token_in(sales_client.get(url).content.decode(), 'data-testid="credit-note-form"'),
        "reason": "Damaged",
        "amount": "50",
        "refund": "50",
        "refund_method": "cash",
    }
    first, second = post(sales_client, url, data), post(sales_client, url, data)
    assert CreditNote.objects.filter(order=order).count() == 1
    assert Payment.objects.filter(order=order, amount__lt=0).count() == 1
    assert first == second and first[0].startswith("Credit note CN-")


def test_a_repeated_transition_post_answers_with_the_first_result(sales_client, sales1, customer):
    order = make_order(sales1, customer)
    page = sales_client.get(order.get_absolute_url()).content.decode()
    data = {"form_token": token_in(page, 'data-testid="action-confirm"'), "seen_status": "created"}
    url = reverse("orders:transition", args=[order.pk, "confirm"])
    first, second = post(sales_client, url, data), post(sales_client, url, data)
    assert first == second == [f"Order {order.number} confirmed."]
    assert OrderEvent.objects.filter(order=order, type="confirmed").count() == 1


def test_another_users_token_is_not_theirs_to_replay(client, sales_client, manager, sales1, customer):
    order = order_in("confirmed", sales1, customer)
    url = reverse("orders:payment_add", args=[order.pk])
    data = {"form_token": str(uuid.uuid4()), "kind": "payment", "amount": "10", "method": "cash"}
    sales_client.post(url, data)
    client.force_login(manager)
    assert client.post(url, {**data, "amount": "20"}).status_code in (200, 403)
    assert list(Payment.objects.filter(order=order).values_list("amount", flat=True)) == [D("10.00")]


def test_tokens_spent_longer_ago_than_form_token_days_are_pruned(sales_client, sales1, customer, settings):
    order = order_in("confirmed", sales1, customer)
    url = reverse("orders:payment_add", args=[order.pk])
    for amount in ("10.00", "20.00"):
        page = sales_client.get(order.get_absolute_url()).content.decode()
        token = token_in(page, 'data-testid="payment-form"')
        post(sales_client, url, {"form_token": token, "kind": "payment", "amount": amount, "method": "cash"})
    old, new = FormSubmission.objects.order_by("pk")
    FormSubmission.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=settings.FORM_TOKEN_DAYS, minutes=1)
    )
    assert once.prune() == 1
    assert list(FormSubmission.objects.values_list("pk", flat=True)) == [new.pk]
    assert Payment.objects.filter(order=order).count() == 2  # only the tokens went
