"""One actor model and one access helper per kind of record.

The system (actor None) writes in every app with managers' rights and leaves no user on what it records;
the access helpers answer 404 for what a user may not see, or may not change when they mean to.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from customers import services as customer_services
from customers.access import access_contact_method, access_contact_person, access_customer, access_need
from customers.models import ContactMethod, ContactPerson, Need
from followups import services as followup_services
from followups.access import access_communication, access_followup
from opportunities import services as opportunity_services
from opportunities.access import access_opportunity
from opportunities.models import Stage
from orders import services as order_services
from orders.access import access_order
from tests.factories import CommunicationFactory, CustomerFactory, FollowUpFactory, OpportunityFactory
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db


# --- the system acts in every app ---------------------------------------------------------------


def test_the_system_creates_a_customer_for_an_owner_it_names(sales1):
    customer = customer_services.create_customer(
        actor=None,
        owner=sales1,
        name="Imported Ltd",
        contact_methods=[{"type": "mobile", "value": "13800138000"}],
    )
    assert customer.owner == sales1
    assert customer.history.get().history_user is None
    with pytest.raises(ValidationError) as refused:
        customer_services.create_customer(actor=None, name="Nobody's")
    assert "owner" in refused.value.message_dict
    need = customer_services.raise_need(actor=None, customer=customer, description="Spare parts")
    assert need.raised_by is None and need.history.get().history_user is None


def test_the_system_schedules_and_completes_a_followup(sales1):
    customer = CustomerFactory(owner=sales1)
    followup = followup_services.schedule_followup(
        actor=None,
        customer=customer,
        subject="Call back",
        due_at=timezone.now() + timedelta(days=1),
        assignee=sales1,
    )
    assert (followup.assignee, followup.created_by) == (sales1, None)
    followup_services.complete_followup(actor=None, followup=followup, result="Automatically closed")
    followup.refresh_from_db()
    assert (followup.status, followup.completed_by) == ("done", None)
    assert [record.history_user for record in followup.history.all()] == [None, None]
    with pytest.raises(ValidationError) as refused:
        followup_services.schedule_followup(
            actor=None, customer=customer, subject="To whom?", due_at=timezone.now() + timedelta(days=1)
        )
    assert "assignee" in refused.value.message_dict
    communication = followup_services.log_communication(
        actor=None,
        customer=customer,
        staff=sales1,
        channel="email",
        subject="Quote",
        content="Sent the quote.",
    )
    assert communication.staff == sales1 and communication.history.get().history_user is None


def test_the_system_creates_and_moves_an_opportunity(sales1):
    customer = CustomerFactory(owner=sales1)
    opportunity = opportunity_services.create_opportunity(
        actor=None,
        customer=customer,
        title="Renewal",
        amount=Decimal("1000.00"),
        expected_close_date=timezone.localdate() + timedelta(days=30),
    )
    opportunity_services.move_stage(
        actor=None, opportunity=opportunity, stage=Stage.objects.get(code="evaluate")
    )
    assert opportunity.owner == sales1
    assert [event.actor for event in opportunity.events.all()] == [None, None]
    assert {record.history_user for record in opportunity.history.all()} == {None}


def test_the_system_creates_and_confirms_an_order(sales1):
    customer = CustomerFactory(owner=sales1)
    order = make_order(None, customer)
    order = order_services.confirm_order(actor=None, order=order)
    assert order.status == "confirmed"
    assert [event.actor for event in order.events.all()] == [None, None]
    assert {record.history_user for record in order.history.all()} == {None}


# --- access helpers -----------------------------------------------------------------------------


@pytest.fixture
def records(sales1):
    """One record of each kind, all of sales1's customer."""
    customer = CustomerFactory(owner=sales1)
    return {
        access_customer: customer,
        access_contact_method: ContactMethod.objects.create(customer=customer, type="qq", value="123456"),
        access_contact_person: ContactPerson.objects.create(customer=customer, name="Li Wei"),
        access_need: Need.objects.create(customer=customer, description="A quote"),
        access_order: make_order(sales1, customer),
        access_opportunity: OpportunityFactory(customer=customer),
        access_communication: CommunicationFactory(customer=customer),
        access_followup: FollowUpFactory(customer=customer),
    }


@pytest.mark.parametrize("for_write", [False, True])
def test_each_helper_gives_the_record_to_who_may_and_404_to_anyone_else(
    records, sales1, sales2, manager, for_write
):
    for access, record in records.items():
        for user in (sales1, manager, None):
            assert access(user, record.pk, for_write=for_write) == record, (access.__name__, user)
        for pk in (record.pk, 10**9, "not-a-number", None):
            with pytest.raises(Http404):
                access(sales2, pk, for_write=for_write)


def test_an_assignee_may_change_the_followup_but_not_see_a_colleagues_customer(sales1, sales2):
    followup = FollowUpFactory(customer=CustomerFactory(owner=sales1), assignee=sales2)
    assert access_followup(sales2, followup.pk, for_write=True) == followup
    with pytest.raises(Http404):
        access_customer(sales2, followup.customer_id)
