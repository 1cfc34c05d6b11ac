"""Managers see the outbox and retry failed e-mails; nobody else reaches it."""

import pytest
from django.urls import reverse

from automation.models import OutgoingEmail
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def make_emails(count, **fields):
    customer = CustomerFactory()
    return OutgoingEmail.objects.bulk_create(
        OutgoingEmail(
            kind="customer",
            to=f"c{n}@example.com",
            subject=f"Hello {n}",
            body="…",
            customer=customer,
            **fields,
        )
        for n in range(count)
    )


def test_the_outbox_costs_the_same_with_5_and_50_emails(manager_client, count_queries):
    make_emails(5, status="failed")
    few = count_queries(manager_client, reverse("automation:outbox"))
    make_emails(45)
    many = count_queries(manager_client, reverse("automation:outbox"))
    assert few == many <= 8


def test_the_outbox_filters_by_status(manager_client, english):
    make_emails(2, status="failed")
    make_emails(3, status="sent")
    page = manager_client.get(reverse("automation:outbox"), {"status": "failed"})
    assert page.context["page"].total == 2
    assert manager_client.get(reverse("automation:outbox"), {"status": "nonsense"}).context["page"].total == 0


def test_a_manager_retries_a_failed_email(manager_client, english):
    (email,) = make_emails(1, status="failed", attempts=6, last_error="SMTPDataError: 550")
    page = manager_client.get(reverse("automation:outbox_detail", args=[email.pk]))
    assert b"Retry" in page.content and b"SMTPDataError: 550" in page.content
    response = manager_client.post(reverse("automation:outbox_retry", args=[email.pk]), follow=True)
    assert b"queued again" in response.content
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("pending", 0)


def test_sales_staff_reach_no_outbox_page(sales_client):
    (email,) = make_emails(1, status="failed", attempts=6)
    assert sales_client.get(reverse("automation:outbox")).status_code == 403
    assert sales_client.get(reverse("automation:outbox_detail", args=[email.pk])).status_code == 403
    assert sales_client.post(reverse("automation:outbox_retry", args=[email.pk])).status_code == 403
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 6)
