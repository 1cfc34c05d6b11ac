"""The report pages and the dashboard: what they show, who sees what, downloads, bad input, and a fixed
number of queries whatever the data."""

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from crm.report_views import PAGES
from crm.reporting import Period, ReportFilters
from crm.reports import key_figures
from customers.segmentation import compute_rfm
from opportunities.reports import closed_deals, open_pipeline
from orders.reports import booked, revenue
from tests.factories import CustomerFactory
from tests.orders.builders import order_in
from tests.reports.conftest import PERIOD, dated, local

pytestmark = pytest.mark.django_db
FIRST_HALF = {"period": "custom", "start": "2026-01-01", "end": "2026-06-30"}
PAGE_URLS = [reverse(f"reports:{key}") for key in PAGES]


def count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(queries)


def more_history(user, customer, months=6):
    """More orders, finished across the months, for the query counts to stay put over."""
    for month in range(1, months + 1):
        order = order_in("finished", user, customer)
        dated(
            order,
            created=local(2026, month, 2),
            confirmed=local(2026, month, 3),
            processing=local(2026, month, 4),
            finished=local(2026, month, 20),
        )


@pytest.mark.parametrize("who", ["manager", "sales1"])
def test_every_report_page_and_the_dashboard_run_a_fixed_number_of_queries(client, dataset, who):
    client.force_login(getattr(dataset, who))
    compute_rfm(on=date(2026, 6, 1))
    compute_rfm(on=date(2026, 7, 1))
    urls = [*PAGE_URLS, reverse("dashboard"), reverse("reports:index")]
    few = {url: count_queries(client, url, FIRST_HALF) for url in urls}
    more_history(dataset.sales1, dataset.customers["c1"])
    more_history(dataset.sales2, CustomerFactory(owner=dataset.sales2, region="成都", industry="energy"))
    compute_rfm(on=date(2026, 7, 1))
    assert {url: count_queries(client, url, FIRST_HALF) for url in urls} == few
    assert max(few.values()) <= 45, few


def test_the_index_lists_every_report(manager_client):
    page = manager_client.get(reverse("reports:index")).content.decode()
    for url in PAGE_URLS:
        assert f'href="{url}"' in page
    assert reverse("customers:needs_report") in page


def table(response, key):
    return next(t for t in response.context["tables"] if t.key == key)


def test_the_sales_page_shows_the_selectors_figures(client, dataset):
    client.force_login(dataset.manager)
    response = client.get(reverse("reports:sales"), FIRST_HALF)
    by_month = table(response, "by_month")
    assert [row["month_name"] for row in by_month.rows] == [f"2026-0{m}" for m in range(1, 7)]
    expected = {
        row["month"].strftime("%Y-%m"): row["amount"]
        for row in revenue(dataset.manager, PERIOD, ReportFilters(), ["month"])
    }
    assert {
        row["month_name"]: row["revenue_amount"] for row in by_month.rows if row["revenue_amount"]
    } == expected
    assert by_month.rows[5]["revenue_amount"] == Decimal("0.00")  # June: nothing finished
    content = response.content.decode()
    assert f"{dataset.orders['o3'].total:,.2f}" in content  # March's revenue, in the table
    assert (
        'data-chart="chart-by_month"' in content and 'id="chart-by_month" type="application/json"' in content
    )


def test_a_salesperson_sees_only_their_figures_and_no_owner_filter(client, dataset):
    client.force_login(dataset.sales2)
    response = client.get(reverse("reports:sales"), {**FIRST_HALF, "owner": dataset.sales1.pk})
    assert "owner" not in response.context["form"].fields
    totals = table(response, "by_owner").rows
    assert {row["owner"] for row in totals} == {dataset.sales2.pk}
    # o5 is sales2's order on sales1's customer: its owner counts it too.
    assert sum(row["revenue_amount"] for row in totals) == sum(
        dataset.orders[key].total for key in ("o3", "o4", "o5")
    )
    names = {
        row["owner_name"]
        for row in table(client.get(reverse("reports:pipeline"), FIRST_HALF), "deals_by_owner").rows
    }
    assert names <= {dataset.sales2.get_full_name()}


def test_filters_reach_every_table(client, dataset):
    client.force_login(dataset.manager)
    response = client.get(
        reverse("reports:sales"), {**FIRST_HALF, "owner": dataset.sales2.pk, "region": "上海"}
    )
    expected = revenue(dataset.manager, PERIOD, ReportFilters(owner=dataset.sales2, region="上海"))[0][
        "amount"
    ]
    assert sum(row["amount"] for row in table(response, "by_region").rows) == expected
    assert {row["region_name"] for row in table(response, "by_region").rows} == {"上海", "上海浦东"}


