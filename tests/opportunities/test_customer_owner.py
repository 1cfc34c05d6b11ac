"""Each opportunity, follow-up and order keeps its customer's owner (`customer_owner`, kept by the
database's triggers), and visibility and the board read it: whatever way a customer's owner or a
record's customer changes, the copy follows, and what a user sees is what the rule "their records, or
records on their customers" says."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from customers import services as customer_services
from customers.models import Customer
from opportunities import selectors
from opportunities.models import Opportunity
from orders.models import Order
from tests.factories import CustomerFactory, FollowUpFactory, OpportunityFactory, UserFactory
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db


def copied_owner(record):
    return type(record).objects.values_list("customer_owner", flat=True).get(pk=record.pk)


@pytest.mark.parametrize(
    "make",
    [
        lambda customer, user: OpportunityFactory(customer=customer, owner=user),
        lambda customer, user: FollowUpFactory(customer=customer, assignee=user),
        lambda customer, user: make_order(None, customer, owner=user),
    ],
    ids=["opportunity", "follow-up", "order"],
)
def test_the_copy_follows_every_way_a_customer_or_its_owner_changes(make, sales1, sales2, manager):
    mine, theirs = CustomerFactory(owner=sales1), CustomerFactory(owner=sales2)
    record = make(mine, sales2)
    records = type(record).objects.filter(pk=record.pk)
    assert copied_owner(record) == sales1.pk  # added: the customer's owner, not the record's user
    records.update(customer=theirs)
    assert copied_owner(record) == sales2.pk  # moved to another customer
    records.update(customer_owner=manager)
    assert copied_owner(record) == sales2.pk  # a wrong copy cannot be written
    record.refresh_from_db()
    record.save()
    assert copied_owner(record) == sales2.pk
    customer_services.reassign_owner(actor=manager, customers=[theirs], new_owner=manager)
    assert copied_owner(record) == manager.pk  # the customer given to someone else, by the service
    Customer.objects.filter(pk=theirs.pk).update(owner=sales1)
    assert copied_owner(record) == sales1.pk  # or by a bulk update
    assert record in type(record).objects.visible_to(sales1)
    assert record in type(record).objects.visible_to(sales2)  # still the record's own user's
    outsider = UserFactory(groups=[Group.objects.get(name="Sales")])
    assert record not in type(record).objects.visible_to(outsider)


def test_a_merge_moves_the_deals_with_their_customer_owner(sales1, sales2, manager):
    survivor, merged = CustomerFactory(owner=sales1), CustomerFactory(owner=sales2)
    deal = OpportunityFactory(customer=merged)
    order = make_order(None, merged, owner=sales2)
    customer_services.merge_customers(actor=manager, survivor=survivor, merged=merged)
    assert copied_owner(deal) == sales1.pk and copied_owner(order) == sales1.pk
    assert deal in Opportunity.objects.visible_to(sales1)
    assert order in Order.objects.visible_to(sales1)


def test_the_board_counts_and_shows_both_parts_of_what_a_salesperson_sees(sales1, sales2, stages):
    mine, theirs = CustomerFactory(owner=sales1), CustomerFactory(owner=sales2)
    soon = date.today() + timedelta(days=1)
    later = date.today() + timedelta(days=30)

    def qualifying(customer, owner, amount, probability, close):
        return OpportunityFactory(
            customer=customer,
            owner=owner,
            stage=stages["qualify"],
            amount=Decimal(amount),
            probability=probability,
            expected_close_date=close,
        )

    own = [qualifying(customer, sales1, 100, 20, later) for customer in (mine, theirs) for _ in range(15)]
    # Someone else's deal on sales1's customer, closing before all of sales1's own: shown first.
    on_my_customer = qualifying(mine, sales2, 1000, 50, soon)
    OpportunityFactory(customer=theirs, owner=sales2, stage=stages["qualify"], amount=Decimal(7))  # not seen
    columns = {column["stage"].code: column for column in selectors.board(sales1)}
    qualify = columns["qualify"]
    assert qualify["count"] == len(own) + 1
    assert qualify["amount"] == 15 * 2 * Decimal(100) + Decimal(1000)
    assert qualify["weighted"] == (30 * Decimal(100) * 20 + Decimal(1000) * 50) / 100
    cards = qualify["cards"]
    assert cards[0] == on_my_customer
    assert len(cards) == selectors.board_column_size(len(stages))
    assert [card.expected_close_date for card in cards] == sorted(card.expected_close_date for card in cards)
    assert (
        sum(column["count"] for column in columns.values()) == Opportunity.objects.visible_to(sales1).count()
    )
