"""The one writer of the summary rows (summaries/models.py).

A service that changes what a fact contributes — an order's stamps, status, net total, balance, owner,
customer or currency; a deal's outcome, stage, probability, amount, owner or customer; a customer's owner
— calls `uncount_*` on the facts it changes once their rows are locked and `count_*` after the change, in
the same transaction: the facts' old contribution is taken out of the summary rows and their new one put
in, each with one INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE that adds to the rows already there.
`rebuild()` empties the rows and counts every fact with the same queries, so incremental upkeep and a
rebuild agree by construction. A row that a change empties stays, with zeros.

Days are local days of the site's time zone, as the reports' periods are."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, DecimalField, F, Model, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from crm.reporting import days_between
from opportunities.models import Opportunity
from orders.models import ZERO, Order, net_total
from summaries.models import BalanceDue, DealDay, OpenPipeline, OrderDay

PERCENT_OF_AMOUNT = DecimalField(max_digits=24, decimal_places=2)
# Contributions name their columns after the summary's fields with this prefix, clear of the facts' own.
PREFIX = "to_"


def _local_day(stamp: str) -> TruncDate:
    return TruncDate(stamp, tzinfo=timezone.get_default_timezone())


def _grouped(facts: QuerySet[Any], keys: dict[str, Any], measures: dict[str, Any]) -> QuerySet[Any]:
    """What `facts` contribute: grouped by their owner, their customer's owner and `keys`, with the
    `measures` of each group (all named with PREFIX)."""
    columns = {f"{PREFIX}owner": F("owner"), f"{PREFIX}customer_owner": F("customer__owner"), **keys}
    return facts.order_by().annotate(**columns).values(*columns).annotate(**measures)


def _per_day(
    facts: QuerySet[Any],
    stamps: dict[str, str],
    keys: dict[str, Any],
    measures: Callable[[str], dict[str, Any]],
) -> Iterator[QuerySet[Any]]:
    """Per kind of day ({kind: stamp}): the facts stamped, grouped by the stamp's local day too, with
    the measures of that stamp."""
    for kind, stamp in stamps.items():
        day_keys = {f"{PREFIX}kind": Value(kind), f"{PREFIX}day": _local_day(stamp), **keys}
        yield _grouped(facts.filter(**{f"{stamp}__isnull": False}), day_keys, measures(stamp))


def _order_contributions(orders: QuerySet[Order]) -> Iterable[QuerySet[Any]]:
    stamps = {OrderDay.Kind.BOOKED.value: "confirmed_at", OrderDay.Kind.REVENUE.value: "finished_at"}
    measures = {f"{PREFIX}amount": Sum(net_total()), f"{PREFIX}orders": Count("pk")}
    return _per_day(orders, stamps, {f"{PREFIX}currency": F("currency")}, lambda stamp: measures)


def _balance_contributions(orders: QuerySet[Order]) -> QuerySet[Any]:
    from orders.selectors import balance_due  # it imports the order services, which import this module

    measures = {f"{PREFIX}orders": Count("pk"), f"{PREFIX}amount": Sum("balance")}
    return _grouped(orders.filter(balance_due()), {f"{PREFIX}currency": F("currency")}, measures)


def _deal_contributions(deals: QuerySet[Opportunity]) -> Iterable[QuerySet[Any]]:
    stamps = {DealDay.Kind.WON.value: "won_at", DealDay.Kind.LOST.value: "lost_at"}
    return _per_day(
        deals,
        stamps,
        {},
        lambda stamp: {
            f"{PREFIX}deals": Count("pk"),
            f"{PREFIX}amount": Coalesce(Sum("amount"), Value(ZERO)),
            f"{PREFIX}cycle_days": Sum(days_between(F(stamp), F("created_at"))),
        },
    )


def _pipeline_contributions(deals: QuerySet[Opportunity]) -> QuerySet[Any]:
    percent_amount = Sum(F("amount") * F("probability"), output_field=PERCENT_OF_AMOUNT)
    measures = {
        f"{PREFIX}deals": Count("pk"),
        f"{PREFIX}amount": Coalesce(Sum("amount"), Value(ZERO)),
        f"{PREFIX}percent_amount": Coalesce(percent_amount, Value(ZERO)),
    }
    return _grouped(deals.open(), {}, measures)  # type: ignore[attr-defined]


def _add(summary: type[Model], contributions: QuerySet[Any], sign: int) -> None:
    """Adds `sign` × the contributions to the summary's rows, making the rows that are missing."""
    (key,) = summary._meta.constraints
    fields = [f for f in summary._meta.concrete_fields if not f.primary_key]
    keys = [f for f in fields if f.name in key.fields]  # type: ignore[attr-defined]
    measures = [f for f in fields if f not in keys]
    quote = connection.ops.quote_name
    table = quote(summary._meta.db_table)
    select, params = contributions.query.sql_with_params()
    columns = ", ".join(quote(field.attname) for field in [*keys, *measures])
    values = ", ".join(
        [
            *(f"c.{PREFIX}{field.name}" for field in keys),
            *(f"%s * c.{PREFIX}{field.name}" for field in measures),
        ]
    )
    added = ", ".join(
        f"{quote(field.attname)} = {table}.{quote(field.attname)} + excluded.{quote(field.attname)}"
        for field in measures
    )
    conflict = ", ".join(quote(field.attname) for field in keys)
    # "WHERE true": SQLite reads ON CONFLICT after a bare SELECT as part of a join.
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {values} FROM ({select}) AS c WHERE true "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {added}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*[sign] * len(measures), *params])