def test_a_table_downloads_as_csv_and_xlsx_with_the_pages_rows(client, dataset):
    client.force_login(dataset.manager)
    url = reverse("reports:pipeline")
    shown = table(client.get(url, FIRST_HALF), "deals_by_owner")
    response = client.get(url, {**FIRST_HALF, "table": "deals_by_owner", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="pipeline-deals_by_owner-20260101-20260630.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == [str(column.label) for column in shown.columns]
    assert [row[0] for row in rows[1:]] == [row["owner_name"] for row in shown.rows]
    assert [row[3] for row in rows[1:]] == [str(row["win_rate"]) for row in shown.rows]
    response = client.get(url, {**FIRST_HALF, "table": "deals_by_owner", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    cells = list(sheet.iter_rows(values_only=True))
    assert [row[1] for row in cells[1:]] == [row["won"] for row in shown.rows]
    assert client.get(url, {"table": "nothing", "format": "csv"}).status_code == 404


def test_a_download_runs_only_its_tables_queries(client, dataset):
    client.force_login(dataset.manager)
    url = reverse("reports:sales")
    whole = count_queries(client, url, FIRST_HALF)
    with CaptureQueriesContext(connection) as queries:
        client.get(url, {**FIRST_HALF, "table": "by_region", "format": "csv"})
    assert len(queries) < whole - 8


def test_bad_input_is_shown_at_the_field_and_the_default_period_is_shown(client, dataset, settings):
    client.force_login(dataset.manager)
    response = client.get(
        reverse("reports:sales"),
        {"period": "custom", "start": "2026-06-30", "end": "2026-01-01", "currency": "yuan"},
    )
    form = response.context["form"]
    assert response.status_code == 200
    assert "end" in form.errors and "currency" in form.errors
    content = response.content.decode()
    assert 'value="2026-06-30"' in content and 'value="yuan"' in content
    assert response.context["chosen"].period.preset == "last_12_months"
    assert response.context["chosen"].filters.currency == "CNY"
    response = client.get(reverse("reports:sales"), {"period": "custom", "start": "2026-01-01"})
    assert "end" in response.context["form"].errors
    response = client.get(reverse("reports:pipeline"), {"months": "2"})
    assert "months" in response.context["form"].errors and response.context["chosen"].months == 12


def test_report_pages_carry_no_inline_script_or_style(client, dataset):
    client.force_login(dataset.manager)
    compute_rfm(on=date(2026, 7, 1))
    for url in [*PAGE_URLS, reverse("dashboard"), reverse("reports:index")]:
        content = client.get(url, FIRST_HALF).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", content):
            assert " src=" in tag or 'type="application/json"' in tag, (url, tag)
        assert not re.search(r"\sstyle=", content), url
        assert not re.search(r"\son[a-z]+=", content), url


def test_the_dashboard_compares_the_period_with_the_previous_one(client, dataset):
    client.force_login(dataset.manager)
    response = client.get(reverse("dashboard"), FIRST_HALF)
    tiles = {tile["tile"].key: tile for tile in response.context["tiles"]}
    previous = PERIOD.previous()
    assert previous == Period(date(2025, 7, 1), date(2025, 12, 31))
    filters = ReportFilters()
    assert tiles["revenue"]["value"] == revenue(dataset.manager, PERIOD, filters)[0]["amount"]
    assert tiles["revenue"]["previous"] == dataset.orders["o7"].total  # finished 15 December 2025
    expected_change = (
        100 * (tiles["revenue"]["value"] - tiles["revenue"]["previous"]) / tiles["revenue"]["previous"]
    ).quantize(Decimal("0.1"))
    assert tiles["revenue"]["change"]["value"] == expected_change
    assert tiles["booked"]["value"] == booked(dataset.manager, PERIOD, filters)[0]["amount"]
    deals = closed_deals(dataset.manager, PERIOD, filters)[0]
    assert tiles["win_rate"]["value"] == deals["win_rate"] == Decimal("60.0")
    assert tiles["won_amount"]["value"] == deals["won_amount"]
    assert tiles["weighted_pipeline"]["value"] == open_pipeline(dataset.manager, filters)[0]["weighted"]
    assert tiles["weighted_pipeline"]["now"] and tiles["balances_due"]["now"]
    assert "period=custom&start=2026-01-01&end=2026-06-30" in tiles["revenue"]["url"]
    assert tiles["revenue"]["url"].startswith(reverse("reports:sales"))
    assert tiles["overdue_followups"]["url"] == reverse("followups:index") + "?status=open&overdue=true"
    content = response.content.decode()
    assert 'data-testid="kpi-revenue"' in content and "2025-07-01 – 2025-12-31" in content


def test_the_dashboards_figures_for_a_salesperson_are_theirs(dataset):
    mine = key_figures(dataset.sales1, PERIOD)
    assert mine["now"]["revenue"] == sum(dataset.orders[k].total for k in ("o1", "o2", "o5"))
    assert mine["before"]["revenue"] == dataset.orders["o7"].total
    theirs = key_figures(dataset.sales2, PERIOD)  # o5: their order on sales1's customer
    assert theirs["now"]["revenue"] == sum(dataset.orders[k].total for k in ("o3", "o4", "o5"))
    assert theirs["before"]["revenue"] == Decimal("0.00")


def test_the_overdue_filter_lists_what_the_tile_counts(client, dataset):
    from django.utils import timezone

    from tests.factories import FollowUpFactory

    client.force_login(dataset.manager)
    late = FollowUpFactory(customer=dataset.customers["c1"], due_at=timezone.now() - timedelta(hours=2))
    FollowUpFactory(customer=dataset.customers["c3"], due_at=timezone.now() + timedelta(hours=2))
    tiles = {tile["tile"].key: tile for tile in client.get(reverse("dashboard")).context["tiles"]}
    assert tiles["overdue_followups"]["value"] == 1
    listed = client.get(tiles["overdue_followups"]["url"]).context["page"].items
    assert [followup.pk for followup in listed] == [late.pk]


def test_reports_need_a_login(client):
    for url in [*PAGE_URLS, reverse("reports:index")]:
        assert client.get(url).status_code == 302
