"""What an attacker or a careless user sends (issue 16, "What was seen"): every request answers
200 or 4xx with the field's message, writes nothing invalid, and rows stored before the rules
(or around them) break no page.
"""

import base64
import importlib
import io
import json
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from customers import views as customer_views
from followups.models import Communication, FollowUp
from opportunities.models import Opportunity, OpportunityLine, Stage
from orders import services as order_services
from orders.models import Order, Payment
from tests.factories import CommunicationFactory, CustomerFactory, FollowUpFactory, ProductFactory
from tests.orders.builders import order_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

HTMX = {"HTTP_HX_REQUEST": "true"}
OUT_OF_RANGE = "Enter a date between 1900-01-01 and 2999-12-31."
HUGE = "99999999999999999999"
YEAR_ONE = "0001-01-01T00:00"


@pytest.fixture
def customer(sales1):
    return CustomerFactory(owner=sales1, name="Hostile Input Ltd")


@pytest.fixture
def client(client):
    """Answers a server error as the user would see it (a 500), instead of raising it in the test."""
    client.raise_request_exception = False
    return client


def cursor(*values):
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


# Forms: a year-1 date, a quantity past the column


def test_a_payment_dated_year_one_is_refused_at_the_field(sales_client, sales1, customer):
    order = order_in("confirmed", sales1, customer)
    data = {"kind": "payment", "amount": "10", "method": "cash", "paid_at": YEAR_ONE}
    for headers in ({}, HTMX):
        response = sales_client.post(reverse("orders:payment_add", args=[order.pk]), data, **headers)
        assert response.status_code == 200
        assert OUT_OF_RANGE in response.content.decode()
    assert not Payment.objects.exists()
    assert sales_client.get(reverse("orders:detail", args=[order.pk])).status_code == 200


def test_a_communication_logged_in_year_one_is_refused_at_the_field(sales_client, customer):
    data = {
        "channel": "phone",
        "direction": "out",
        "occurred_at": YEAR_ONE,
        "subject": "Call",
        "content": "Hi",
    }
    response = sales_client.post(reverse("followups:log", args=[customer.pk]), data, **HTMX)
    assert response.status_code == 200
    assert OUT_OF_RANGE in response.content.decode()
    assert not Communication.objects.exists()


@pytest.mark.parametrize(
    ("url_name", "field", "value"),
    [
        ("followups:schedule", "due_at", "9999-12-31T23:59"),
        ("followups:log", "followup_due_at", "9999-12-31T23:59"),
    ],
)
def test_a_follow_up_due_in_year_9999_is_refused(sales_client, sales1, customer, url_name, field, value):
    data = {
        "channel": "phone",
        "direction": "out",
        "occurred_at": "2026-01-05T10:00",
        "subject": "Call",
        "content": "Hi",
        "schedule_followup": "on",
        "followup_assignee": sales1.pk,
        "assignee": sales1.pk,
        "priority": "normal",
        field: value,
    }
    response = sales_client.post(reverse(url_name, args=[customer.pk]), data, **HTMX)
    assert response.status_code == 200 and OUT_OF_RANGE in response.content.decode()
    assert not FollowUp.objects.exists() and not Communication.objects.exists()


def test_rescheduling_or_postponing_a_follow_up_to_year_9999_is_refused(sales_client, sales1, customer):
    followup = FollowUpFactory(customer=customer, assignee=sales1)
    due = followup.due_at
    for action, data in [
        ("reschedule", {"due_at": "9999-12-31T23:59"}),
        ("postpone", {"to": "day", "day": "9999-12-31"}),
    ]:
        response = sales_client.post(reverse(f"followups:{action}", args=[followup.pk]), data, follow=True)
        assert response.status_code == 200 and OUT_OF_RANGE in response.content.decode()
    followup.refresh_from_db()
    assert followup.due_at == due


def _opportunity_form(customer, stage, **fields):
    data = {
        "customer": customer.pk,
        "customer_search": customer.name,
        "stage": stage.pk,
        "title": "Sensors",
        "expected_close_date": "2027-01-01",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
    }
    return data | fields


