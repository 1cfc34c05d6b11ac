"""Communications and follow-ups about an order or an opportunity: the links, checked by the services,
offered by the forms, shown on the record's page and in the lists, and tested as an attacker would."""

import csv
import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from followups import services
from followups.forms import LINK_CHOICES_LIMIT, CommunicationForm, quick_add_context
from followups.models import Communication, FollowUp
from followups.selectors import LINKED_LIMIT
from opportunities import services as opportunity_services
from opportunities.models import Opportunity
from tests.conftest import shown_customer_page, shown_page
from tests.factories import CommunicationFactory, CustomerFactory, FollowUpFactory, OpportunityFactory
from tests.followups.test_pages import communication_data, minute_input
from tests.followups.test_services import log, schedule
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db

NOT_THE_CUSTOMERS = "Choose one of this customer's records."


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def customer(sales1):
    return CustomerFactory(owner=sales1, name="华东精密仪器")


def new_opportunity(user, customer, title="Sensors for line 3"):
    return opportunity_services.create_opportunity(
        actor=user,
        customer=customer,
        title=title,
        expected_close_date=timezone.localdate() + timedelta(days=30),
    )


@pytest.fixture
def records(sales1, customer):
    """An order and an opportunity of the customer."""
    return make_order(sales1, customer), new_opportunity(sales1, customer)


@pytest.fixture
def theirs(sales2):
    """sales2's customer with an order and an opportunity that sales1 must never reach."""
    customer = CustomerFactory(owner=sales2, name="Secret Trading Ltd")
    return make_order(sales2, customer), new_opportunity(sales2, customer, title="Secret deal")


def nothing_written():
    return not Communication.objects.exists() and not FollowUp.objects.exists()


# --- the services ----------------------------------------------------------------------------


def test_a_communication_and_its_followup_are_about_the_order_and_the_opportunity(sales1, customer, records):
    order, opportunity = records
    communication = log(
        sales1,
        customer,
        order=order,
        opportunity=opportunity,
        followup={"due_at": timezone.now() + timedelta(days=1)},
    )
    communication.refresh_from_db()
    assert (communication.order, communication.opportunity) == (order, opportunity)
    followup = FollowUp.objects.get()
    assert (followup.order, followup.opportunity, followup.communication) == (
        order,
        opportunity,
        communication,
    )
    # The field history keeps the links.
    assert communication.history.get().order_id == order.pk
    assert followup.history.get().opportunity_id == opportunity.pk


def test_a_followup_is_scheduled_about_an_order(sales1, customer, records):
    order, _opportunity = records
    followup = schedule(sales1, customer, order=order)
    assert FollowUp.objects.get(order=order) == followup and followup.opportunity is None


@pytest.mark.parametrize("write", [log, schedule])
@pytest.mark.parametrize("link", ["order", "opportunity"])
def test_a_record_of_another_customer_is_a_field_error_and_writes_nothing(sales1, customer, write, link):
    other = CustomerFactory(owner=sales1)
    record = make_order(sales1, other) if link == "order" else new_opportunity(sales1, other)
    with pytest.raises(ValidationError) as excinfo:
        write(sales1, customer, **{link: record})
    assert excinfo.value.message_dict == {link: [NOT_THE_CUSTOMERS]}
    assert nothing_written()


def test_a_wrong_link_refuses_the_followup_logged_with_it_too(sales1, customer, theirs):
    order, _opportunity = theirs
    with pytest.raises(ValidationError) as excinfo:
        log(sales1, customer, order=order, followup={"due_at": timezone.now() + timedelta(days=1)})
    assert set(excinfo.value.message_dict) == {"order"}
    assert nothing_written()


def test_a_record_the_user_does_not_see_is_refused_even_of_the_same_customer(
    sales1, sales2, manager, customer, monkeypatch
):
    """Were opportunities seen by their own owner only, a link would still check what the user sees."""
    opportunity = OpportunityFactory(customer=customer, owner=sales2)
    monkeypatch.setattr(type(Opportunity.objects.all()), "owner_path", "owner")
    with pytest.raises(ValidationError) as excinfo:
        log(sales1, customer, opportunity=opportunity)
    assert set(excinfo.value.message_dict) == {"opportunity"}
    assert nothing_written()
    assert log(manager, customer, opportunity=opportunity).opportunity == opportunity


def test_deleting_an_opportunity_keeps_what_was_said_about_it(sales1, customer, records):
    _order, opportunity = records
    communication = log(sales1, customer, opportunity=opportunity)
    followup = schedule(sales1, customer, opportunity=opportunity)
    Opportunity.objects.filter(pk=opportunity.pk).delete()
    communication.refresh_from_db()
    followup.refresh_from_db()
    assert communication.opportunity is None and followup.opportunity is None


