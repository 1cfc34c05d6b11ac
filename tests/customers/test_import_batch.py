"""The batched customer import writes what the services write one customer at a time; it finds
customers by external id and (for rows without contact values) by name; choice columns take labels
in either language; and its queries are counted by the chunk, not by the row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from crm.importing import Action, ChoiceLookup
from crm.models import model_field
from customers import importing, services
from customers.models import ContactMethod, Customer
from tests.api.conftest import api as api
from tests.api.conftest import api_client as api_client
from tests.customers.test_import import english as english
from tests.customers.test_import import import_rows, outcome
from tests.customers.test_import_preview import run
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HEADER = ["name", "mobile", "email", "industry", "region", "notes"]


def described(customer):
    """A customer as the database holds it, with its contact methods and history, without ids or times."""
    methods = sorted(customer.contact_methods.values_list("type", "value", "note", "is_primary"))
    method_history = sorted(
        ContactMethod.history.filter(id__in=customer.contact_methods.values("id")).values_list(
            "type", "value", "history_type", "history_user_id", "history_change_reason"
        )
    )
    history = list(
        customer.history.values_list(
            "name", "industry", "region", "notes", "history_type", "history_user_id", "history_change_reason"
        )
    )
    fields = [getattr(customer, name) for name in ("name", "kind", "lifecycle_stage", "industry", "region")]
    assert abs(customer.last_activity_at - customer.created_at).total_seconds() < 5  # its creation
    return [*fields, customer.notes, customer.owner_id, methods, method_history, history]


def test_a_batch_import_writes_what_creating_each_customer_through_the_services_writes(sales1):
    rows = [
        ["Acme  Ltd ", "138 0013 8000", "Info@Acme.CN", "IT and software", " 上海 ", "first"],
        ["Beta", "+86 139-0013-9000", "", "", "", ""],
    ]
    report = import_rows(sales1, [HEADER, *rows], commit=True)
    assert outcome(report) == [(2, Action.CREATE), (3, Action.CREATE)]
    imported = [described(Customer.objects.get(pk=row.record_id)) for row in report.rows]
    Customer.objects.all().delete()

    one_by_one = []
    for name, mobile, email, _industry, region, notes in rows:
        methods = [{"type": "mobile", "value": mobile}] + (
            [{"type": "email", "value": email}] if email else []
        )
        customer = services.create_customer(
            actor=sales1,
            name=name,
            industry="software" if _industry else "",
            region=region,
            notes=notes,
            contact_methods=methods,
        )
        one_by_one.append(described(customer))
    assert imported == one_by_one
    assert imported[0][:5] == ["Acme Ltd", "organisation", "lead", "software", "上海"]
    assert imported[0][7] == [("email", "info@acme.cn", "", True), ("mobile", "+8613800138000", "", True)]


def test_a_reimport_with_the_same_external_id_updates_the_customer(sales1):
    header = ["external_id", "name", "mobile", "region"]
    first = import_rows(sales1, [header, ["CRM-1", "Acme", "13800138000", "上海"]], commit=True)
    assert outcome(first) == [(2, Action.CREATE)]
    acme = Customer.objects.get()
    assert acme.external_id == "CRM-1"

    report, changes = run(sales1, [header, ["CRM-1", "Acme Ltd", "13900139000", "北京"]], commit=True)
    assert outcome(report) == [(2, Action.UPDATE)] and report.rows[0].record_id == acme.pk
    assert changes[0] == [
        ("Name", "Acme", "Acme Ltd"),
        ("Region", "上海", "北京"),
        ("Mobile", "", "+8613900139000"),
    ]
    assert Customer.objects.count() == 1
    acme.refresh_from_db()
    assert (acme.name, acme.region, acme.external_id) == ("Acme Ltd", "北京", "CRM-1")
    assert acme.history.count() == 2


def test_an_external_id_another_owner_holds_is_refused_and_nothing_is_written(sales1, sales2):
    services.create_customer(actor=sales2, name="Theirs", external_id="CRM-9")
    before = (Customer.objects.count(), Customer.history.count(), ContactMethod.objects.count())
    report = import_rows(
        sales1, [["external_id", "name", "mobile"], ["CRM-9", "Mine", "13800138000"]], commit=True
    )
    assert outcome(report) == [(2, Action.REJECT)]
    assert report.rows[0].errors == ["External id: Another customer has this external id."]
    assert (Customer.objects.count(), Customer.history.count(), ContactMethod.objects.count()) == before


def test_a_row_without_contact_values_matches_a_visible_customer_by_name_and_the_dry_run_shows_it(
    sales1, sales2
):
    acme = services.create_customer(actor=sales1, name="Acme Ltd", region="上海")
    services.create_customer(actor=sales2, name="Beta", region="广州")  # not sales1's: not matched
    rows = [["name", "region"], ["Acme  Ltd", "北京"], ["Beta", "深圳"]]
    before = (Customer.objects.count(), Customer.history.count())

    dry_run, changes = run(sales1, rows, commit=False)
    assert outcome(dry_run) == [(2, Action.UPDATE), (3, Action.CREATE)]
    assert (dry_run.rows[0].name, dry_run.rows[0].record_id) == ("Acme Ltd", acme.pk)
    assert changes[0] == [("Region", "上海", "北京")]
    assert (Customer.objects.count(), Customer.history.count()) == before
    assert Customer.objects.get(pk=acme.pk).region == "上海"

    real_run, _changes = run(sales1, rows, commit=True)
    assert outcome(real_run) == outcome(dry_run)
    assert Customer.objects.get(pk=acme.pk).region == "北京"
    assert Customer.objects.filter(name="Beta").count() == 2


def test_a_name_shared_by_two_visible_customers_is_rejected_and_a_row_with_a_phone_is_not_matched_by_name(
    sales1,
):
    for _copy in range(2):
        services.create_customer(actor=sales1, name="Acme")
    report = import_rows(sales1, [["name", "mobile"], ["Acme", ""], ["Acme", "13800138000"]], commit=True)
    assert outcome(report) == [(2, Action.REJECT), (3, Action.CREATE)]
    assert "Its name matches several customers" in str(report.rows[0].errors[0])
    assert Customer.objects.filter(name="Acme").count() == 3


def test_later_rows_find_a_customer_an_earlier_row_creates_by_name_and_by_external_id(sales1):
    rows = [
        ["external_id", "name", "region"],
        ["", "Acme", "上海"],
        ["", "Acme", "北京"],
        ["X-1", "Beta", "广州"],
        ["X-1", "Beta GmbH", ""],
    ]
    dry_run = import_rows(sales1, rows, commit=False)
    real_run = import_rows(sales1, rows, commit=True)
    expected = [(2, Action.CREATE), (3, Action.UPDATE), (4, Action.CREATE), (5, Action.UPDATE)]
    assert outcome(dry_run) == outcome(real_run) == expected
    assert sorted(Customer.objects.values_list("name", "region", "external_id")) == [
        ("Acme", "北京", ""),
        ("Beta GmbH", "广州", "X-1"),
    ]


def test_choice_columns_take_the_value_or_the_label_in_either_language(sales1):
    with translation.override("zh-hans"):
        software, trade_show = str(Customer.Industry.SOFTWARE.label), str(Customer.Source.EXHIBITION.label)
    assert software != "IT and software" and trade_show != "Trade show"  # translated
    rows = [
        ["name", "industry", "source", "size"],
        ["A", "  it AND software ", "exhibition", "1–9 employees"],
        ["B", f" {software} ", trade_show, "1000+"],
        ["C", "software", "TRADE  SHOW", "10-49"],
    ]
    report = import_rows(sales1, rows, commit=True)
    assert report.created == 3
    assert sorted(Customer.objects.values_list("name", "industry", "source", "size")) == [
        ("A", "software", "exhibition", "1-9"),
        ("B", "software", "exhibition", "1000+"),
        ("C", "software", "exhibition", "10-49"),
    ]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_bad_choice_lists_the_allowed_values_in_the_users_language_and_writes_nothing(sales1, language):
    with translation.override(language):
        report = import_rows(sales1, [["name", "size"], ["Acme", "huge"]], commit=True)
        labels = [str(label) for _value, label in Customer.Size.choices]
        column = str(importing.COLUMNS.by_key["size"].label)
        message = str(report.rows[0].errors[0])
    assert outcome(report) == [(2, Action.REJECT)]
    assert message.startswith(column) and "“huge”" in message
    assert all(label in message for label in labels)
    assert not Customer.objects.exists()


def test_the_choice_lookup_is_shared_by_value_and_label():
    lookup = ChoiceLookup.of_field(model_field(Customer, "lifecycle_stage"))
    with translation.override("zh-hans"):
        lost = str(Customer.Lifecycle.LOST.label)
    assert [lookup.value(text) for text in ("lost", " LOST ", lost)] == ["lost"] * 3


def test_the_queries_of_a_batch_import_do_not_grow_with_its_rows(manager, monkeypatch):
    """50 rows and 500 (one chunk each) cost the same queries, rows matched by name and external id
    included (SQLite splits a long INSERT by its limit of variables: there, the other queries); 500
    rows in chunks of 50 cost at most ten times the queries of one chunk."""

    def import_counted(first, count):
        rows = [["external_id", "name", "mobile", "email", "industry"]]
        for n in range(first, first + count):
            contact = [f"139{n:08d}", f"c{n}@example.com"] if n % 2 else ["", ""]
            rows.append([f"X-{n}" if n % 3 else "", f"Customer {n}", *contact, "Retail and wholesale"])
        with CaptureQueriesContext(connection) as queries:
            report = import_rows(manager, rows, commit=True)
        assert (report.created, report.rejected) == (count, 0)
        if connection.vendor == "postgresql":
            return len(queries)
        return sum(not query["sql"].startswith("INSERT") for query in queries)

    import_counted(5000, 1)  # what is looked up once per process (the user's groups) is cached
    assert import_counted(0, 50) == import_counted(50, 500)
    monkeypatch.setattr(importing, "CHUNK_SIZE", 50)
    assert import_counted(1000, 500) <= 10 * import_counted(2000, 50)
    assert Customer.objects.count() == Customer.history.count() == 1101


def test_the_api_reads_and_writes_the_external_id_and_refuses_one_taken(api, sales2):
    CustomerFactory(owner=sales2, name="Theirs", external_id="ERP-2")
    created = api.post("/api/v1/customers/", {"name": "Mine", "external_id": " ERP-1 "}, format="json")
    assert created.status_code == 201 and created.json()["external_id"] == "ERP-1"
    url = f"/api/v1/customers/{created.json()['id']}/"
    taken = api.patch(url, {"external_id": "ERP-2"}, format="json")
    assert taken.status_code == 400 and "external_id" in str(taken.json())
    assert Customer.objects.get(name="Mine").external_id == "ERP-1"