def test_an_opportunity_line_of_three_billion_is_refused_at_the_field(sales_client, customer):
    product = ProductFactory()
    data = _opportunity_form(
        customer,
        Stage.objects.open().first(),
        **{
            "lines-0-product": product.pk,
            "lines-0-quantity": "3000000000",
        },
    )
    response = sales_client.post(reverse("opportunities:create"), data)
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 2147483647." in response.content.decode()
    assert not Opportunity.objects.exists() and not OpportunityLine.objects.exists()


def test_an_opportunity_closing_in_year_9999_is_refused(sales_client, customer):
    data = _opportunity_form(customer, Stage.objects.open().first(), expected_close_date="9999-12-31")
    data["lines-TOTAL_FORMS"] = "0"
    response = sales_client.post(reverse("opportunities:create"), data)
    assert response.status_code == 200 and OUT_OF_RANGE in response.content.decode()
    assert not Opportunity.objects.exists()


def test_ids_that_are_no_ids_are_refused_at_the_field(sales_client, customer):
    data = {
        "customer": HUGE,
        "currency": "CNY",
        "discount": "0",
        "tax_rate": "0",
        "payment_method": "bank_transfer",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": "²",
        "lines-0-quantity": "1",
    }
    response = sales_client.post(reverse("orders:create"), data)
    assert response.status_code == 200
    assert "Choose one of your customers." in response.content.decode()
    assert not Order.objects.exists()


# Filters, search boxes, cursors, the calendar


@pytest.mark.parametrize(
    ("url_name", "field"),
    [
        ("customers:index", "created_before"),
        ("customers:export", "created_before"),
        ("orders:index", "created_before"),
        ("orders:index", "confirmed_after"),
        ("orders:export", "created_before"),
        ("followups:index", "due_before"),
        ("followups:export", "due_before"),
        ("followups:communications", "occurred_before"),
        ("followups:communications_export", "occurred_after"),
        ("opportunities:index", "close_before"),
        ("opportunities:export", "close_after"),
    ],
)
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_date_filter_out_of_range_answers_with_its_message(manager_client, url_name, field, day):
    for export_format in ("csv", "xlsx"):
        response = manager_client.get(reverse(url_name), {field: day, "format": export_format})
        text = response.content.decode()
        if url_name.endswith("export"):
            assert response.status_code == 400 and OUT_OF_RANGE in text
        else:
            assert response.status_code == 200 and OUT_OF_RANGE in text


@pytest.mark.parametrize("week", ["0001-01-01", "0001-01-07", "9999-12-31", "1899-12-31"])
def test_the_calendar_at_a_week_out_of_range_shows_this_week_and_says_why(sales_client, week):
    response = sales_client.get(reverse("followups:calendar"), {"week": week})
    assert response.status_code == 200
    assert OUT_OF_RANGE in response.content.decode()
    assert (
        response.context["monday"] <= timezone.localdate() <= response.context["monday"] + timedelta(days=6)
    )


@pytest.mark.parametrize(
    ("url_name", "field"),
    [
        ("search", "q"),
        ("orders:customer_options", "q"),
        ("opportunities:customer_choices", "customer_search"),
        ("customers:duplicates", "name"),
        ("customers:index", "q"),
        ("customers:index", "region"),
        ("customers:export", "q"),
        ("orders:index", "q"),
        ("orders:products", "q"),
        ("opportunities:index", "q"),
        ("followups:index", "customer"),
        ("followups:communications", "customer"),
    ],
)
def test_a_nul_byte_in_a_search_box_finds_nothing_and_breaks_nothing(
    manager_client, customer, url_name, field
):
    response = manager_client.get(reverse(url_name), {field: "Hostile\x00"})
    assert response.status_code in (200, 400)
    assert customer.name not in response.content.decode()


def test_the_search_page_says_why_a_nul_byte_is_refused(sales_client):
    response = sales_client.get(reverse("search"), {"q": "\x00"})
    assert response.status_code == 200 and "Null characters are not allowed." in response.content.decode()