# --- the forms -------------------------------------------------------------------------------


def test_the_forms_offer_only_the_customers_records(sales_client, sales1, customer, records, theirs):
    order, opportunity = records
    other = CustomerFactory(owner=sales1)
    other_order, other_opportunity = make_order(sales1, other), new_opportunity(sales1, other, "Other deal")
    content = shown_customer_page(sales_client, customer)
    for tab in ("communication", "followup"):
        assert f'id="{tab}_order"' in content and f'id="{tab}_opportunity"' in content
    assert order.number in content and opportunity.title in content
    for stranger in (other_order.number, other_opportunity.title, theirs[0].number, theirs[1].title):
        assert stranger not in content


def test_the_customer_pages_two_forms_read_each_kind_of_record_once(sales1, customer, records):
    with CaptureQueriesContext(connection) as queries:
        context = quick_add_context(sales1, customer)
    for form in (context["communication_form"], context["followup_form"]):
        assert len(form.fields["order"].choices) == len(form.fields["opportunity"].choices) == 2
    for table in ("orders_order", "opportunities_opportunity", "customers_contactperson"):
        assert len([q for q in queries if f'FROM "{table}"' in q["sql"]]) == 1, table


def test_a_customer_without_orders_or_opportunities_gets_no_fields_for_them(sales_client, customer):
    content = sales_client.get(reverse("followups:log", args=[customer.pk])).content.decode()
    assert 'name="order"' not in content and 'name="opportunity"' not in content


def test_the_link_offers_the_newest_records_and_the_one_asked_for(sales1, customer):
    opportunities = [
        OpportunityFactory(customer=customer, title=f"Deal {index}")
        for index in range(LINK_CHOICES_LIMIT + 2)
    ]
    oldest, newest = opportunities[0], opportunities[-1]
    offered = [
        option.data["value"] for option in CommunicationForm(customer=customer, user=sales1)["opportunity"]
    ]
    assert len(offered) == LINK_CHOICES_LIMIT + 1  # and the empty choice
    assert offered[1] == newest.pk and oldest.pk not in offered
    form = CommunicationForm(customer=customer, user=sales1, initial={"opportunity": str(oldest.pk)})
    assert oldest.pk in [option.data["value"] for option in form["opportunity"]]


def test_the_quick_add_page_starts_linked_and_returns_where_it_came_from(sales_client, customer, records):
    order, opportunity = records
    url = reverse("followups:log", args=[customer.pk]) + f"?order={order.pk}&next={order.get_absolute_url()}"
    form = sales_client.get(url).context["form"]
    assert form["order"].value() == str(order.pk)
    content = sales_client.get(url).content.decode()
    assert f'href="{order.get_absolute_url()}">Cancel' in content

    response = sales_client.post(url, communication_data(order=order.pk))
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert Communication.objects.get().order == order

    url = reverse("followups:schedule", args=[customer.pk])
    query = f"?opportunity={opportunity.pk}&next={opportunity.get_absolute_url()}"
    assert sales_client.get(url + query).context["form"]["opportunity"].value() == str(opportunity.pk)
    due = minute_input(timezone.now() + timedelta(days=1))
    response = sales_client.post(
        url + query,
        {
            "subject": "Demo",
            "due_at": due,
            "assignee": customer.owner_id,
            "priority": "normal",
            "opportunity": opportunity.pk,
        },
    )
    assert response["Location"] == opportunity.get_absolute_url()
    assert FollowUp.objects.get().opportunity == opportunity


def test_the_quick_add_page_never_returns_to_another_site(sales_client, customer):
    url = reverse("followups:log", args=[customer.pk]) + "?next=https://evil.example.com/"
    assert sales_client.post(url, communication_data())["Location"] == customer.get_absolute_url()


# --- the attacker: sales1 posting the ids of sales2's records ----------------------------------


@pytest.mark.parametrize("url_name", ["followups:log", "followups:schedule"])
@pytest.mark.parametrize("htmx", [True, False])
def test_posting_someone_elses_order_or_opportunity_is_a_field_error(
    sales_client, customer, theirs, url_name, htmx
):
    order, opportunity = theirs
    data = communication_data(
        subject="Hijack",
        due_at=minute_input(timezone.now() + timedelta(days=1)),
        assignee=customer.owner_id,
        priority="normal",
        order=order.pk,
        opportunity=opportunity.pk,
    )
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = sales_client.post(reverse(url_name, args=[customer.pk]), data, **headers)
    assert response.status_code == 200
    tab = "communication" if url_name == "followups:log" else "followup"
    form = response.context[f"{tab}_form"] if htmx else response.context["form"]
    assert form.errors["order"] == [NOT_THE_CUSTOMERS] and form.errors["opportunity"] == [NOT_THE_CUSTOMERS]
    content = response.content.decode()
    assert order.number not in content and "Secret deal" not in content
    assert nothing_written()


