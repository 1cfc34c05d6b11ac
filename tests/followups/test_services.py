from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from customers import services as customer_services
from customers.models import Customer
from followups import services
from followups.models import Communication, FollowUp
from tests.factories import CustomerFactory, FollowUpFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def customer(sales1):
    return CustomerFactory(owner=sales1, name="华东精密仪器")


def log(user, customer, **fields):
    return services.log_communication(
        actor=user,
        customer=customer,
        **{"channel": "phone", "subject": "Price", "content": "Asked for a quote.", **fields},
    )


def schedule(user, customer, **fields):
    return services.schedule_followup(
        actor=user,
        customer=customer,
        **{"subject": "Send the quote", "due_at": timezone.now() + timedelta(days=1), **fields},
    )


def errors_of(excinfo):
    return excinfo.value.message_dict


# --- logging a communication --------------------------------------------------------------


def test_logging_a_communication_records_who_when_and_what(sales1, customer):
    Customer.objects.filter(pk=customer.pk).update(updated_at=timezone.now() - timedelta(days=30))
    earlier = timezone.now() - timedelta(hours=2)
    communication = log(
        sales1, customer, occurred_at=earlier, direction="in", subject="  Price   talk ", outcome="Interested"
    )

    communication.refresh_from_db()
    assert communication.staff == sales1
    assert communication.customer == customer
    assert communication.occurred_at == earlier
    assert communication.direction == "in"
    assert communication.subject == "Price talk"
    record = communication.history.get()
    assert record.history_type == "+" and record.history_user == sales1
    customer.refresh_from_db()
    assert customer.updated_at > timezone.now() - timedelta(minutes=1)


def test_logging_with_a_followup_creates_both_linked_in_one_step(sales1, sales2, customer):
    due = timezone.now() + timedelta(days=1)
    communication = log(sales1, customer, followup={"subject": "", "due_at": due, "assignee": sales2})

    followup = FollowUp.objects.get()
    assert followup.communication == communication
    assert followup.subject == communication.subject  # an empty follow-up subject reuses the communication's
    assert followup.assignee == sales2 and followup.created_by == sales1
    assert followup.due_at == due and followup.status == FollowUp.Status.OPEN


@pytest.mark.parametrize("content", ["", "   \n  "])
def test_empty_content_is_a_field_error_and_writes_nothing(sales1, customer, content):
    with pytest.raises(ValidationError) as excinfo:
        log(sales1, customer, content=content, followup={"due_at": timezone.now() + timedelta(days=1)})
    assert errors_of(excinfo) == {"content": ["Write down what was said."]}
    assert not Communication.objects.exists() and not FollowUp.objects.exists()


def test_a_communication_in_the_future_is_refused(sales1, customer):
    with pytest.raises(ValidationError) as excinfo:
        log(sales1, customer, occurred_at=timezone.now() + timedelta(hours=1))
    assert "occurred_at" in errors_of(excinfo)
    assert not Communication.objects.exists()


def test_a_followup_error_refuses_the_communication_too(sales1, customer):
    past = timezone.now() - timedelta(hours=1)
    with pytest.raises(ValidationError) as excinfo:
        log(sales1, customer, followup={"subject": "x" * 201, "due_at": past})
    assert set(errors_of(excinfo)) == {"followup_subject", "followup_due_at"}
    assert not Communication.objects.exists() and not FollowUp.objects.exists()


def test_a_customer_the_user_may_not_see_is_a_field_error(sales1, sales2):
    theirs = CustomerFactory(owner=sales2)
    with pytest.raises(ValidationError) as excinfo:
        log(sales1, theirs)
    assert errors_of(excinfo) == {"customer": ["Choose one of your own customers."]}
    with pytest.raises(ValidationError) as excinfo:
        schedule(sales1, theirs)
    assert set(errors_of(excinfo)) == {"customer"}
    assert not Communication.objects.exists() and not FollowUp.objects.exists()


def test_a_contact_person_of_another_customer_is_refused(sales1, customer):
    other = CustomerFactory(owner=sales1)
    stranger = customer_services.add_contact_person(actor=sales1, customer=other, name="王经理")
    own = customer_services.add_contact_person(actor=sales1, customer=customer, name="李工")

    with pytest.raises(ValidationError) as excinfo:
        log(sales1, customer, contact_person=stranger)
    assert set(errors_of(excinfo)) == {"contact_person"}
    assert log(sales1, customer, contact_person=own).contact_person == own


def test_unknown_links_are_a_programming_error(sales1, customer):
    with pytest.raises(TypeError):
        log(sales1, customer, payment=None)


def test_managers_log_on_any_customer(manager, customer):
    assert log(manager, customer).staff == manager


# --- scheduling and changing follow-ups -----------------------------------------------------


def test_scheduling_a_followup_due_in_the_past_is_refused(sales1, customer):
    with pytest.raises(ValidationError) as excinfo:
        schedule(sales1, customer, due_at=timezone.now() - timedelta(minutes=2))
    assert errors_of(excinfo) == {"due_at": ["This time has passed: choose a time from now on."]}
    assert not FollowUp.objects.exists()


def test_a_time_within_the_current_minute_has_not_passed(sales1, customer):
    this_minute = timezone.now().replace(second=0, microsecond=0)
    assert schedule(sales1, customer, due_at=this_minute).due_at == this_minute


def test_scheduling_checks_every_field_at_once(sales1, customer):
    inactive = UserFactory(is_active=False)
    with pytest.raises(ValidationError) as excinfo:
        schedule(sales1, customer, subject="  ", due_at=None, assignee=inactive, priority="whenever")
    assert set(errors_of(excinfo)) == {"subject", "due_at", "assignee", "priority"}
    assert not FollowUp.objects.exists()


