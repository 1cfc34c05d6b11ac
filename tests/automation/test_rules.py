"""Rules: what each trigger matches, acting once per occurrence, the traces they leave."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Membership, Team
from automation import rules, services
from automation.models import Notification, OutgoingEmail, RuleFiring
from crm.timeline import customer_timeline
from followups.models import FollowUp
from opportunities import services as opportunity_services
from orders import services as order_services
from orders.models import Order
from tests.conftest import POSTGRESQL_ONLY
from tests.factories import (
    CommunicationFactory,
    ContactMethodFactory,
    CustomerFactory,
    FollowUpFactory,
    OpportunityFactory,
    UserFactory,
)
from tests.orders.builders import advance, make_order

pytestmark = pytest.mark.django_db


def rule(**fields):
    fields = {"name": "Rule", "action": "followup", "subject_en": "Check {customer}", **fields}
    return services.save_rule(actor=None, **fields)


@pytest.fixture
def customer(sales1):
    customer = CustomerFactory(owner=sales1, name="华东精密仪器")
    ContactMethodFactory(customer=customer, type="email", value="buyer@example.com")
    return customer


def test_order_confirmed_emails_the_customer_once(sales1, customer, settings):
    settings.LANGUAGE_CODE = "en"
    confirmed = rule(
        name="Confirmation",
        trigger="order_transition",
        status="confirmed",
        action="email",
        language="en",
        subject_en="Order {order_number} confirmed",
        body_en="Dear {customer}, your order {order_number} of {order_total} {currency} is confirmed.",
    )
    order = make_order(sales1, customer)
    assert rules.pending_matches(confirmed) == []  # created, not confirmed
    order = advance(sales1, order, "confirmed")

    (result,) = rules.run_rules()
    assert (result.matched, result.fired) == (1, 1)
    (result,) = rules.run_rules()  # running again acts on nothing twice
    assert (result.matched, result.fired) == (0, 0)

    email = OutgoingEmail.objects.get()
    assert (email.to, email.subject, email.customer, email.order, email.rule) == (
        "buyer@example.com",
        f"Order {order.number} confirmed",
        customer,
        order,
        confirmed,
    )
    assert email.body == f"Dear 华东精密仪器, your order {order.number} of 300.00 CNY is confirmed."
    firing = RuleFiring.objects.get()
    assert firing.outcome == {"email": email.pk, "to": "buyer@example.com"}
    entries = customer_timeline(customer).entries
    assert any(entry.kind == "rule_firing" and entry.item == firing for entry in entries)


def test_events_before_the_rule_existed_are_history(sales1, customer):
    advance(sales1, make_order(sales1, customer), "confirmed")
    later = rule(trigger="order_transition", status="confirmed")
    assert rules.pending_matches(later) == []


def test_an_order_stuck_in_its_status_gets_a_follow_up_for_its_owner_once_per_stay(
    sales1, customer, settings
):
    settings.LANGUAGE_CODE = "en"
    stuck = rule(trigger="order_stuck", status="created", threshold=48, subject_en="Chase {order_number}")
    order = make_order(sales1, customer)
    assert rules.pending_matches(stuck) == []
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=49))
    rules.run_rules()
    rules.run_rules()
    followup = FollowUp.objects.get()
    assert (followup.subject, followup.assignee, followup.order_id) == (
        f"Chase {order.number}",
        sales1,
        order.pk,
    )
    assert "Created by automation rule Rule." in followup.notes


def test_a_silent_active_customer_gets_one_follow_up_until_talked_to_again(sales1, sales2, customer):
    silent = rule(trigger="customer_silent", threshold=30, assignee="user", user=sales2)
    CommunicationFactory(customer=customer, occurred_at=timezone.now() - timedelta(days=40))
    CommunicationFactory(customer=CustomerFactory(owner=sales1), occurred_at=timezone.now())  # talked to
    CustomerFactory(owner=sales1, lifecycle_stage="lost")  # not active
    assert [m.record for m in rules.pending_matches(silent)] == [customer]
    rules.run_rules()
    assert FollowUp.objects.get().assignee == sales2  # a named user
    rules.run_rules()
    assert FollowUp.objects.count() == 1
    # Talked to, then silent again: a new occurrence.
    CommunicationFactory(customer=customer, occurred_at=timezone.now() - timedelta(days=31))
    rules.run_rules()
    assert FollowUp.objects.count() == 2


def test_conditions_narrow_the_matches(sales1, sales2, customer):
    OpportunityFactory(
        customer=customer,
        amount=Decimal("500.00"),
        expected_close_date=timezone.localdate() - timedelta(days=1),
    )
    big = OpportunityFactory(
        customer=customer,
        amount=Decimal("5000.00"),
        expected_close_date=timezone.localdate() - timedelta(days=1),
    )
    OpportunityFactory(customer=customer, amount=Decimal("9000.00"))  # not overdue
    overdue = rule(
        trigger="opportunity_overdue",
        min_amount=Decimal("1000"),
        action="notify",
        subject_en="{opportunity} is overdue",
    )
    assert [m.record for m in rules.pending_matches(overdue)] == [big]
    services.save_rule(actor=None, rule=overdue, owner=sales2)
    assert rules.pending_matches(overdue) == []


def test_an_overdue_follow_up_notifies_its_assignee(sales1, customer):
    overdue = FollowUpFactory(
        customer=customer, subject="Send the quote", due_at=timezone.now() - timedelta(days=3)
    )
    FollowUpFactory(
        customer=customer, due_at=timezone.now() - timedelta(hours=2)
    )  # overdue by less than N days
    notifying = rule(
        trigger="followup_overdue", threshold=2, action="notify", subject_en="Overdue: {followup}"
    )
    (result,) = rules.run_rules()
    assert result.fired == 1
    notification = Notification.objects.get()
    assert (notification.user, notification.message) == (sales1, "Overdue: Send the quote")
    assert notification.url == overdue.get_absolute_url()
    assert RuleFiring.objects.get().rule == notifying


def test_opportunities_won_and_lost_are_read_from_their_events(sales1, customer):
    won_rule = rule(trigger="opportunity_won", subject_en="Thank {customer}")
    lost_rule = rule(trigger="opportunity_lost", subject_en="Ask why")
    opportunity = OpportunityFactory(customer=customer)
    opportunity_services.mark_lost(actor=sales1, opportunity=opportunity, reason="Too expensive")
    rules.run_rules()
    assert list(FollowUp.objects.values_list("subject", flat=True)) == ["Ask why"]
    assert RuleFiring.objects.get().rule == lost_rule
    assert rules.pending_matches(won_rule) == []


def test_a_dry_run_changes_nothing(sales1, customer):
    stuck = rule(trigger="order_stuck", status="created", threshold=1)
    order = make_order(sales1, customer)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=2))
    out = StringIO()
    call_command("run_automations", "--dry-run", "--rule", str(stuck.pk), stdout=out)
    assert "would act on 1" in out.getvalue() and f"order {order.pk}" in out.getvalue()
    assert not RuleFiring.objects.exists() and not FollowUp.objects.exists()
    call_command("run_automations", stdout=out)
    assert "acted 1 times" in out.getvalue() and FollowUp.objects.count() == 1


def test_the_command_refuses_an_unknown_rule():
    for value in ("999", "x", "1" * 30):
        with pytest.raises(CommandError, match="No automation rule"):
            call_command("run_automations", "--rule", value, stdout=StringIO())


def test_a_disabled_rule_does_not_run_unless_named(sales1, customer):
    stuck = rule(trigger="order_stuck", status="created", threshold=1, enabled=False)
    order = make_order(sales1, customer)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert rules.run_rules() == []
    assert rules.run_rules(rule_id=stuck.pk)[0].fired == 1


def test_a_customer_without_email_is_skipped_once(sales1):
    customer = CustomerFactory(owner=sales1)
    emailing = rule(
        trigger="order_transition", status="confirmed", action="email", subject_en="Hi", body_en="…"
    )
    advance(sales1, make_order(sales1, customer), "confirmed")
    rules.run_rules()
    rules.run_rules()
    assert not OutgoingEmail.objects.exists()
    assert RuleFiring.objects.get(rule=emailing).outcome == {"skipped": "no email"}


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_act_once(sales1, customer, run_together):
    stuck = rule(trigger="order_stuck", status="created", threshold=1)
    orders = [make_order(sales1, customer) for _ in range(3)]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(created_at=timezone.now() - timedelta(hours=2))

    def run(barrier):
        matches = rules.pending_matches(stuck)  # both read the same three matches…
        barrier.wait()
        return sum(rules.fire(stuck, match) for match in matches)  # …and both try to act on them

    results = run_together(run, run)
    assert sum(results) == 3, results  # each order acted on by one of them
    assert FollowUp.objects.count() == 3 and RuleFiring.objects.count() == 3


def test_an_approval_request_gets_a_follow_up_for_the_owners_team_lead(sales1, customer, settings):
    """The approval-requested trigger reads the order event; the team-lead assignee is the owner's lead."""
    settings.LANGUAGE_CODE = "en"
    settings.ORDER_APPROVAL_LIMIT = Decimal("100")
    east = Team.objects.create(name="East")
    lead = UserFactory(username="lead_east", groups=[Group.objects.get(name="Team leads")])
    Membership.objects.create(user=lead, team=east)
    Membership.objects.create(user=sales1, team=east)
    asked = rule(trigger="approval_requested", assignee="team_lead", subject_en="Approve {order_number}")
    order = make_order(sales1, customer)
    assert rules.pending_matches(asked) == []  # created, nothing asked yet
    order_services.request_approval(actor=sales1, order=order, note="big customer")

    rules.run_rules()
    rules.run_rules()
    followup = FollowUp.objects.get()
    assert (followup.subject, followup.assignee, followup.order_id) == (
        f"Approve {order.number}",
        lead,
        order.pk,
    )


def test_the_team_lead_assignee_falls_back_to_the_owner_without_a_team(sales1, customer, settings):
    settings.LANGUAGE_CODE = "en"
    rule(trigger="order_stuck", status="created", threshold=1, assignee="team_lead")
    order = make_order(sales1, customer)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=2))
    rules.run_rules()
    assert FollowUp.objects.get().assignee == sales1
