"""The report figures as JSON: `/api/v1/reports/` lists the report pages and their tables;
`/api/v1/reports/<page>/` answers the page's tables, built by the same functions as the page
(crm/report_views.py, each calling the report selectors) for the same period and filters.

The filters are the page's (crm/report_forms.ReportForm), with the same team rule: the owner and team
filters are for managers (everyone, every team) and team leads (their team and its members); for
everyone else they are not offered and are ignored, and the figures count only what the reader sees.
Where the page falls back to the default for input it cannot read, the API answers 400 with the
field's message. `?table=<key>` builds only that table.
"""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.db_router import reads_on_replica
from crm.report_forms import FILTER_FIELDS
from crm.report_tables import ReportTable
from crm.report_views import PAGES, report_form, report_request
from crm.reporting import CUSTOM, PRESETS
from crm.reports import FORECAST_MAX_MONTHS, FORECAST_MIN_MONTHS


class ReportColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField(help_text="In the request's language.")  # type: ignore[assignment]  # a field, not Field.label
    kind = serializers.ChoiceField(
        choices=["text", "count", "money", "percent", "days", "number", "date", "change"],
        help_text="money: a decimal string in the report's currency; percent: 0–100; days: decimal days.",
    )


class ReportTableSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    note = serializers.CharField(help_text="How the figures are computed.")
    columns = ReportColumnSerializer(many=True)
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text="One object per row: a value per column key, and the id of the group a `<key>_name` "
        "column names (`owner`, `team`, `stage`…) where there is one.",
    )


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    preset = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    page = serializers.CharField()
    title = serializers.CharField()
    period = PeriodSerializer()
    currency = serializers.CharField()
    tables = ReportTableSerializer(many=True)


class ReportPageSerializer(serializers.Serializer):
    page = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    filters = serializers.ListField(child=serializers.CharField())
    tables = serializers.ListField(child=serializers.CharField())


def _cell(value: Any) -> Any:
    """Amounts as the API writes money (a decimal string); the rest as JSON has it."""
    return str(value) if isinstance(value, Decimal) else value


def _table(table: ReportTable) -> dict[str, Any]:
    keys = [column.key for column in table.columns]
    ids = [key.removesuffix("_name") for key in keys if key.endswith("_name")]
    return {
        "key": table.key,
        "title": str(table.title),
        "note": str(table.note),
        "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in table.columns],
        "rows": [
            {key: row[key] for key in ids if key in row} | {key: _cell(row.get(key)) for key in keys}
            for row in table.rows
        ],
    }


PARAMETERS = [
    OpenApiParameter(
        "period",
        str,
        enum=[*PRESETS, CUSTOM],
        description="A preset, or custom with start and end. Default: last_12_months.",
    ),
    OpenApiParameter("start", OpenApiTypes.DATE, description="The first day (custom period)."),
    OpenApiParameter(
        "end", OpenApiTypes.DATE, description="The last day (custom period; five years at most)."
    ),
    OpenApiParameter("owner", int, description="A user's id (managers and team leads)."),
    OpenApiParameter("team", int, description="A team's id (managers; a team lead their own team)."),
    OpenApiParameter("product", int, description="A product's id."),
    OpenApiParameter("tag", int, description="A customer tag's id."),
    OpenApiParameter("region", str, description="A region and the places under it."),
    OpenApiParameter("currency", str, description="A three-letter code; default CNY."),
    OpenApiParameter(
        "months",
        int,
        description=f"Months the revenue trend is fitted to ({FORECAST_MIN_MONTHS}–{FORECAST_MAX_MONTHS}).",
    ),
    OpenApiParameter("days", int, description="Orders waiting over this many days (1–365)."),
    OpenApiParameter("table", str, description="Build only this table (a key the index lists)."),
]


class ReportViewSet(viewsets.ViewSet):
    lookup_field = "page"
    lookup_value_regex = "|".join(PAGES)

    @extend_schema(responses=ReportPageSerializer(many=True))
    def list(self, request: Request) -> Response:
        """The report pages, the filters each takes and the keys of its tables."""
        pages = [
            {
                "page": page.key,
                "title": str(page.title),
                "summary": str(page.summary),
                "filters": [name for name in FILTER_FIELDS if name in page.fields],
                "tables": [*page.tables],
            }
            for page in PAGES.values()
        ]
        return Response(pages)

    @extend_schema(
        parameters=[
            OpenApiParameter("page", str, OpenApiParameter.PATH, enum=[*PAGES]),
            *PARAMETERS,
        ],
        responses=ReportSerializer,
    )
    @reads_on_replica
    def retrieve(self, request: Request, page: str) -> Response:
        """The page's tables for the period and filters given, as the report page shows them."""
        report = PAGES[page]
        form = report_form(request, report.fields)  # type: ignore[arg-type]  # a DRF request reads as Django's
        if not form.is_valid():
            errors = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
            raise exceptions.ValidationError(errors)
        builds = report.tables
        table = request.query_params.get("table")
        if table is not None:
            if table not in builds:
                raise exceptions.ValidationError({"table": [_("This page has no such table.")]})
            builds = {table: builds[table]}
        chosen = report_request(request, form)  # type: ignore[arg-type]
        return Response(
            {
                "page": report.key,
                "title": str(report.title),
                "period": {
                    "start": chosen.period.start,
                    "end": chosen.period.end,
                    "preset": chosen.period.preset,
                },
                "currency": chosen.filters.currency,
                "tables": [_table(build(chosen)) for build in builds.values()],
            }
        )


router = SimpleRouter()
router.register("reports", ReportViewSet, basename="report")
urlpatterns = router.urls