def test_scheduling_defaults_to_the_acting_user_and_records_history(sales1, customer):
    followup = schedule(sales1, customer, notes="  bring the catalogue ")
    assert followup.assignee == sales1 and followup.created_by == sales1
    assert followup.notes == "bring the catalogue"
    assert followup.history.get().history_user == sales1


def test_rescheduling_and_postponing(sales1, customer):
    followup = schedule(sales1, customer, due_at=timezone.now() + timedelta(hours=2))
    later = timezone.now() + timedelta(days=3)
    services.reschedule_followup(actor=sales1, followup=followup, due_at=later)
    assert FollowUp.objects.get().due_at == later

    due = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=1), time(15, 30)))
    services.reschedule_followup(actor=sales1, followup=followup, due_at=due)
    today = timezone.localdate()
    monday = today + timedelta(days=7 - today.weekday())
    services.postpone_followup(actor=sales1, followup=followup, day=monday)
    followup.refresh_from_db()
    assert timezone.localtime(followup.due_at).date() == monday
    assert timezone.localtime(followup.due_at).time() == time(15, 30)
    assert followup.history.first().history_change_reason == "rescheduled"


def test_rescheduling_into_the_past_is_refused(sales1, customer):
    followup = schedule(sales1, customer)
    before = followup.due_at
    with pytest.raises(ValidationError) as excinfo:
        services.postpone_followup(
            actor=sales1, followup=followup, day=timezone.localdate() - timedelta(days=1)
        )
    assert set(errors_of(excinfo)) == {"due_at"}
    assert FollowUp.objects.get().due_at == before


def test_reassigning(sales1, sales2, customer):
    followup = schedule(sales1, customer)
    services.reassign_followup(actor=sales1, followup=followup, assignee=sales2)
    assert FollowUp.objects.get().assignee == sales2
    with pytest.raises(ValidationError):
        services.reassign_followup(actor=sales1, followup=followup, assignee=UserFactory(is_active=False))
    assert FollowUp.objects.get().assignee == sales2


def test_completing_needs_a_result_and_stamps_who_and_when(sales1, customer):
    followup = schedule(sales1, customer)
    with pytest.raises(ValidationError) as excinfo:
        services.complete_followup(actor=sales1, followup=followup, result="   ")
    assert errors_of(excinfo) == {"result": ["Write down the result."]}
    assert FollowUp.objects.get().status == FollowUp.Status.OPEN

    services.complete_followup(actor=sales1, followup=followup, result=" Quote sent; they reply Friday. ")
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.DONE
    assert followup.result == "Quote sent; they reply Friday."
    assert followup.completed_by == sales1
    assert followup.completed_at > timezone.now() - timedelta(minutes=1)
    latest = followup.history.first()
    assert latest.history_change_reason == "completed" and latest.history_user == sales1


def test_a_closed_followup_cannot_be_changed_again(sales1, sales2, customer):
    followup = schedule(sales1, customer)
    services.complete_followup(actor=sales1, followup=followup, result="Done")
    stale = FollowUp.objects.get()
    stale.status = FollowUp.Status.OPEN  # another user's stale copy, read before it was completed
    for action in (
        lambda: services.complete_followup(actor=sales1, followup=stale, result="Again"),
        lambda: services.cancel_followup(actor=sales1, followup=stale),
        lambda: services.reassign_followup(actor=sales1, followup=stale, assignee=sales2),
        lambda: services.reschedule_followup(
            actor=sales1, followup=stale, due_at=timezone.now() + timedelta(days=2)
        ),
    ):
        with pytest.raises(ValidationError, match="no longer open: it is done"):
            action()
    followup.refresh_from_db()
    assert followup.result == "Done" and followup.assignee == sales1


def test_cancelling_keeps_the_reason(sales1, customer):
    followup = schedule(sales1, customer)
    services.cancel_followup(actor=sales1, followup=followup, reason="They bought elsewhere")
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.CANCELLED
    assert followup.result == "They bought elsewhere" and followup.completed_at is None


def test_who_may_act_on_a_followup(sales1, sales2, manager, customer):
    other_sales = UserFactory(groups=[Group.objects.get(name="Sales")])
    mine = schedule(sales1, customer)
    with pytest.raises(PermissionDenied):
        services.complete_followup(actor=other_sales, followup=mine, result="Not mine")
    with pytest.raises(PermissionDenied):
        services.cancel_followup(actor=other_sales, followup=mine)
    assert FollowUp.objects.get().is_open

    delegated = schedule(sales1, customer, assignee=sales2)
    services.complete_followup(actor=sales2, followup=delegated, result="Done by the assignee")
    services.reassign_followup(actor=manager, followup=mine, assignee=sales2)
    assert FollowUp.objects.get(pk=delegated.pk).completed_by == sales2
    assert FollowUp.objects.get(pk=mine.pk).assignee == sales2


def test_the_database_refuses_a_done_followup_without_a_result(sales1):
    followup = FollowUpFactory(customer__owner=sales1)
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.filter(pk=followup.pk).update(status="done", completed_at=timezone.now())


def test_merging_customers_moves_their_communications_and_followups(sales1, customer):
    duplicate = CustomerFactory(owner=sales1)
    communication = log(sales1, duplicate, followup={"due_at": timezone.now() + timedelta(days=1)})
    customer_services.merge_customers(actor=sales1, survivor=customer, merged=duplicate)
    assert Communication.objects.get(pk=communication.pk).customer == customer
    assert FollowUp.objects.get().customer == customer
