from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from automation.models import AutomationRule, RuleFiring
from crm import timeline
from customers import services as customer_services
from customers.models import Need
from followups import services
from followups.models import Communication, FollowUp
from opportunities import services as opportunity_services
from opportunities.models import OpportunityEvent
from orders.models import OrderEvent
from tests.factories import CommunicationFactory, CustomerFactory, FollowUpFactory, NeedFactory
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db

EVERY_KIND = {
    "communication",
    "followup_scheduled",
    "followup_done",
    "need_raised",
    "need_resolved",
    "customer_change",
    "contact_method_change",
    "contact_person_change",
    "order_event",
    "opportunity_event",
    "rule_firing",
}


def at(minutes_ago):
    return timezone.now() - timedelta(minutes=minutes_ago)


def add_one_of_each(customer, user, minutes_ago):
    """A need raised, an order and an opportunity created, a communication and a follow-up scheduled
    and done about them, a need resolved, a contact method and a contact person added, a field change."""
    order = make_order(user, customer)
    OrderEvent.objects.filter(order=order).update(at=at(minutes_ago + 5.5))
    opportunity = opportunity_services.create_opportunity(
        actor=user, customer=customer, title=f"Deal {minutes_ago}", expected_close_date=timezone.localdate()
    )
    OpportunityEvent.objects.filter(opportunity=opportunity).update(at=at(minutes_ago + 5.25))
    NeedFactory(customer=customer, raised_at=at(minutes_ago + 6), description=f"need {minutes_ago}")
    links = {"order": order, "opportunity": opportunity}
    CommunicationFactory(customer=customer, staff=user, occurred_at=at(minutes_ago + 5), **links)
    followup = FollowUpFactory(customer=customer, assignee=user, **links)
    FollowUp.objects.filter(pk=followup.pk).update(created_at=at(minutes_ago + 4))
    services.complete_followup(actor=user, followup=followup, result="Called back")
    FollowUp.objects.filter(pk=followup.pk).update(completed_at=at(minutes_ago + 3))
    resolved = NeedFactory(customer=customer, raised_at=at(minutes_ago + 7))
    customer_services.resolve_need(actor=user, need=resolved)
    Need.objects.filter(pk=resolved.pk).update(resolved_at=at(minutes_ago + 2))
    method = customer_services.add_contact_method(
        actor=user, customer=customer, type="email", value=f"m{minutes_ago}@x.cn"
    )
    method.history.update(history_date=at(minutes_ago + 1.5))
    person = customer_services.add_contact_person(actor=user, customer=customer, name=f"Person {minutes_ago}")
    person.history.update(history_date=at(minutes_ago + 1.25))
    customer_services.update_customer(actor=user, customer=customer, notes=f"changed {minutes_ago}")
    latest = customer.history.latest("history_id")
    customer.history.filter(history_id=latest.history_id).update(history_date=at(minutes_ago + 1))
    rule, _created = AutomationRule.objects.get_or_create(
        name="Chase", trigger="order_stuck", status="created", threshold=1, action="followup"
    )
    RuleFiring.objects.create(
        rule=rule,
        record_type="order",
        record_id=order.pk,
        occurrence=f"created {minutes_ago}",
        customer=customer,
        action="followup",
        fired_at=at(minutes_ago + 6.5),
        outcome={"followup": followup.pk, "subject": followup.subject},
    )


def keys(page):
    return [(entry.kind, entry.pk) for entry in page.entries]


def test_entries_of_every_kind_newest_first(sales1):
    customer = CustomerFactory(owner=sales1)
    customer.history.update(history_date=at(100))
    add_one_of_each(customer, sales1, 10)

    page = timeline.customer_timeline(customer)
    assert [entry.kind for entry in page.entries] == [
        "customer_change",
        "contact_person_change",
        "contact_method_change",
        "need_resolved",
        "followup_done",
        "followup_scheduled",
        "communication",
        "opportunity_event",
        "order_event",
        "need_raised",
        "rule_firing",
        "need_raised",  # the resolved need, raised earlier
        "customer_change",  # created
    ]
    assert [entry.at for entry in page.entries] == sorted((entry.at for entry in page.entries), reverse=True)
    assert not page.has_more
    change = page.entries[0].item
    assert [(c["old"], c["new"]) for c in change["changes"]] == [("—", "changed 10")]


def test_paging_through_equal_times_skips_and_repeats_nothing(sales1):
    customer = CustomerFactory(owner=sales1)
    same_instant = at(60)
    for _ in range(23):
        CommunicationFactory(customer=customer, staff=sales1, occurred_at=same_instant)
        FollowUpFactory(customer=customer, assignee=sales1)
        NeedFactory(customer=customer, raised_at=same_instant)
    FollowUp.objects.update(created_at=same_instant)
    customer.history.update(history_date=same_instant)

    seen, cursor, pages = [], "", 0
    while True:
        page = timeline.customer_timeline(customer, cursor, page_size=10)
        seen += keys(page)
        pages += 1
        if not page.has_more:
            break
        cursor = page.next_cursor
    expected = sorted(
        [("communication", pk) for pk in Communication.objects.values_list("pk", flat=True)]
        + [("followup_scheduled", pk) for pk in FollowUp.objects.values_list("pk", flat=True)]
        + [("need_raised", pk) for pk in Need.objects.values_list("pk", flat=True)]
        + [("customer_change", customer.history.get().pk)],
        reverse=True,
    )
    assert seen == expected
    assert pages == 7 and len(seen) == len(set(seen)) == 70


