import csv
import io
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from customers import services
from customers.models import ContactMethod, ContactPerson, Customer, Need
from followups import services as followup_services
from opportunities import events as opportunity_events
from tests.conftest import shown_customer_page
from tests.factories import (
    CommunicationFactory,
    ContactMethodFactory,
    CustomerFactory,
    FollowUpFactory,
    NeedFactory,
    OpportunityFactory,
)
from tests.orders.builders import order_in

pytestmark = pytest.mark.django_db

LIST = reverse("customers:index")


def make_customers(owner, count, **fields):
    customers = []
    for i in range(count):
        customer = CustomerFactory(owner=owner, **fields)
        ContactMethodFactory(customer=customer, is_primary=True)
        ContactMethodFactory(
            customer=customer, type="email", value=f"c{customer.pk}-{i}@x.cn", is_primary=True
        )
        NeedFactory(customer=customer)
        customer.tags.create(name=f"tag-{customer.pk}")
        customers.append(customer)
    return customers


# --- speed: a fixed number of queries whatever the data size -------------------------------


@pytest.mark.parametrize("client_fixture", ["sales_client", "manager_client"])
def test_list_runs_a_fixed_number_of_queries(request, client_fixture, sales1, count_queries):
    client = request.getfixturevalue(client_fixture)
    make_customers(sales1, 5)
    few = count_queries(client, LIST)
    make_customers(sales1, 45)
    assert count_queries(client, LIST) == few
    assert count_queries(client, LIST + "?page=last") == few
    assert few <= 10


def add_timeline_entries(customer, user, index):
    """An entry of every kind: communication and follow-up scheduled and done (about an order and an
    opportunity, which the quick-add forms then offer), needs, changes, an order and an opportunity."""
    order = order_in("finished" if index % 3 else "created", user, customer)  # the orders card and its events
    opportunity = OpportunityFactory(customer=customer, title=f"Deal {index}")  # the opportunities card
    opportunity_events.opportunity_created(opportunity=opportunity, actor=user)
    CommunicationFactory(customer=customer, staff=user, order=order, opportunity=opportunity)
    followup = FollowUpFactory(customer=customer, assignee=user, order=order, opportunity=opportunity)
    followup_services.complete_followup(actor=user, followup=followup, result=f"result {index}")
    services.resolve_need(actor=user, need=NeedFactory(customer=customer))
    services.update_customer(actor=user, customer=customer, notes=f"note {index}")


def test_detail_runs_a_fixed_number_of_queries(sales_client, sales1, count_queries):
    """The page and its timeline (loaded on its own, tests/test_page_budgets.py has every part)."""
    customer = make_customers(sales1, 1)[0]
    services.add_contact_person(actor=sales1, customer=customer, name="First person")
    add_timeline_entries(customer, sales1, 0)
    timeline_url = reverse("customers:timeline", args=[customer.pk])
    few = count_queries(sales_client, customer.get_absolute_url())
    few_timeline = count_queries(sales_client, timeline_url, HTTP_HX_REQUEST="true")
    for i in range(45):
        ContactMethodFactory(customer=customer, type="wechat", value=f"wx{i}")
        NeedFactory(customer=customer)
        services.add_contact_person(actor=sales1, customer=customer, name=f"Person {i}")
        add_timeline_entries(customer, sales1, i + 1)
    timeline = count_queries(sales_client, timeline_url, HTTP_HX_REQUEST="true")
    assert timeline == few_timeline
    assert timeline.response.context["timeline"].has_more
    kinds = {entry.kind for entry in timeline.response.context["timeline"].entries}
    assert {"communication", "order_event", "opportunity_event"} <= kinds
    assert count_queries(sales_client, customer.get_absolute_url()) == few


# --- the list: filters, search, sorting, keyset pages ---------------------------------------


def test_list_shows_only_own_customers_to_sales(sales_client, sales1, sales2):
    CustomerFactory(owner=sales1, name="Mine Ltd")
    CustomerFactory(owner=sales2, name="Theirs Ltd")
    page = sales_client.get(LIST).content.decode()
    assert "Mine Ltd" in page and "Theirs Ltd" not in page


def test_list_filters_and_search(sales_client, sales1):
    lead = CustomerFactory(owner=sales1, name="Lead Co", lifecycle_stage="lead", region="上海")
    active = CustomerFactory(owner=sales1, name="Active Co", lifecycle_stage="active", region="北京")
    NeedFactory(customer=active)
    services.add_contact_method(actor=sales1, customer=lead, type="mobile", value="13800138000")

    def names(query):
        return [c.name for c in sales_client.get(LIST + query).context["page"].items]

    assert names("?lifecycle_stage=lead") == ["Lead Co"]
    assert names("?lifecycle_stage=lead&lifecycle_stage=active") == ["Active Co", "Lead Co"]
    assert names("?region=上") == ["Lead Co"]
    assert names("?has_open_needs=true") == ["Active Co"]
    assert names("?has_open_needs=false") == ["Lead Co"]
    assert names("?q=0013 8000") == ["Lead Co"]
    assert names("?sort=-name") == ["Lead Co", "Active Co"]
    assert names("?created_after=2000-01-01&created_before=2000-01-02") == []


