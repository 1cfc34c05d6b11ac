"""Visibility, tested as an attacker would: sales1 guessing sales2's ids."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from followups.models import Communication, FollowUp
from tests.factories import CommunicationFactory, CustomerFactory, FollowUpFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(sales2):
    """sales2's customer with a communication and a follow-up sales1 must never reach."""
    customer = CustomerFactory(owner=sales2, name="Secret Trading Ltd")
    communication = CommunicationFactory(customer=customer, subject="Secret pricing talk")
    followup = FollowUpFactory(
        customer=customer, subject="Secret callback", due_at=timezone.now() - timedelta(hours=1)
    )
    return customer, communication, followup


def test_visible_to(sales1, sales2, manager, theirs):
    customer, _communication, followup = theirs
    mine = FollowUpFactory(customer__owner=sales1)
    delegated_to_me = FollowUpFactory(customer=customer, assignee=sales1)
    assigned_elsewhere = FollowUpFactory(customer__owner=sales1, assignee=sales2)
    my_communication = CommunicationFactory(customer=mine.customer)

    assert set(FollowUp.objects.visible_to(sales1)) == {mine, delegated_to_me, assigned_elsewhere}
    assert set(FollowUp.objects.visible_to(sales2)) == {followup, delegated_to_me, assigned_elsewhere}
    assert FollowUp.objects.visible_to(manager).count() == 4
    assert list(Communication.objects.visible_to(sales1)) == [my_communication]
    assert Communication.objects.visible_to(manager).count() == 2


def test_guessing_ids_answers_404_and_changes_nothing(sales_client, theirs):
    customer, communication, followup = theirs
    pages = [
        reverse("followups:detail", args=[followup.pk]),
        reverse("followups:communication", args=[communication.pk]),
        reverse("followups:log", args=[customer.pk]),
        reverse("followups:schedule", args=[customer.pk]),
        reverse("customers:timeline", args=[customer.pk]),
        reverse("followups:postpone_menu", args=[followup.pk]),
    ]
    for url in pages:
        assert sales_client.get(url).status_code == 404, url
        assert sales_client.get(url, HTTP_HX_REQUEST="true").status_code == 404, url

    due = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    posts = {
        reverse("followups:complete", args=[followup.pk]): {"result": "Hijacked"},
        reverse("followups:postpone", args=[followup.pk]): {"to": "tomorrow"},
        reverse("followups:reschedule", args=[followup.pk]): {"due_at": due},
        reverse("followups:reassign", args=[followup.pk]): {"assignee": followup.assignee_id},
        reverse("followups:cancel", args=[followup.pk]): {"reason": "Hijacked"},
        reverse("followups:log", args=[customer.pk]): {
            "channel": "phone",
            "direction": "out",
            "occurred_at": timezone.now().strftime("%Y-%m-%dT%H:%M"),
            "subject": "Injected",
            "content": "Injected",
        },
        reverse("followups:schedule", args=[customer.pk]): {
            "subject": "Injected",
            "due_at": due,
            "assignee": followup.assignee_id,
            "priority": "normal",
        },
    }
    for url, data in posts.items():
        assert sales_client.post(url, data).status_code == 404, url
        assert sales_client.post(url, data, HTTP_HX_REQUEST="true").status_code == 404, url

    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.OPEN and followup.result == ""
    assert Communication.objects.count() == 1 and FollowUp.objects.count() == 1


def test_lists_pages_and_exports_leave_out_what_sales1_may_not_see(sales_client, sales1, theirs):
    _customer, _communication, followup = theirs
    FollowUpFactory(
        customer__owner=sales1, subject="My own callback", due_at=timezone.now() - timedelta(hours=2)
    )
    CommunicationFactory(customer__owner=sales1, subject="My own talk")
    secret = [b"Secret"]  # in the customer's name and the records' subjects
    everything = "?status=&assignee=&due_after=&due_before="
    pages = [
        reverse("followups:index") + everything,
        reverse("followups:communications"),
        reverse("followups:today"),
        reverse("followups:calendar") + "?assignee=all",
        reverse("followups:calendar") + f"?assignee={followup.assignee_id}",
        reverse("followups:export") + everything + "&format=csv",
        reverse("followups:communications_export") + "?format=csv",
        reverse("followups:index") + "?customer=Trading&status=",  # a fragment of the customer's name
    ]
    for url in pages:
        response = sales_client.get(url)
        assert response.status_code == 200, url
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert not any(word in content for word in secret), url
    assert b"My own callback" in sales_client.get(reverse("followups:today")).content


def test_a_followup_assigned_across_owners_links_the_customers_card(sales_client, sales1, theirs):
    customer, _communication, _followup = theirs
    delegated = FollowUpFactory(customer=customer, assignee=sales1, subject="Help a colleague")
    page = sales_client.get(reverse("followups:detail", args=[delegated.pk])).content.decode()
    assert "Help a colleague" in page and customer.name in page
    assert f'<a href="{customer.get_absolute_url()}">' in page
    # Through the follow-up they read the customer's card, read only, never its page.
    card = sales_client.get(customer.get_absolute_url())
    assert card.status_code == 200 and card.templates[0].name == "customers/customer_card.html"
    assert sales_client.get(reverse("customers:edit", args=[customer.pk])).status_code == 404


def test_a_followup_from_a_colleagues_communication_keeps_that_communication_hidden(
    client, sales_client, sales1, sales2, theirs
):
    customer, communication, _followup = theirs
    delegated = FollowUpFactory(
        customer=customer,
        assignee=sales1,
        communication=communication,
        subject="Help a colleague",
        due_at=timezone.now() + timedelta(hours=1),
    )
    secret = [communication.subject, communication.get_absolute_url()]
    pages = [
        reverse("followups:detail", args=[delegated.pk]),
        reverse("followups:today"),
        reverse("followups:index"),
        reverse("followups:calendar"),
        reverse("followups:export") + "?format=csv",
    ]
    for url in pages:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = sales_client.get(url, **headers)
            assert response.status_code == 200, url
            content = b"".join(response.streaming_content) if response.streaming else response.content
            assert "Help a colleague" in content.decode(), url
            assert not any(word in content.decode() for word in secret), url
    assert sales_client.get(communication.get_absolute_url()).status_code == 404

    # Its owner, who may open the communication, is shown where the follow-up came from.
    client.force_login(sales2)
    page = client.get(reverse("followups:detail", args=[delegated.pk])).content.decode()
    assert communication.subject in page and communication.get_absolute_url() in page
