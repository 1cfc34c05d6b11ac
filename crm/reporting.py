"""What every report shares: the period it covers, the filters it takes, the dimensions it groups by,
and the statistics the database computes.

Each figure of the reports is a selector in its app's `reports.py` (one function per figure). It
starts from `Model.objects.visible_to(user)` through a `Fact`, so a salesperson's figures count only
what they may see, applies the report filters, and returns plain rows (dicts) from one aggregate
query grouped by the dimensions asked for. Medians and percentiles are `percentile_cont` inside that
query on PostgreSQL; SQLite has no such aggregate, so there a second query ranks the values with
window functions and returns only the one or two rows around each percentile. Nothing loops over
the underlying rows in Python: the rows that come back are groups.

Grouping dimensions are named by key ("month", "owner", "team", "office", "product", "region",
"industry", "tag", and what a fact adds, e.g. "stage" or "source"), so a new dimension is one more
entry in `Fact.dimension`, and every figure that takes `by` can be grouped by it.

The team of a row is the team its owner belongs to *when the report is read* (accounts.Membership),
not when the row was made: moving a salesperson to another team moves their history with them. The
office is that team's region / office. Rows whose owner has no team group under "No team".
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from django.db import connection
from django.db.models import (
    Aggregate,
    Choices,
    Count,
    Expression,
    F,
    FloatField,
    Func,
    Model,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, TruncMonth
from django.utils.translation import gettext_lazy as _

from crm.filters import end_of_day, start_of_day
from crm.models import VisibleQuerySet
from customers.models import Customer

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType
    from django_stubs_ext import StrOrPromise

    from accounts.models import Team
    from customers.models import Tag
    from orders.models import Product

CENT = Decimal("0.01")
TENTH = Decimal("0.1")

# --- the period -------------------------------------------------------------------------------

# Each preset runs from the start of the current month, quarter or year (or of the month eleven months
# back) to today; its previous period is the same span that many months earlier.
PRESETS = {
    "this_month": (_("This month"), 1),
    "this_quarter": (_("This quarter"), 3),
    "this_year": (_("This year"), 12),
    "last_12_months": (_("Last 12 months"), 12),
}
DEFAULT_PRESET = "last_12_months"
CUSTOM = "custom"
# A period longer than this is refused: a monthly table or chart of more would not be read.
LONGEST_PERIOD_DAYS = 366 * 5


def add_months(day: date, months: int) -> date:
    """The same day `months` later (earlier when negative), on the month's last day when it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_start(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True)
