"""The report figures as JSON: the pages' tables, their filters and team rule, checked against the
orders themselves and against the report page."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse

from crm.report_views import PAGES
from opportunities import services as opportunity_services
from orders.models import Order
from tests.factories import CustomerFactory, ProductFactory
from tests.orders.builders import order_in

pytestmark = pytest.mark.django_db


def finished_orders(user, count):
    customer = CustomerFactory(owner=user)
    return [order_in("finished", user, customer) for _ in range(count)]


def revenue_of(user):
    """The independent figure: the net totals of the user's finished orders, from the rows."""
    return sum((o.total - o.credited for o in Order.objects.filter(owner=user, status="finished")), D("0"))


def table(response, key):
    assert response.status_code == 200, response.json()
    return next(t for t in response.json()["tables"] if t["key"] == key)


def test_the_index_names_every_page_its_filters_and_tables(api):
    pages = api.get("/api/v1/reports/").json()
    assert [page["page"] for page in pages] == list(PAGES)
    sales = pages[0]
    assert "by_month" in sales["tables"] and "owner" in sales["filters"]


def test_a_salesperson_reads_their_own_revenue_whatever_owner_they_name(api, sales1, sales2):
    finished_orders(sales1, 2)
    finished_orders(sales2, 1)
    expected = revenue_of(sales1)
    for query in ("", f"&owner={sales2.pk}"):
        response = api.get(f"/api/v1/reports/sales/?table=by_owner{query}")
        rows = table(response, "by_owner")["rows"]
        assert [(row["owner"], D(row["revenue_amount"]), row["revenue_orders"]) for row in rows] == [
            (sales1.pk, expected, 2)
        ], query
        assert len(response.json()["tables"]) == 1, "only the table asked for is built"


def test_a_manager_filters_by_owner_and_the_figures_match_the_page(
    manager_api, manager_client, sales1, sales2
):
    finished_orders(sales1, 2)
    finished_orders(sales2, 3)
    response = manager_api.get(f"/api/v1/reports/sales/?owner={sales2.pk}", HTTP_ACCEPT_LANGUAGE="en")
    by_month = table(response, "by_month")
    this_month = date.today().strftime("%Y-%m")
    row = next(row for row in by_month["rows"] if row["month_name"] == this_month)
    assert D(row["revenue_amount"]) == revenue_of(sales2) and row["revenue_orders"] == 3
    assert by_month["columns"][1] == {"key": "revenue_amount", "label": "Revenue", "kind": "money"}
    page = manager_client.get(reverse("reports:sales"), {"owner": sales2.pk})
    page_table = next(t for t in page.context["tables"] if t.key == "by_month")
    assert [D(str(r.get("revenue_amount"))) for r in page_table.rows] == [
        D(r["revenue_amount"]) for r in by_month["rows"]
    ]


def test_a_team_lead_may_not_read_another_teams_figures(api_client, org):
    lead = api_client(org.users["lead_e"])
    refused = lead.get(f"/api/v1/reports/sales/?team={org.teams['north'].pk}")
    assert refused.status_code == 400 and "team" in refused.json()["errors"]
    assert lead.get(f"/api/v1/reports/sales/?team={org.teams['east'].pk}").status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=custom", "start"),
        ("period=custom&start=2026-05-01&end=2026-04-01", "end"),
        ("period=custom&start=2000-01-01&end=2026-01-01", "end"),
        ("period=forever", "period"),
        ("currency=12", "currency"),
        ("months=99", "months"),
        ("table=nope", "table"),
    ],
)
def test_bad_filters_answer_400_at_the_field(api, query, field):
    response = api.get(f"/api/v1/reports/pipeline/?{query}")
    assert response.status_code == 400 and field in response.json()["errors"], response.json()


def test_an_unknown_page_is_a_json_404(api):
    response = api.get("/api/v1/reports/nothing/")
    assert response.status_code == 404 and response.json()["detail"]


def add_deals(user, count):
    product = ProductFactory()
    customer = CustomerFactory(owner=user)
    for _ in range(count):
        opportunity_services.create_opportunity(
            actor=user,
            customer=customer,
            title="Deal",
            expected_close_date=date.today() + timedelta(days=9),
            lines=[{"product": product, "quantity": 1}],
        )
    finished_orders(user, count)


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_costs_the_same_queries_for_few_and_many_records(manager_api, sales1, count_queries, page):
    add_deals(sales1, 2)
    few = count_queries(manager_api, f"/api/v1/reports/{page}/")
    add_deals(sales1, 8)
    many = count_queries(manager_api, f"/api/v1/reports/{page}/")
    assert few == many


def test_labels_follow_the_requests_language(api):
    english = table(api.get("/api/v1/reports/pipeline/?table=funnel", HTTP_ACCEPT_LANGUAGE="en"), "funnel")
    chinese = table(
        api.get("/api/v1/reports/pipeline/?table=funnel", HTTP_ACCEPT_LANGUAGE="zh-hans"), "funnel"
    )
    assert english["title"] == "Funnel of the deals created in the period"
    assert chinese["title"] != english["title"] and chinese["columns"][0]["label"] == "阶段"