@pytest.mark.parametrize(
    ("url_name", "params"),
    [
        ("orders:index", {"customer": HUGE}),
        ("orders:export", {"customer": HUGE}),
        ("orders:index", {"total_min": "1e30"}),
        ("opportunities:index", {"stage": HUGE}),
        ("opportunities:index", {"customer": "²"}),
        ("followups:index", {"order": HUGE}),
        ("followups:communications", {"opportunity": "-1"}),
        ("customers:index", {"tag": HUGE}),
    ],
)
def test_an_id_or_number_out_of_range_in_a_filter_lists_nothing(
    manager_client, manager, customer, url_name, params
):
    order_in("created", manager, CustomerFactory(owner=manager))
    response = manager_client.get(reverse(url_name), params)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert not response.context["page"].items


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("orders:create", {"customer": "²"}),
        ("opportunities:create", {"customer": HUGE}),
        ("customers:duplicates", {"exclude": "²", "name": "x"}),
    ],
)
def test_an_id_in_the_address_that_is_no_id_is_ignored(sales_client, url, params):
    assert sales_client.get(reverse(url), params).status_code == 200


def test_links_asked_for_in_the_address_that_are_no_ids_are_ignored(sales_client, customer):
    for url_name in ("followups:log", "followups:schedule"):
        response = sales_client.get(
            reverse(url_name, args=[customer.pk]), {"order": "²", "opportunity": HUGE}
        )
        assert response.status_code == 200


@pytest.mark.parametrize(
    ("url_name", "sort", "values"),
    [
        ("customers:index", "created", ["0001-01-01T00:00:00+08:00", 1]),
        ("customers:index", "name", ["x\x00", HUGE]),
        ("orders:index", "-created", ["9999-12-31T23:59:59-12:00", 1]),
        ("orders:index", "total", ["1e400", 1]),
        ("opportunities:index", "close", ["0001-01-01", 1]),
        ("opportunities:index", "amount", ["NaN", 1]),
        ("followups:index", "due", ["0001-01-01T00:00:00", 1]),
        ("followups:communications", "-occurred", ["0001-01-01T00:00:00+08:00", 2**70]),
    ],
)
@pytest.mark.parametrize("direction", ["next", "prev"])
def test_a_crafted_keyset_cursor_shows_the_first_page(manager_client, url_name, sort, values, direction):
    response = manager_client.get(
        reverse(url_name), {"sort": sort, "cursor": cursor(*values), "page": direction, "status": ""}
    )
    assert response.status_code == 200
    assert not response.context["page"].has_previous


