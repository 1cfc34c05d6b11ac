"""The communications and follow-ups admin goes through the services: a link to another customer's order
or opportunity is refused at the field and nothing is written, when adding and when changing."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from followups.models import Communication, FollowUp
from tests.factories import CommunicationFactory, CustomerFactory, FollowUpFactory
from tests.followups.test_links import new_opportunity
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db

NOT_THE_CUSTOMERS = ["Choose one of this customer's records."]


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def mine(sales1):
    return CustomerFactory(owner=sales1, name="Mine Ltd")


@pytest.fixture
def theirs(sales2):
    """Another customer, with an order and an opportunity."""
    customer = CustomerFactory(owner=sales2, name="Theirs Ltd")
    return make_order(sales2, customer), new_opportunity(sales2, customer)


def errors_of(response):
    assert response.status_code == 200
    return response.context["adminform"].form.errors


def test_a_followup_changed_to_another_customers_order_is_refused(manager_client, admin_form, mine, theirs):
    followup = FollowUpFactory(customer=mine, subject="Call back")
    url = reverse("admin:followups_followup_change", args=[followup.pk])
    data = admin_form(manager_client, url)
    order, opportunity = theirs
    data.update(order=order.pk, opportunity=opportunity.pk, subject="Changed")
    errors = errors_of(manager_client.post(url, data))
    assert errors["order"] == NOT_THE_CUSTOMERS and errors["opportunity"] == NOT_THE_CUSTOMERS
    followup.refresh_from_db()
    assert (followup.order, followup.opportunity, followup.subject) == (None, None, "Call back")
    assert followup.history.count() == 1


def test_a_followup_added_with_another_customers_order_is_refused(
    manager_client, admin_form, mine, theirs, sales1
):
    url = reverse("admin:followups_followup_add")
    data = admin_form(manager_client, url)
    due = timezone.localtime() + timedelta(days=1)
    data.update(
        customer=mine.pk,
        subject="Send the quote",
        assignee=sales1.pk,
        priority="normal",
        due_at_0=due.date().isoformat(),
        due_at_1="09:00:00",
        order=theirs[0].pk,
    )
    assert errors_of(manager_client.post(url, data))["order"] == NOT_THE_CUSTOMERS
    assert not FollowUp.objects.exists()

    del data["order"]
    assert manager_client.post(url, data).status_code == 302
    followup = FollowUp.objects.get()
    assert (followup.customer, followup.assignee, followup.order) == (mine, sales1, None)


def test_a_communication_changed_to_another_customers_records_is_refused(
    manager_client, admin_form, mine, theirs
):
    communication = CommunicationFactory(customer=mine, subject="Visit")
    url = reverse("admin:followups_communication_change", args=[communication.pk])
    data = admin_form(manager_client, url)
    order, opportunity = theirs
    data.update(order=order.pk, opportunity=opportunity.pk)
    errors = errors_of(manager_client.post(url, data))
    assert errors["order"] == NOT_THE_CUSTOMERS and errors["opportunity"] == NOT_THE_CUSTOMERS
    communication.refresh_from_db()
    assert (communication.order, communication.opportunity) == (None, None)

    own_order = make_order(mine.owner, mine)
    data.update(order=own_order.pk, opportunity="", subject="Visit, with the order")
    assert manager_client.post(url, data).status_code == 302
    communication.refresh_from_db()
    assert (communication.order, communication.subject) == (own_order, "Visit, with the order")


def test_a_communication_added_with_another_customers_opportunity_is_refused(
    manager_client, admin_form, mine, theirs, sales1
):
    url = reverse("admin:followups_communication_add")
    data = admin_form(manager_client, url)
    now = timezone.localtime() - timedelta(hours=1)
    data.update(
        customer=mine.pk,
        staff=sales1.pk,
        channel="phone",
        direction="out",
        subject="Call",
        content="Talked about the quote.",
        occurred_at_0=now.date().isoformat(),
        occurred_at_1=now.strftime("%H:%M:%S"),
        opportunity=theirs[1].pk,
    )
    assert errors_of(manager_client.post(url, data))["opportunity"] == NOT_THE_CUSTOMERS
    assert not Communication.objects.exists()


def test_a_done_followup_cannot_be_changed_in_the_admin(manager_client, admin_form, mine):
    followup = FollowUpFactory(customer=mine, status="done", result="ok", completed_at=timezone.now())
    url = reverse("admin:followups_followup_change", args=[followup.pk])
    errors = errors_of(manager_client.post(url, admin_form(manager_client, url)))
    assert errors["__all__"] == ["This follow-up is no longer open: it is done."]
