"""A report's tables as the pages show and export them: columns of a kind (money, count, percent,
days, …), the rows a selector returned, and the chart drawn from them.

The page shows every table as HTML (readable without JavaScript) with its chart above it; the chart's
data travels in a `<script type="application/json">` block that static/crm/reports.js draws with
ECharts. `?table=<key>&format=csv|xlsx` downloads one table through crm/exports.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.timezone import localdate

from crm.exports import export_response
from crm.reporting import Row, one_decimal

if TYPE_CHECKING:
    from django.http import HttpResponse, StreamingHttpResponse
    from django_stubs_ext import StrOrPromise

TEXT, COUNT, MONEY, PERCENT, DAYS, NUMBER, DATE, CHANGE = (
    "text",
    "count",
    "money",
    "percent",
    "days",
    "number",
    "date",
    "change",
)


@dataclass(frozen=True)
class Column:
    key: str
    label: StrOrPromise
    kind: str = TEXT


@dataclass(frozen=True)
class Chart:
    """What to draw: `kind` is bar, line or funnel; `category` the column along the axis; `series` the
    columns drawn (those in `lines` as lines on a bar chart); `top` the rows drawn, when not all."""

    kind: str
    category: str
    series: tuple[str, ...]
    lines: tuple[str, ...] = ()
    horizontal: bool = False
    top: int | None = None


@dataclass
class ReportTable:
    key: str
    title: StrOrPromise
    columns: list[Column]
    rows: list[Row]
    chart: Chart | None = None
    note: StrOrPromise = ""
    wide: bool = True
    links: dict[str, str] = field(default_factory=dict)

    def cells(self) -> list[list[tuple[Any, str, str]]]:
        """Each row as (value, kind, link) per column. A row may give a cell its own kind under
        "<column>_kind"; `links` names the row key holding a column's URL."""
        return [
            [
                (row.get(column.key), _kind(row, column), row.get(self.links.get(column.key, ""), ""))
                for column in self.columns
            ]
            for row in self.rows
        ]

    def chart_data(self) -> dict[str, Any]:
        """What static/crm/reports.js draws; empty for a table without a chart."""
        chart = self.chart
        if chart is None:
            return {}
        rows = self.rows[: chart.top] if chart.top else self.rows
        labels = {column.key: str(column.label) for column in self.columns}
        kinds = {column.key: column.kind for column in self.columns}
        categories = [str(row[chart.category]) for row in rows]
        series = [
            {
                "name": labels[key],
                "kind": kinds[key],
                "line": chart.kind == "line" or key in chart.lines,
                "data": [_plot(row.get(key)) for row in rows],
            }
            for key in chart.series
        ]
        return {
            "kind": chart.kind,
            "title": str(self.title),
            "horizontal": chart.horizontal,
            "categories": categories,
            "series": series,
        }

    def export(self, export_format: str, filename: str) -> HttpResponse | StreamingHttpResponse:
        headers = [str(column.label) for column in self.columns]
        rows = ([_exported(row.get(c.key), _kind(row, c)) for c in self.columns] for row in self.rows)
        return export_response(export_format, filename, headers, rows, sheet_title=str(self.title))


def _kind(row: Row, column: Column) -> str:
    return row.get(f"{column.key}_kind", column.kind)


def _plot(value: Any) -> Any:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal | float) else value


def _exported(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == DAYS:
        return one_decimal(value)
    if kind == DATE:
        return localdate(value)
    return value if kind in (COUNT, CHANGE, MONEY, PERCENT, NUMBER) else str(value)