class Period:
    """The days from `start` to `end`, both included, in the site's time zone."""

    start: date
    end: date
    preset: str = CUSTOM

    @classmethod
    def from_preset(cls, preset: str, today: date) -> Period:
        first = {
            "this_month": month_start(today),
            "this_quarter": date(today.year, (today.month - 1) // 3 * 3 + 1, 1),
            "this_year": date(today.year, 1, 1),
            "last_12_months": add_months(month_start(today), -11),
        }[preset]
        return cls(first, today, preset)

    @property
    def label(self) -> str:
        return str(PRESETS[self.preset][0]) if self.preset in PRESETS else ""

    @property
    def since(self) -> datetime:
        return start_of_day(self.start)

    @property
    def until(self) -> datetime:
        """The first instant after the period."""
        return end_of_day(self.end)

    def previous(self) -> Period:
        """The period to compare with: a preset's span that many months earlier; the same number of
        whole months just before, for whole months; else the same number of days just before."""
        if self.preset in PRESETS:
            months = PRESETS[self.preset][1]
            return Period(add_months(self.start, -months), add_months(self.end, -months), self.preset)
        if self.start.day == 1 and (self.end + timedelta(days=1)).day == 1:
            months = len(self.months())
            return Period(add_months(self.start, -months), self.start - timedelta(days=1))
        days = (self.end - self.start).days + 1
        return Period(self.start - timedelta(days=days), self.start - timedelta(days=1))

    def contains(self, path: str) -> Q:
        """Rows whose datetime `path` falls in the period (a range its index serves)."""
        return Q(**{f"{path}__gte": self.since, f"{path}__lt": self.until})

    def contains_day(self, path: str) -> Q:
        return Q(**{f"{path}__gte": self.start, f"{path}__lte": self.end})

    def months(self) -> list[date]:
        """The first day of every month the period touches, in order."""
        months, month = [], month_start(self.start)
        while month <= self.end:
            months.append(month)
            month = add_months(month, 1)
        return months

    def as_query(self) -> dict[str, str]:
        """The request parameters that choose this period."""
        if self.preset in PRESETS:
            return {"period": self.preset}
        return {"period": CUSTOM, "start": self.start.isoformat(), "end": self.end.isoformat()}


def spanning(periods: Iterable[Period], path: str = "day") -> Q:
    """Rows whose date `path` falls from the first period's start to the last one's end: one range an
    index on (owner, day) serves, where the OR of the periods' ranges would not be."""
    spans = list(periods)
    return Q(**{f"{path}__gte": min(p.start for p in spans), f"{path}__lte": max(p.end for p in spans)})


# --- the filters ------------------------------------------------------------------------------

DEFAULT_CURRENCY = "CNY"


@dataclass(frozen=True)
class ReportFilters:
    """What a reader narrows a report to. Amounts are in one currency: orders in others are left out."""

    owner: User | None = None
    team: Team | None = None
    product: Product | None = None
    region: str = ""
    tag: Tag | None = None
    currency: str = DEFAULT_CURRENCY


# --- facts and dimensions ---------------------------------------------------------------------

# A row a selector returns: the group's dimension values and names, and its measures.
Row = dict[str, Any]


def person_name(username: str, first_name: str, last_name: str) -> str:
    return f"{first_name} {last_name}".strip() or username


@dataclass(frozen=True)
class Dimension:
    """What rows are grouped by: `expression` is the group's value; `label_paths` are read with it and
    `namer` makes the group's name from them (by default they are joined)."""

    key: str
    label: StrOrPromise
    expression: Expression | F
    label_paths: tuple[str, ...] = ()
    choices: type[Choices] | None = None
    empty: StrOrPromise = ""
    namer: Callable[..., str] | None = None
    sort_path: str = ""  # groups come in this order (e.g. a stage's position), else by their value

    def name(self, row: Row) -> str:
        """The group's name as the reader sees it."""
        value = row[self.key]
        if value is None or value == "":
            return str(self.empty)
        if isinstance(value, date):
            return value.strftime("%Y-%m")
        if self.choices is not None:
            return str(self.choices(value).label) if value in self.choices.values else value
        labels = [row[f"_{path}"] for path in self.label_paths]
        if self.namer is not None:
            return self.namer(*labels)
        return " · ".join(str(label) for label in labels if label) or str(value)


def _under(prefix: str, path: str) -> str:
    return f"{prefix}__{path}" if prefix else path


RowsT = TypeVar("RowsT", bound=VisibleQuerySet[Any], covariant=True)


class Objects(Protocol[RowsT]):
    """A model's manager (`Order.objects`) whose rows have a visibility rule."""

    @property
    def model(self) -> type[Model]: ...

    def all(self) -> RowsT: ...


@dataclass(frozen=True)
class Fact(Generic[RowsT]):
    """A kind of row the reports count (orders, order lines, opportunities, …), given by its model's
    manager, and the paths from it to what the filters and dimensions name. `rows(user, filters)` is
    where every figure starts."""

    objects: Objects[RowsT]
    owner: str = "owner"
    customer: str = "customer"
    product: str | None = None
    currency: str | None = None
    extra: dict[str, Dimension] = field(default_factory=dict)

    def rows(self, user: User, filters: ReportFilters) -> RowsT:
        rows = self.objects.all().visible_to(user)
        if filters.owner is not None:
            rows = rows.filter(**{self.owner: filters.owner})
        if filters.team is not None:
            rows = rows.filter(**{self.team: filters.team})
        if filters.product is not None and self.product is not None:
            if "__" in self.product:
                # Through a to-many relation (an order's lines): rows that have one, each row once.
                with_product = self.objects.all().filter(**{self.product: filters.product})
                rows = rows.filter(pk__in=with_product.values("pk"))
            else:
                rows = rows.filter(**{self.product: filters.product})
        if filters.region:
            # As in the customer list: a region and the places under it ("上海" finds "上海市浦东").
            rows = rows.filter(**{_under(self.customer, "region__istartswith"): filters.region})
        if filters.tag is not None:
            rows = rows.filter(**{_under(self.customer, "tags"): filters.tag})
        if self.currency is not None:
            rows = rows.filter(**{self.currency: filters.currency})
        return rows

    @property
    def team(self) -> str:
        """The path to the team of the row's owner (at report time)."""
        return f"{self.owner}__membership__team"

    def dimension(self, key: str, date_path: str | Expression | None = None) -> Dimension:
        """The dimension `key` for these rows; "month" is the month of `date_path` (a path or expression)."""
        if key in self.extra:
            return self.extra[key]
        if key == "month" and date_path is not None:
            return Dimension("month", _("Month"), TruncMonth(date_path))
        if key == "owner":
            names = ("username", "first_name", "last_name")
            paths = tuple(f"{self.owner}__{name}" for name in names)
            return Dimension("owner", _("Owner"), F(self.owner), paths, namer=person_name)
        if key == "team":
            return Dimension("team", _("Team"), F(self.team), (f"{self.team}__name",), empty=_("No team"))
        if key == "office":
            # A team without an office and an owner without a team are one group.
            office = Coalesce(F(f"{self.team}__region"), Value(""))
            return Dimension("office", _("Office"), office, empty=_("No office"))
        if key == "product" and self.product is not None:
            return Dimension(
                "product",
                _("Product"),
                F(self.product),
                (f"{self.product}__sku", f"{self.product}__name"),
                empty=_("Without a product"),
            )
        if key == "region":
            return Dimension("region", _("Region"), F(_under(self.customer, "region")), empty=_("No region"))
        if key == "industry":
            return Dimension(
                "industry",
                _("Industry"),
                F(_under(self.customer, "industry")),
                choices=Customer.Industry,
                empty=_("No industry"),
            )
        if key == "tag":
            tags = _under(self.customer, "tags")
            return Dimension("tag", _("Tag"), F(tags), (f"{tags}__name",), empty=_("No tag"))
        raise ValueError(f"{self.objects.model.__name__} rows cannot be grouped by {key!r}")

    def dimensions(self, by: Sequence[str], date_path: str | Expression | None = None) -> list[Dimension]:
        return [self.dimension(key, date_path) for key in by]


# --- statistics the database computes ---------------------------------------------------------


class Seconds(Func):
    """The seconds from `start` to `end`, two datetimes, as a float."""

    output_field = FloatField()

    def __init__(self, end: Expression | F, start: Expression | F, **extra: Any) -> None:
        super().__init__(end, start, **extra)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        # Datetimes are stored as ISO text in UTC; julianday reads them to the millisecond.
        return self.as_sql(
            compiler,
            connection,
            template="((JULIANDAY(%(expressions)s)) * 86400.0)",
            arg_joiner=") - JULIANDAY(",
            **extra_context,
        )


class Square(Func):
    """A value times itself; in floating point on SQLite, whose integers would overflow when summed."""

    template = "(%(expressions)s * %(expressions)s)"

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        template = "(CAST(%(expressions)s AS REAL) * CAST(%(expressions)s AS REAL))"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def sample_variance(
    count: int, total: Decimal | float | None, squares: Decimal | float | None
) -> Decimal | None:
    """Σ(y − ȳ)² / (n − 1) from n, Σy and Σy² (None for fewer than two values); exact on PostgreSQL's
    numeric sums."""
    if count < 2:
        return None
    total, squares = Decimal(str(total)), Decimal(str(squares))
    return max(Decimal(0), (squares - total * total / count) / (count - 1))


def days_between(end: Expression | F, start: Expression | F) -> Expression:
    return Seconds(end, start) / 86400.0


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile: the value at `fraction` of the ordered values, interpolated
    between the two nearest (0.5 is the median)."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Expression | F, fraction: str, **extra: Any) -> None:
        super().__init__(expression, fraction=str(Decimal(fraction)), **extra)


@dataclass(frozen=True)
class Percentile:
    """A percentile of `expression` over the rows of each group, e.g. Percentile(F("total"), "0.5")."""

    expression: Expression | F
    fraction: str


def grouped(
    rows: QuerySet[Any],
    dimensions: Sequence[Dimension],
    measures: Mapping[str, Aggregate],
    **percentiles: Percentile,
) -> list[Row]:
    """One row per group of `rows` by `dimensions` (a single row when there are none), with each of
    `measures` (aggregates) and `percentiles`, and each dimension's value and its name (`<key>_name`).

    One query; on SQLite, one more per distinct expression whose percentiles are asked for.
    """
    aliases = {f"by_{d.key}": d.expression for d in dimensions}
    label_paths = [path for d in dimensions for path in d.label_paths]
    label_paths += [d.sort_path for d in dimensions if d.sort_path and d.sort_path not in label_paths]
    ordering = [f"_{d.sort_path}" if d.sort_path else f"by_{d.key}" for d in dimensions]
    # Measures are computed under their own names, so that "amount" may sum the field amount.
    aggregates = {f"measure_{name}": aggregate for name, aggregate in measures.items()}
    native = connection.vendor == "postgresql"
    if native:
        aggregates |= {
            f"measure_{name}": PercentileCont(p.expression, p.fraction) for name, p in percentiles.items()
        }
    if dimensions:
        queryset = (
            rows.annotate(**aliases, **{f"_{path}": F(path) for path in label_paths})
            .values(*aliases, *(f"_{path}" for path in label_paths))
            .annotate(**aggregates)
            .order_by(*ordering)
        )
        result = [_renamed(row, dimensions) for row in queryset]
    else:
        result = [_renamed(rows.aggregate(**aggregates), [])]
    if percentiles and not native:
        _add_ranked_percentiles(rows, dimensions, aliases, result, percentiles)
    return result


def _renamed(row: Row, dimensions: Sequence[Dimension]) -> Row:
    for d in dimensions:
        row[d.key] = _plain(row.pop(f"by_{d.key}"))
    for d in dimensions:
        row[f"{d.key}_name"] = d.name(row)
    for key in [key for key in row if key.startswith("_")]:
        del row[key]
    for key in [key for key in row if key.startswith("measure_")]:
        row[key.removeprefix("measure_")] = row.pop(key)
    return row


def _plain(value: Any) -> Any:
    """A month truncated in the site's time zone is its first day."""
    return value.date() if isinstance(value, datetime) else value


def _group_key(row: Row, keys: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row[key] for key in keys)


def _add_ranked_percentiles(
    rows: QuerySet[Any],
    dimensions: Sequence[Dimension],
    aliases: dict[str, Expression | F],
    result: list[Row],
    percentiles: dict[str, Percentile],
) -> None:
    """Percentiles without a percentile aggregate: per expression, one query numbers the values of each
    group in order and keeps the rows next to each percentile's position; the value is interpolated
    between them exactly as percentile_cont does."""
    keys = [d.key for d in dimensions]
    by_group = {_group_key(row, keys): row for row in result}
    by_expression: dict[str, list[tuple[str, Fraction]]] = {}
    expressions: dict[str, Expression | F] = {}
    for name, percentile in percentiles.items():
        token = str(percentile.expression)
        expressions[token] = percentile.expression
        by_expression.setdefault(token, []).append((name, Fraction(Decimal(percentile.fraction))))
    for token, wanted in by_expression.items():
        partition = [F(alias) for alias in aliases] or None
        ranked = (
            rows.annotate(**aliases, _value=expressions[token])
            .filter(_value__isnull=False)
            .annotate(
                _index=Window(RowNumber(), partition_by=partition, order_by=[F("_value").asc()]) - 1,
                _count=Window(Count("pk"), partition_by=partition),
            )
        )
        # Keep the values within one place of any wanted position: index > pos - 1 and index < pos + 1.
        near = Q()
        for _name, fraction in wanted:
            position = F("_count") * float(fraction) - float(fraction)
            near |= Q(_index__gt=position - 1.5, _index__lt=position + 1.5)
        values: dict[tuple[Any, ...], dict[int, Any]] = {}
        counts: dict[tuple[Any, ...], int] = {}
        for row in ranked.filter(near).values(*aliases, "_index", "_count", "_value"):
            group = tuple(_plain(row[alias]) for alias in aliases)
            values.setdefault(group, {})[row["_index"]] = row["_value"]
            counts[group] = row["_count"]
        for group, row in by_group.items():
            for name, fraction in wanted:
                row[name] = _interpolated(values.get(group, {}), counts.get(group, 0), fraction)


def _interpolated(values: dict[int, Any], count: int, fraction: Fraction) -> float | None:
    if not count:
        return None
    position = fraction * (count - 1)
    low, high = int(position), -int(-position // 1)
    share = position - low
    return float(values[low]) + float(share) * (float(values[high]) - float(values[low]))


# --- rounding for people ----------------------------------------------------------------------


def money(value: Decimal | float | None) -> Decimal:
    """An amount from the database (Decimal, float or None) to the cent."""
    return Decimal(str(value or 0)).quantize(CENT, ROUND_HALF_UP)


def one_decimal(value: Decimal | float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(TENTH, ROUND_HALF_UP)


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part / whole as a percentage with one decimal; None when whole is zero."""
    if not whole:
        return None
    return (Decimal(100) * Decimal(part) / Decimal(whole)).quantize(TENTH, ROUND_HALF_UP)