def test_keyset_pages_walk_every_row_once_both_ways(sales_client, sales1, settings):
    settings.LIST_PAGE_SIZE = 4
    expected = sorted((c.name, c.pk) for c in make_customers(sales1, 10))
    seen, url = [], LIST + "?sort=name"
    while True:
        page = sales_client.get(url).context["page"]
        seen += [(c.name, c.pk) for c in page.items]
        if not page.has_next:
            break
        url = f"{LIST}?sort=name&page=next&cursor={page.next_cursor}"
    assert seen == expected
    last = sales_client.get(LIST + "?sort=name&page=last").context["page"]
    assert [(c.name, c.pk) for c in last.items] == expected[-4:]
    assert last.has_previous and not last.has_next
    back = sales_client.get(f"{LIST}?sort=name&page=prev&cursor={last.previous_cursor}").context["page"]
    assert [(c.name, c.pk) for c in back.items] == expected[-8:-4]


def test_a_tampered_cursor_shows_the_first_page(sales_client, sales1):
    make_customers(sales1, 2)
    response = sales_client.get(LIST + "?page=next&cursor=!!not-a-cursor")
    assert response.status_code == 200 and len(response.context["page"].items) == 2


# --- export ---------------------------------------------------------------------------------


def test_csv_export_is_filtered_visible_and_neutralises_formulas(sales_client, sales1, sales2):
    CustomerFactory(owner=sales1, name='=HYPERLINK("http://evil")', lifecycle_stage="lead")
    CustomerFactory(owner=sales1, name="Active mine", lifecycle_stage="active")
    CustomerFactory(owner=sales2, name="Theirs", lifecycle_stage="lead")
    response = sales_client.get(reverse("customers:export") + "?format=csv&lifecycle_stage=lead")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 2
    assert rows[1][1] == '\'=HYPERLINK("http://evil")'


