import sys
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import server_error as default_server_error

from crm.db_errors import outage_of
from crm.forms import SearchForm
from crm.health import readiness
from crm.http import AuthenticatedRequest
from crm.report_tables import COUNT, DAYS, MONEY, PERCENT
from crm.report_views import report_form
from crm.reports import key_figures
from customers.models import Customer
from customers.selectors import customers_for_list, search_customers
from followups.selectors import dashboard_counts
from opportunities.models import Opportunity
from opportunities.selectors import first_opportunities_matching
from orders.models import Order
from orders.selectors import approval_answers, orders_for_list, orders_with_number


@dataclass(frozen=True)
class Tile:
    """A key figure on the dashboard: `key` in crm.reports.key_figures, the page that explains it."""

    key: str
    label: str | Promise
    kind: str
    url: str
    lower_is_better: bool = False


TILES = [
    Tile("revenue", _("Revenue"), MONEY, "reports:sales"),
    Tile("booked", _("Booked"), MONEY, "reports:sales"),
    Tile("won_amount", _("Won value"), MONEY, "reports:pipeline"),
    Tile("win_rate", _("Win rate"), PERCENT, "reports:pipeline"),
    Tile("weighted_pipeline", _("Weighted pipeline"), MONEY, "reports:pipeline"),
    Tile("average_deal", _("Average deal size"), MONEY, "reports:pipeline"),
    Tile("sales_cycle", _("Average sales cycle (days)"), DAYS, "reports:pipeline", lower_is_better=True),
    Tile("overdue_followups", _("Overdue follow-ups"), COUNT, "followups:index"),
    Tile("balances_due", _("Balances due"), MONEY, "orders:balances"),
]
# The lists a figure of the moment opens, narrowed to what it counts.
TILE_QUERIES = {
    "overdue_followups": {"status": "open", "overdue": "true"},
}


def _change(tile: Tile, value, previous) -> dict | None:
    """How the figure moved since the previous period: percent for amounts and counts, points for the
    win rate, days for the sales cycle; None when there is nothing to compare."""
    if value is None or previous is None:
        return None
    if tile.kind in (PERCENT, DAYS):
        difference = Decimal(str(value)) - Decimal(str(previous))
        change = difference.quantize(Decimal("0.1"))
    elif previous:
        change = (100 * (Decimal(value) - Decimal(previous)) / Decimal(previous)).quantize(Decimal("0.1"))
    else:
        return None
    better = (change < 0) if tile.lower_is_better else (change > 0)
    tone = "same" if change == 0 else ("better" if better else "worse")
    return {
        "value": change,
        "tone": tone,
        "unit": {PERCENT: "points", DAYS: "days"}.get(tile.kind, "percent"),
    }


def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    # A dashboard is read every day: the month so far against the same days of the month before.
    form = report_form(request, fields=(), default_preset="this_month")
    period = form.chosen_period()
    # The follow-up counts of the tiles and of My day, in one query.
    counts = dashboard_counts(request.user)
    figures = key_figures(request.user, period, overdue=counts["seen_overdue"])
    tiles = []
    for tile in TILES:
        value, previous = figures["now"][tile.key], figures["before"].get(tile.key)
        query = TILE_QUERIES.get(tile.key) or period.as_query()
        tiles.append(
            {
                "tile": tile,
                "value": value,
                "previous": previous,
                "now": tile.key not in figures["before"],
                "change": _change(tile, value, previous),
                "url": f"{reverse(tile.url)}?{urlencode(query)}",
            }
        )
    context = {
        "form": form,
        "period": period,
        "previous_period": period.previous(),
        "tiles": tiles,
        "followup_counts": {"overdue": counts["overdue"], "due_today": counts["due_today"]},
        "approval_answers": approval_answers(request.user),
    }
    return render(request, "crm/dashboard.html", context)


SEARCH_RESULT_LIMIT = 20


def search(request: AuthenticatedRequest) -> HttpResponse:
    """The header's search box: customers by name, phone, email or contact person, orders by number,
    opportunities by title or customer name, a fragment at a time."""
    form = SearchForm(request.GET)
    query = form.query
    customers: list[Customer] = []
    orders: list[Order] = []
    opportunities: list[Opportunity] = []
    if query:
        limit = settings.SEARCH_MATCH_LIMIT
        matches = search_customers(customers_for_list(request.user), query, limit=limit)
        matches = matches.order_by("-updated_at", "-id")
        customers = list(matches[: SEARCH_RESULT_LIMIT + 1])
        numbered = orders_with_number(orders_for_list(request.user), query).order_by("-created_at", "-id")
        orders = list(numbered[: SEARCH_RESULT_LIMIT + 1])
        deals = first_opportunities_matching(request.user, query, limit).order_by("-updated_at", "-id")
        opportunities = list(deals[: SEARCH_RESULT_LIMIT + 1])
    return render(
        request,
        "crm/search.html",
        {
            "query": query,
            "search_errors": form.errors.get("q", []),
            "customers": customers[:SEARCH_RESULT_LIMIT],
            "more_customers": len(customers) > SEARCH_RESULT_LIMIT,
            "orders": orders[:SEARCH_RESULT_LIMIT],
            "more_orders": len(orders) > SEARCH_RESULT_LIMIT,
            "opportunities": opportunities[:SEARCH_RESULT_LIMIT],
            "more_opportunities": len(opportunities) > SEARCH_RESULT_LIMIT,
        },
    )


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers and bots ask for /favicon.ico whatever the page says: send them to the icon."""
    return HttpResponsePermanentRedirect(static("crm/favicon.svg"))


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: answers 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_GET
def readyz(request):
    """For load balancers and deployments: 200 when every readiness check passes, else 503."""
    checks = readiness()
    ready = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            "checks": {name: "ok" if passed else "failed" for name, passed in checks.items()},
        },
        status=200 if ready else 503,
    )


# Seconds a client is asked to wait before trying again while the database is out.
OUTAGE_RETRY_AFTER = 30


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. A database outage (down, restarting, read-only, disk full) answers 503 with a page
    that says what it means for the user; any other error the plain 500 page. Both are rendered
    without the database. Django calls this while handling the error, so `sys.exc_info()` holds it."""
    outage = outage_of(sys.exc_info()[1])
    if outage is None:
        return default_server_error(request)
    page = loader.render_to_string("503.html", {"outage": outage.value})
    return HttpResponse(page, status=503, headers={"Retry-After": str(OUTAGE_RETRY_AFTER)})