def test_the_records_pages_and_their_lists_are_closed_to_others(sales_client, sales1, theirs):
    order, opportunity = theirs
    FollowUpFactory(customer=order.customer, assignee=sales1, subject="Delegated", order=order)
    for url in (order.get_absolute_url(), opportunity.get_absolute_url()):
        assert sales_client.get(url).status_code == 404
    for url_name in ("followups:index", "followups:communications"):
        for link, record in (("order", order), ("opportunity", opportunity)):
            response = sales_client.get(reverse(url_name) + f"?{link}={record.pk}&status=")
            assert response.status_code == 200 and list(response.context["page"].items) == []
            assert order.number not in response.content.decode()
    url = reverse("followups:log", args=[order.customer_id]) + f"?order={order.pk}"
    assert sales_client.get(url).status_code == 404


# --- the record's page: its card -------------------------------------------------------------


def linked_rows(sales1, customer, count, **link):
    for index in range(count):
        CommunicationFactory(
            customer=customer,
            subject=f"Call {index}",
            occurred_at=timezone.now() - timedelta(hours=count - index),
            **link,
        )
        FollowUpFactory(customer=customer, assignee=sales1, subject=f"Task {index}", **link)


@pytest.mark.parametrize("link", ["order", "opportunity"])
def test_the_records_page_shows_its_newest_communications_and_followups(
    sales_client, sales1, customer, records, link
):
    record = records[0] if link == "order" else records[1]
    CommunicationFactory(customer=customer, subject="About nothing in particular")
    linked_rows(sales1, customer, LINKED_LIMIT + 2, **{link: record})
    response = sales_client.get(reverse("followups:linked", args=[link, record.pk]), HTTP_HX_REQUEST="true")
    card = response.context["card"]
    assert [c.subject for c in card.communications] == [f"Call {i}" for i in range(LINKED_LIMIT + 1, 1, -1)]
    assert [f.subject for f in card.followups] == [f"Task {i}" for i in range(LINKED_LIMIT + 1, 1, -1)]
    content = response.content.decode()
    assert "About nothing in particular" not in content
    assert f'href="/followups/communications/?{link}={record.pk}"' in content
    assert f'href="/followups/?{link}={record.pk}&amp;status="' in content
    log_url = reverse("followups:log", args=[customer.pk])
    assert f"{log_url}?{link}={record.pk}&amp;next=" in content
    assert 'data-testid="linked-schedule"' in content


def test_without_links_the_card_says_so_and_offers_no_see_all(sales_client, records):
    content = shown_page(sales_client, records[0].get_absolute_url())
    assert "None yet." in content and "See all" not in content


def test_the_lists_narrow_to_one_record(sales_client, sales1, customer, records):
    order, opportunity = records
    done = schedule(sales1, customer, order=order, subject="Done already")
    services.complete_followup(actor=sales1, followup=done, result="Shipped")
    schedule(sales1, customer, order=order, subject="Check delivery")
    schedule(sales1, customer, subject="Unrelated")
    log(sales1, customer, opportunity=opportunity, subject="Demo talk")
    log(sales1, customer, subject="Other talk")

    response = sales_client.get(reverse("followups:index") + f"?order={order.pk}&status=")
    assert [f.subject for f in response.context["page"].items] == ["Done already", "Check delivery"]
    content = response.content.decode()
    assert 'data-testid="linked-filter"' in content and order.number in content
    assert f'name="order" value="{order.pk}"' in content  # kept when other filters are applied
    response = sales_client.get(reverse("followups:communications") + f"?opportunity={opportunity.pk}")
    assert [c.subject for c in response.context["page"].items] == ["Demo talk"]

    response = sales_client.get(reverse("followups:export") + f"?format=csv&order={order.pk}&status=")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][-2:] == ["Order", "Opportunity"]
    assert {row[-2] for row in rows[1:]} == {order.number}


def test_lists_and_pages_name_the_record_and_link_it_for_those_who_may_open_it(
    sales_client, sales1, sales2, records, theirs
):
    order, _opportunity = records
    mine = schedule(sales1, order.customer, order=order, subject="Mine")
    their_order, _their_opportunity = theirs
    schedule(sales2, their_order.customer, order=their_order, subject="Delegated", assignee=sales1)

    content = sales_client.get(reverse("followups:index")).content.decode()
    assert f'<a href="{order.get_absolute_url()}">{order.number}</a>' in content
    assert their_order.number in content and their_order.get_absolute_url() not in content
    content = sales_client.get(mine.get_absolute_url()).content.decode()
    assert f'<a href="{order.get_absolute_url()}">{order.number}</a>' in content