def _add_orders(orders: QuerySet[Order], sign: int) -> None:
    for contributions in _order_contributions(orders):
        _add(OrderDay, contributions, sign)
    _add(BalanceDue, _balance_contributions(orders), sign)


def _add_deals(deals: QuerySet[Opportunity], sign: int) -> None:
    for contributions in _deal_contributions(deals):
        _add(DealDay, contributions, sign)
    _add(OpenPipeline, _pipeline_contributions(deals), sign)


def uncount_orders(orders: QuerySet[Order]) -> None:
    """Takes what `orders` contribute out of the summaries, before they change (rows locked)."""
    _add_orders(orders, -1)


def count_orders(orders: QuerySet[Order]) -> None:
    """Puts what `orders` contribute into the summaries: new orders, or changed ones after
    uncount_orders()."""
    _add_orders(orders, 1)


def uncount_deals(deals: QuerySet[Opportunity]) -> None:
    """Takes what `deals` contribute out of the summaries, before they change (rows locked)."""
    _add_deals(deals, -1)


def count_deals(deals: QuerySet[Opportunity]) -> None:
    """Puts what `deals` contribute into the summaries: new deals, or changed ones after
    uncount_deals()."""
    _add_deals(deals, 1)


def uncount_customers(customer_ids: Iterable[int]) -> None:
    """Takes the orders and deals of the customers out, before their owner changes or they merge. Their
    rows are locked first, so that no service changes one of them between this and count_customers()."""
    ids = list(customer_ids)
    for facts in (Order.objects.filter(customer__in=ids), Opportunity.objects.filter(customer__in=ids)):
        list(facts.select_for_update().order_by().values_list("pk"))
    uncount_orders(Order.objects.filter(customer__in=ids))
    uncount_deals(Opportunity.objects.filter(customer__in=ids))


def count_customers(customer_ids: Iterable[int]) -> None:
    """Puts the orders and deals of the customers back in, after uncount_customers() and the change."""
    ids = list(customer_ids)
    count_orders(Order.objects.filter(customer__in=ids))
    count_deals(Opportunity.objects.filter(customer__in=ids))


def facts_of(user: User) -> tuple[QuerySet[Order], QuerySet[Opportunity]]:
    """The orders and deals `user` owns or whose customer they own, locked and fixed by id (the same rows
    before and after a change of owners): what handing over that user's records may move."""
    mine = Q(owner=user) | Q(customer__owner=user)
    orders = Order.objects.filter(mine).select_for_update(of=("self",)).values_list("pk", flat=True)
    deals = Opportunity.objects.filter(mine).select_for_update(of=("self",)).values_list("pk", flat=True)
    return Order.objects.filter(pk__in=list(orders)), Opportunity.objects.filter(pk__in=list(deals))


SUMMARIES: tuple[type[Model], ...] = (OrderDay, BalanceDue, DealDay, OpenPipeline)


def summary_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every summary row that counts something, without its id, in order: {model name: rows}."""
    rows = {}
    for summary in SUMMARIES:
        fields = [f.attname for f in summary._meta.concrete_fields if not f.primary_key]
        counted = [name for name in ("orders", "deals") if name in fields]
        rows[summary.__name__] = sorted(
            tuple(values)
            for values in summary._default_manager.values_list(*fields)
            if any(values[fields.index(name)] for name in counted)
        )
    return rows


def drifted() -> list[str]:
    """The summaries whose kept rows differ from a rebuild (which is rolled back): empty when right."""
    with transaction.atomic():
        kept = summary_rows()
        rebuild()
        rebuilt = summary_rows()
        transaction.set_rollback(True)
    return [name for name in kept if kept[name] != rebuilt[name]]


@transaction.atomic
def rebuild() -> None:
    """Every summary row recomputed from the facts: for a database whose facts were written around the
    services (a migration, a bulk load), and to check the rows kept incrementally."""
    for summary in SUMMARIES:
        summary._default_manager.all().delete()
    count_orders(Order.objects.all())
    count_deals(Opportunity.objects.all())
