from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from crm.forms import SearchForm
from crm.http import AuthenticatedRequest
from customers.models import Customer
from customers.selectors import customers_for_list, search_customers
from followups.selectors import my_day_counts
from opportunities.models import Opportunity
from opportunities.selectors import opportunities_for_list, pipeline_summary, search_opportunities
from orders.models import Order
from orders.selectors import orders_for_list, orders_with_number

# The sections of the product, in navigation order, as the dashboard introduces them.
SECTIONS = [
    {
        "key": "customers",
        "title": _("Customers"),
        "icon": "people",
        "summary": _("Customers, their contact methods, contact persons and needs."),
    },
    {
        "key": "opportunities",
        "title": _("Opportunities"),
        "icon": "kanban",
        "summary": _("The sales pipeline by stage, scoring and the weighted forecast."),
    },
    {
        "key": "orders",
        "title": _("Orders"),
        "icon": "receipt",
        "summary": _("Orders through their lifecycle, payments and cycle times."),
    },
    {
        "key": "followups",
        "title": _("Follow-ups"),
        "icon": "calendar-check",
        "summary": _("Every conversation and the follow-up it calls for: your day at a glance."),
    },
]


def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    context = {
        "sections": SECTIONS,
        "followup_counts": my_day_counts(request.user),
        "pipeline": pipeline_summary(request.user),
    }
    return render(request, "crm/dashboard.html", context)


def reports(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "crm/reports.html")


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
        matches = search_customers(customers_for_list(request.user), query).order_by("-updated_at", "-id")
        customers = list(matches[: SEARCH_RESULT_LIMIT + 1])
        numbered = orders_with_number(orders_for_list(request.user), query).order_by("-created_at", "-id")
        orders = list(numbered[: SEARCH_RESULT_LIMIT + 1])
        deals = search_opportunities(opportunities_for_list(request.user), query).order_by(
            "-updated_at", "-id"
        )
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
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: answers 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