def test_xlsx_export_writes_formulas_as_inert_text(sales_client, sales1):
    CustomerFactory(owner=sales1, name="=cmd|' /C calc'!A0")
    response = sales_client.get(reverse("customers:export") + "?format=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    cell = sheet.cell(row=2, column=2)
    assert cell.value == "=cmd|' /C calc'!A0" and cell.data_type == "s"
    with zipfile.ZipFile(io.BytesIO(response.content)) as package:
        assert b"<f>" not in package.read("xl/worksheets/sheet1.xml")


# --- forms: bad input is kept and explained; nothing half-saved -----------------------------


def create_payload(**overrides):
    data = {
        "name": "Acme",
        "kind": "organisation",
        "lifecycle_stage": "lead",
        "methods-TOTAL_FORMS": "3",
        "methods-INITIAL_FORMS": "0",
        "methods-MIN_NUM_FORMS": "0",
        "methods-MAX_NUM_FORMS": "10",
        "methods-0-type": "mobile",
        "methods-0-value": "",
        "methods-1-type": "email",
        "methods-1-value": "",
        "methods-2-type": "wechat",
        "methods-2-value": "",
    }
    return {**data, **overrides}


def test_create_with_two_methods(sales_client, sales1):
    response = sales_client.post(
        reverse("customers:create"),
        create_payload(**{"methods-0-value": "13800138000", "methods-1-value": "Info@Acme.CN"}),
    )
    customer = Customer.objects.get()
    assert response["Location"] == customer.get_absolute_url()
    assert customer.owner == sales1
    assert set(customer.contact_methods.values_list("value", flat=True)) == {"+8613800138000", "info@acme.cn"}


def test_create_with_an_empty_name_shows_the_error_at_the_field(sales_client):
    response = sales_client.post(reverse("customers:create"), create_payload(name="  ", region="上海浦东"))
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert 'value="上海浦东"' in response.content.decode()
    assert not Customer.objects.exists()


@pytest.mark.parametrize(("row", "value"), [(0, "12345"), (1, "not-an-email")])
def test_create_with_a_malformed_phone_or_email_keeps_what_was_typed(sales_client, row, value):
    response = sales_client.post(
        reverse("customers:create"), create_payload(**{f"methods-{row}-value": value})
    )
    assert response.status_code == 200
    assert response.context["methods"].forms[row].errors["value"]
    assert f'value="{value}"' in response.content.decode()
    assert not Customer.objects.exists() and not ContactMethod.objects.exists()


def test_likely_duplicate_is_shown_before_saving_then_saved_on_request(sales_client, sales1, sales2):
    mine = services.create_customer(
        actor=sales1, name="Acme", contact_methods=[{"type": "mobile", "value": "13800138000"}]
    )
    theirs = services.create_customer(
        actor=sales2, name="Globex 环球", contact_methods=[{"type": "email", "value": "x@acme.cn"}]
    )
    payload = create_payload(
        **{"name": "ACME", "methods-0-value": "138 0013 8000", "methods-1-value": "X@acme.cn"}
    )
    response = sales_client.post(reverse("customers:create"), payload)
    page = response.content.decode()
    assert response.status_code == 200 and "duplicate-warning" in page
    assert mine.get_absolute_url() in page
    # Someone else's customer is named by its owner only, without a link or its name.
    assert theirs.get_absolute_url() not in page and "Globex" not in page
    assert sales2.get_full_name() in page
    assert Customer.objects.count() == 2
    response = sales_client.post(reverse("customers:create"), {**payload, "save_anyway": "on"})
    assert response.status_code == 302 and Customer.objects.count() == 3


def test_live_duplicate_check_partial(sales_client, sales1):
    mine = services.create_customer(
        actor=sales1, name="Acme", contact_methods=[{"type": "mobile", "value": "13800138000"}]
    )
    query = (
        "?name=Nobody&methods-TOTAL_FORMS=1&methods-INITIAL_FORMS=0"
        "&methods-0-type=mobile&methods-0-value=13800138000"
    )
    response = sales_client.get(reverse("customers:duplicates") + query)
    assert mine.get_absolute_url() in response.content.decode()
    response = sales_client.get(reverse("customers:duplicates") + query + f"&exclude={mine.pk}")
    assert "duplicate-warning" not in response.content.decode()


def test_edit_keeps_history_visible_on_the_page(sales_client, sales1):
    customer = CustomerFactory(owner=sales1, name="Old name")
    services.update_customer(actor=sales1, customer=customer, name="Old name")
    response = sales_client.post(
        reverse("customers:edit", args=[customer.pk]),
        {"name": "New name", "kind": "organisation", "lifecycle_stage": "prospect"},
    )
    assert response.status_code == 302
    page = shown_customer_page(sales_client, customer)
    assert "Old name" in page and "New name" in page


# --- inline htmx sections -------------------------------------------------------------------


HTMX = {"HTTP_HX_REQUEST": "true"}


def test_inline_add_method_returns_the_section(sales_client, sales1):
    customer = CustomerFactory(owner=sales1)
    url = reverse("customers:method_add", args=[customer.pk])
    response = sales_client.post(url, {"type": "email", "value": "A@B.CN"}, **HTMX)
    assert response.status_code == 200 and "a@b.cn" in response.content.decode()
    response = sales_client.post(url, {"type": "mobile", "value": "999"}, **HTMX)
    assert 'value="999"' in response.content.decode() and "invalid-feedback" in response.content.decode()
    assert customer.contact_methods.count() == 1


def test_inline_edit_and_delete_method(sales_client, sales1):
    customer = CustomerFactory(owner=sales1)
    method = services.add_contact_method(actor=sales1, customer=customer, type="email", value="a@b.cn")
    url = reverse("customers:method_edit", args=[method.pk])
    assert 'value="a@b.cn"' in sales_client.get(url, **HTMX).content.decode()
    response = sales_client.post(url, {"type": "email", "value": "c@d.cn", "is_primary": "on"}, **HTMX)
    assert response["HX-Retarget"] == "#contact-methods"
    method.refresh_from_db()
    assert method.value == "c@d.cn"
    sales_client.post(reverse("customers:method_delete", args=[method.pk]), **HTMX)
    assert not ContactMethod.objects.exists()


def test_inline_person_and_need(sales_client, sales1):
    customer = CustomerFactory(owner=sales1)
    sales_client.post(
        reverse("customers:person_add", args=[customer.pk]), {"name": "王伟", "email": "W@X.CN"}, **HTMX
    )
    assert ContactPerson.objects.get().email == "w@x.cn"
    response = sales_client.post(
        reverse("customers:need_add", args=[customer.pk]),
        {"type": "product", "priority": "urgent", "description": "需要 200 台传感器"},
        **HTMX,
    )
    assert "需要 200 台传感器" in response.content.decode()
    need = Need.objects.get()
    sales_client.post(reverse("customers:need_status", args=[need.pk]), {"status": "met"}, **HTMX)
    need.refresh_from_db()
    assert need.status == "met" and need.resolved_at


# --- visibility, tested as an attacker would ------------------------------------------------


def test_sales_cannot_reach_another_users_customer_by_any_url(sales_client, sales2):
    theirs = CustomerFactory(owner=sales2, name="Theirs")
    method = ContactMethodFactory(customer=theirs)
    person = ContactPerson.objects.create(customer=theirs, name="P")
    need = NeedFactory(customer=theirs)
    mine = CustomerFactory(owner=sales_client.get("/").context["user"])
    gets = [
        reverse("customers:detail", args=[theirs.pk]),
        reverse("customers:edit", args=[theirs.pk]),
        reverse("customers:method_edit", args=[method.pk]),
        reverse("customers:person_edit", args=[person.pk]),
        reverse("customers:merge", args=[mine.pk]) + f"?other={theirs.pk}",
        reverse("customers:merge", args=[theirs.pk]) + f"?other={mine.pk}",
    ]
    posts = [
        (
            reverse("customers:edit", args=[theirs.pk]),
            {"name": "Hijacked", "kind": "person", "lifecycle_stage": "lead"},
        ),
        (reverse("customers:method_add", args=[theirs.pk]), {"type": "email", "value": "x@y.cn"}),
        (reverse("customers:method_edit", args=[method.pk]), {"type": "email", "value": "x@y.cn"}),
        (reverse("customers:method_delete", args=[method.pk]), {}),
        (reverse("customers:person_add", args=[theirs.pk]), {"name": "X"}),
        (reverse("customers:person_delete", args=[person.pk]), {}),
        (
            reverse("customers:need_add", args=[theirs.pk]),
            {"type": "product", "priority": "low", "description": "x"},
        ),
        (reverse("customers:need_status", args=[need.pk]), {"status": "dropped"}),
        (reverse("customers:merge", args=[mine.pk]), {"other": theirs.pk}),
    ]
    for url in gets:
        assert sales_client.get(url).status_code == 404, url
    for url, data in posts:
        assert sales_client.post(url, data).status_code == 404, url
    assert (
        sales_client.post(
            reverse("customers:bulk"), {"action": "add_tag", "customers": [theirs.pk], "tag": "x"}
        ).status_code
        == 403
    )
    theirs.refresh_from_db()
    assert theirs.name == "Theirs" and ContactMethod.objects.filter(pk=method.pk).exists()
    assert ContactPerson.objects.count() == 1 and Need.objects.get().status == "open"
    assert Customer.objects.count() == 2 and not theirs.tags.exists()
    export = sales_client.get(reverse("customers:export") + "?format=csv")
    assert "Theirs" not in b"".join(export.streaming_content).decode()
    assert sales_client.get(reverse("customers:needs_report")).context["report"]["total"] == 0


def test_manager_bulk_reassign_and_tag(manager_client, sales1, sales2):
    customers = make_customers(sales1, 3)
    ids = [c.pk for c in customers]
    response = manager_client.post(
        reverse("customers:bulk"), {"action": "reassign", "customers": ids, "owner": sales2.pk, "next": LIST}
    )
    assert response["Location"] == LIST
    assert set(Customer.objects.values_list("owner", flat=True)) == {sales2.pk}
    manager_client.post(
        reverse("customers:bulk"), {"action": "add_tag", "customers": ids[:2], "tag": "重点客户"}
    )
    assert Customer.objects.filter(tags__name="重点客户").count() == 2
    response = manager_client.post(
        reverse("customers:bulk"), {"action": "reassign", "customers": ids}, follow=True
    )
    assert Customer.objects.filter(owner=sales2).count() == 3


def test_owner_merges_two_customers_through_the_page(sales_client, sales1):
    survivor, merged = make_customers(sales1, 2)
    url = reverse("customers:merge", args=[survivor.pk])
    assert merged.name in sales_client.get(url + f"?other={merged.pk}").content.decode()
    response = sales_client.post(url, {"other": merged.pk})
    assert response["Location"] == survivor.get_absolute_url()
    assert list(Customer.objects.all()) == [survivor]
    assert survivor.needs.count() == 2


def test_needs_report_counts(sales_client, sales1):
    customer = CustomerFactory(owner=sales1)
    NeedFactory(customer=customer, type="price", priority="high")
    NeedFactory(customer=customer, type="price", status="met", resolved_at="2026-01-01T00:00:00Z")
    report = sales_client.get(reverse("customers:needs_report")).context["report"]
    assert report["total"] == 2
    assert {row["key"]: row["count"] for row in report["by_type"]}["price"] == 2
    assert {row["key"]: row["count"] for row in report["by_status"]}["met"] == 1
    assert sum(month["raised"] for month in report["by_month"]) == 2


def test_detail_of_a_customer_without_history_rows(sales_client, sales1):
    """Rows loaded outside the ORM (bulk SQL, restores) have no history; the page still opens."""
    customer = CustomerFactory(owner=sales1)
    customer.history.all().delete()
    assert sales_client.get(customer.get_absolute_url()).status_code == 200
    response = sales_client.get(reverse("customers:timeline", args=[customer.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "customer_change" not in {entry.kind for entry in response.context["timeline"].entries}