def test_a_bad_cursor_gives_the_first_page(sales1):
    customer = CustomerFactory(owner=sales1)
    CommunicationFactory(customer=customer)
    first = keys(timeline.customer_timeline(customer))
    for cursor in ["garbage", "W10", "WyJ4IiwgMSwgMl0", "bnVsbA"]:
        assert keys(timeline.customer_timeline(customer, cursor)) == first


def test_a_field_change_on_the_next_page_still_shows_its_old_value(sales1):
    customer = CustomerFactory(owner=sales1, notes="")
    for index in range(5):
        customer_services.update_customer(actor=sales1, customer=customer, notes=f"v{index}")
    first = timeline.customer_timeline(customer, page_size=2)
    second = timeline.customer_timeline(customer, first.next_cursor, page_size=2)
    changes = [entry.item["changes"][0] for entry in first.entries + second.entries]
    assert [(c["old"], c["new"]) for c in changes] == [("v3", "v4"), ("v2", "v3"), ("v1", "v2"), ("v0", "v1")]


def test_only_the_customers_own_entries(sales1):
    customer, other = CustomerFactory(owner=sales1), CustomerFactory(owner=sales1)
    add_one_of_each(other, sales1, 5)
    assert [entry.kind for entry in timeline.customer_timeline(customer).entries] == ["customer_change"]


def test_a_source_is_one_registration_away(sales1, monkeypatch):
    """How the orders and opportunities apps add their events: a queryset, a time field, a template."""
    monkeypatch.setattr(timeline, "_sources", dict(timeline._sources))
    customer = CustomerFactory(owner=sales1)
    FollowUpFactory(customer=customer, due_at=at(-60))
    timeline.register(
        timeline.Source(
            "followup_due", "followups/timeline/followup_scheduled.html", FollowUp.objects.all(), "due_at"
        )
    )
    assert "followup_due" in [entry.kind for entry in timeline.customer_timeline(customer).entries]
    with pytest.raises(ImproperlyConfigured):
        timeline.register(timeline.Source("followup_due", "x.html", FollowUp.objects.all(), "due_at"))


def test_the_registered_sources(sales1):
    assert {source.kind for source in timeline.sources()} == EVERY_KIND


def timeline_url(customer, cursor=""):
    return reverse("customers:timeline", args=[customer.pk]) + (f"?cursor={cursor}" if cursor else "")


def test_the_timeline_costs_a_fixed_number_of_queries(sales_client, sales1, count_queries):
    customer = CustomerFactory(owner=sales1)
    customer_services.add_contact_person(actor=sales1, customer=customer, name="李工")
    add_one_of_each(customer, sales1, 500)
    few = count_queries(sales_client, timeline_url(customer), HTTP_HX_REQUEST="true")
    kinds = {entry.kind for entry in few.response.context["timeline"].entries}
    assert kinds == EVERY_KIND

    for index in range(30):
        add_one_of_each(customer, sales1, 400 - index * 10)
        CommunicationFactory(customer=customer, staff=sales1, occurred_at=at(index), contact_person=None)
    many = count_queries(sales_client, timeline_url(customer), HTTP_HX_REQUEST="true")
    assert many == few
    page = many.response.context["timeline"]
    assert page.has_more and len(page.entries) == timeline.PAGE_SIZE
    later = count_queries(sales_client, timeline_url(customer, page.next_cursor), HTTP_HX_REQUEST="true")
    assert later == few
    assert b"timeline-more" in later.response.content
    # Session, the user with their roles, customer, then one query per source (a history's records and
    # those before them included), needs raised and resolved in one, follow-ups scheduled and done in one.
    assert few == 3 + len(EVERY_KIND) - 2


def test_communication_and_followup_entries_name_their_order_and_opportunity(sales_client, sales1):
    customer = CustomerFactory(owner=sales1)
    add_one_of_each(customer, sales1, 10)
    order, opportunity = customer.orders.get(), customer.opportunities.get()
    response = sales_client.get(timeline_url(customer), HTTP_HX_REQUEST="true")
    entries = response.content.decode().split('<li class="timeline-entry"')[1:]
    linked = [entry for entry in entries if 'data-testid="record-links"' in entry]
    assert [entry.split('"')[1] for entry in linked] == [
        "followup_done",
        "followup_scheduled",
        "communication",
    ]
    for entry in linked:
        assert f'<a href="{order.get_absolute_url()}">{order.number}</a>' in entry
        assert f'<a href="{opportunity.get_absolute_url()}">{opportunity.title}</a>' in entry