@pytest.mark.parametrize(
    "values",
    [
        ["0001-01-01T00:00:00+08:00", "communication", 1],
        ["9999-12-31T23:59:59-12:00", "need", 1],
        ["x", "y", HUGE],
    ],
)
def test_a_crafted_timeline_cursor_shows_the_newest_entries(sales_client, customer, values):
    CommunicationFactory(customer=customer, subject="The newest call")
    response = sales_client.get(
        reverse("customers:timeline", args=[customer.pk]), {"cursor": cursor(*values)}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "The newest call" in response.content.decode()


# Rows stored before the rules, or around them


@contextmanager
def around_the_rules(model, constraint):
    """Lets rows break a check constraint, as rows stored before it existed do."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no pending check
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"')  # undone with the test
        else:
            cursor.execute("PRAGMA ignore_check_constraints = 1")
        try:
            yield cursor
        finally:
            if connection.vendor != "postgresql":
                cursor.execute("PRAGMA ignore_check_constraints = 0")


# What the old forms stored for "0001-01-01T00:00" typed in Shanghai: on PostgreSQL an instant before
# year 1 in UTC (psycopg cannot load it); SQLite refused to write it, a tool would write year 1.
STORED_YEAR_ONE = "0001-01-01 00:00+08:05:43" if connection.vendor == "postgresql" else "0001-01-01 00:00:00"


def store_year_one(cursor, model, field, pk):
    cursor.execute(f'UPDATE "{model._meta.db_table}" SET "{field}" = %s WHERE id = %s', [STORED_YEAR_ONE, pk])


def test_pages_and_exports_show_a_communication_stored_in_year_one(sales_client, sales1, customer):
    communications = CommunicationFactory.create_batch(30, customer=customer, staff=sales1)
    broken = communications[10]
    with around_the_rules(Communication, "communication_occurred_at_in_range") as cursor:
        store_year_one(cursor, Communication, "occurred_at", broken.pk)
    pages = [
        reverse("customers:detail", args=[customer.pk]),
        reverse("customers:timeline", args=[customer.pk]),
        reverse("followups:communications") + "?page=last",
        reverse("followups:communications") + "?sort=occurred",
        reverse("followups:communication", args=[broken.pk]),
        reverse("followups:communications_export") + "?format=xlsx",
    ]
    for url in pages:
        htmx = "true" if "timeline" in url else ""
        assert sales_client.get(url, HTTP_HX_REQUEST=htmx).status_code == 200, url
    export = sales_client.get(reverse("followups:communications_export"), {"format": "csv"})
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert export.status_code == 200 and len(lines) == 31
    assert int(export["Content-Length"]) == len(
        b"".join(
            sales_client.get(reverse("followups:communications_export"), {"format": "csv"}).streaming_content
        )
    )
    with pytest.raises(CommandError):
        call_command("check_data", stdout=io.StringIO())


def test_an_order_page_and_invoice_show_a_payment_stored_in_year_one(sales_client, sales1, customer):
    order = order_in("confirmed", sales1, customer)
    payment = order_services.record_payment(actor=sales1, order=order, amount=Decimal("10.00"), method="cash")
    with around_the_rules(Payment, "payment_paid_at_in_range") as cursor:
        store_year_one(cursor, Payment, "paid_at", payment.pk)
    for url_name in ("orders:detail", "orders:statement"):
        assert sales_client.get(reverse(url_name, args=[order.pk])).status_code == 200


def test_the_migration_moves_a_payment_stored_in_year_one_to_when_it_was_recorded(sales1, customer):
    order = order_in("confirmed", sales1, customer)
    payment = order_services.record_payment(actor=sales1, order=order, amount=Decimal("10.00"), method="cash")
    with around_the_rules(Payment, "payment_paid_at_in_range") as cursor:
        store_year_one(cursor, Payment, "paid_at", payment.pk)
        migration = importlib.import_module("orders.migrations.0006_dates_and_quantities_in_range")
        migration.fix_rows_out_of_range(apps, None)
    payment.refresh_from_db()
    assert payment.paid_at == payment.recorded_at


# The CSV export fails visibly


def test_a_csv_export_that_fails_on_a_row_fails_the_download(manager_client, manager, monkeypatch):
    CustomerFactory.create_batch(5, owner=manager)
    rows: list[object] = []

    def row_that_breaks(customer):
        if len(rows) == 3:
            raise RuntimeError("the database went away")
        rows.append(customer)
        return [customer.pk]

    monkeypatch.setattr(customer_views, "_export_row", row_that_breaks)
    response = manager_client.get(reverse("customers:export"), {"format": "csv"})
    assert response.status_code == 500
    assert "text/csv" not in response["Content-Type"] and "attachment" not in response.get(
        "Content-Disposition", ""
    )


# check_data


def test_check_data_reports_rows_that_break_a_rule_and_passes_when_none_do(sales1, customer, capsys):
    call_command("check_data")
    assert "rules hold" in capsys.readouterr().out
    followup = FollowUpFactory(customer=customer, assignee=sales1)
    with around_the_rules(FollowUp, "followup_dates_in_range") as cursor:
        store_year_one(cursor, FollowUp, "due_at", followup.pk)
    with pytest.raises(CommandError, match="1 rule is broken"):
        call_command("check_data")
    assert (
        f"followups.FollowUp, rule followup_dates_in_range: 1 row, id {followup.pk}"
        in capsys.readouterr().out
    )
