"""Deals imported with their history from another CRM (reading and column mapping: crm/importing.py).

Each row is a deal of an existing customer (by the customer's exact name): its title, amount,
expected close date, when it was created, the open stage it reached and when, and, for a deal won or
lost, when. The times become the deal's and its events' times (opportunities.services.import_deals), so
sales cycles, win rates, the funnel and the time in each stage read the real history. A row with an
external id already imported (by an earlier import or an earlier row) updates that deal's fields.
Choices (outcome, stage, source) are written by their value or their label in either language.

The whole file runs in one transaction, CHUNK_SIZE rows at a time: one query per chunk finds the
customers its rows name, one the owners, and services.import_deals checks and writes the chunk's
deals together, so the number of queries grows with the chunks, not the rows. A rejected row leaves
nothing and never stops the others. A dry run is the same run rolled back: its verdict is the real
run's.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from crm.importing import (
    Action,
    ChoiceLookup,
    Columns,
    ImportField,
    ImportReport,
    Row,
    RowRejected,
    RowResult,
    Table,
    choice_names,
    full_collections_deferred,
    parse_amount,
    parse_day,
    parse_instant,
    require_columns,
)
from customers.models import Customer
from opportunities import services
from opportunities.models import Stage

COLUMNS = Columns(
    (
        ImportField(
            "external_id",
            gettext_lazy("External id"),
            ("id", "deal id", "opportunity id", "opportunity_id", "外部编号"),
        ),
        ImportField("customer", gettext_lazy("Customer"), ("account", "company", "客户", "客户名称")),
        ImportField("title", gettext_lazy("Title"), ("deal", "opportunity", "name", "标题", "商机")),
        ImportField("amount", gettext_lazy("Amount"), ("value", "close_value", "金额")),
        ImportField("owner", gettext_lazy("Owner"), ("sales_agent", "agent", "负责人", "销售")),
        ImportField("created_at", gettext_lazy("Created"), ("engage_date", "created", "创建时间")),
        ImportField("outcome", pgettext_lazy("deal", "Outcome"), ("deal_stage", "status", "结果", "状态")),
        ImportField("stage", gettext_lazy("Stage"), ("pipeline stage", "阶段", "销售阶段")),
        ImportField("stage_reached_at", gettext_lazy("Stage reached at"), ("stage_reached", "进入阶段时间")),
        ImportField("closed_at", gettext_lazy("Won or lost at"), ("close_date", "closed", "成交时间")),
        ImportField("expected_close_date", gettext_lazy("Expected close date"), ("预计成交日期",)),
        ImportField("lost_reason", gettext_lazy("Reason lost"), ("reason", "丢单原因")),
        ImportField("source", gettext_lazy("Source"), ("lead source", "来源")),
    )
)
CHUNK_SIZE = 500  # rows whose deals are checked and written together
# Besides the stage kinds' labels and the won and lost stages' codes and names, in either language.
OUTCOME_WORDS = {
    "成交": "won",
    "丢单": "lost",
    "engaging": "open",
    "prospecting": "open",
    "进行中": "open",
}


def run_import(*, actor: User | None, table: Table, mapping: Sequence[str], commit: bool) -> ImportReport:
    """Apply every row as `actor` (None: the system); without `commit`, roll it all back."""
    COLUMNS.check(mapping)
    require_columns(COLUMNS, table.headers, mapping, ("customer", "title", "created_at"))
    reader = _Reader(mapping)
    with transaction.atomic(), full_collections_deferred():
        results: list[RowResult] = []
        for start in range(0, len(table.rows), CHUNK_SIZE):
            results += _import_chunk(actor, table.rows[start : start + CHUNK_SIZE], reader)
        if not commit:
            transaction.set_rollback(True)
    return ImportReport(results, committed=commit)


def _import_chunk(actor: User | None, rows: Sequence[Row], reader: "_Reader") -> list[RowResult]:
    values = [COLUMNS.values(row, reader.mapping) for row in rows]
    customers = _customers_by_name(_customer_name(row_values) for row_values in values)
    usernames = {row_values["owner"] for row_values in values if "owner" in row_values}
    users = {
        user.get_username(): user for user in User.objects.filter(is_active=True, username__in=usernames)
    }
    results: list[RowResult | None] = []
    specs: list[dict[str, Any]] = []
    for row, row_values in zip(rows, values, strict=True):
        try:
            specs.append(reader.spec(row_values, customers, users))
            results.append(None)  # decided with the chunk's other deals
        except RowRejected as rejection:
            results.append(
                RowResult(row.number, Action.REJECT, row_values.get("title", ""), errors=rejection.messages)
            )
    outcomes = iter(services.import_deals(actor=actor, specs=specs))
    return [
        result or _result(row, row_values, next(outcomes))
        for row, row_values, result in zip(rows, values, results, strict=True)
    ]


def _result(row: Row, values: dict[str, str], outcome: services.DealResult) -> RowResult:
    if isinstance(outcome, (ValidationError, PermissionDenied)):
        return RowResult(row.number, Action.REJECT, values.get("title", ""), errors=_messages(outcome))
    opportunity, created = outcome
    return RowResult(
        row.number, Action.CREATE if created else Action.UPDATE, str(opportunity), opportunity.pk
    )


def _customer_name(values: dict[str, str]) -> str:
    return " ".join(values.get("customer", "").split())


def _customers_by_name(names: Iterable[str]) -> dict[str, list[Customer]]:
    customers: dict[str, list[Customer]] = defaultdict(list)
    for customer in Customer.objects.filter(name__in=set(names) - {""}).select_related("owner"):
        customers[customer.name].append(customer)
    return customers


class _Reader:
    """Turns a row's cells into a spec of services.import_deals, with what it needs read once a file."""

    def __init__(self, mapping: Sequence[str]) -> None:
        self.mapping = mapping
        stages = list(Stage.objects.all())
        closed = [stage for stage in stages if not stage.is_open]
        self.stages = ChoiceLookup(
            ((stage, name) for stage in stages for name in _stage_names(stage)),
            allowed=[stage.name for stage in stages if stage.is_open],
        )
        outcome_names = [
            *choice_names(Stage.Kind.choices),
            *((kind, word) for word, kind in OUTCOME_WORDS.items()),
            *((stage.kind, name) for stage in closed for name in _stage_names(stage)),
        ]
        self.outcomes = ChoiceLookup(outcome_names, allowed=Stage.Kind.labels)
        self.sources = ChoiceLookup.of_field(Customer._meta.get_field("source"))

    def spec(
        self, values: dict[str, str], customers: dict[str, list[Customer]], users: dict[str, User]
    ) -> dict[str, Any]:
        matches = customers.get(_customer_name(values), [])
        if not matches:
            raise RowRejected(COLUMNS.message("customer", _("No customer has exactly this name.")))
        if len(matches) > 1:
            raise RowRejected(
                COLUMNS.message("customer", _("Several customers have this name: rename them apart first."))
            )
        created_at = parse_instant(COLUMNS, "created_at", values.get("created_at", ""))
        closed_at = (
            parse_instant(COLUMNS, "closed_at", values["closed_at"]) if values.get("closed_at") else None
        )
        outcome = "open"
        if values.get("outcome"):
            outcome = self.outcomes.cell(COLUMNS, "outcome", values["outcome"])
        spec: dict[str, Any] = {
            "customer": matches[0],
            "title": values.get("title", ""),
            "external_id": values.get("external_id", "").strip(),
            "created_at": created_at,
            "outcome": outcome,
            "closed_at": closed_at,
            "lost_reason": values.get("lost_reason", "")
            or (_("Lost before the import") if outcome == "lost" else ""),
            "amount": parse_amount(COLUMNS, "amount", values.get("amount") or "0"),
            "expected_close_date": parse_day(COLUMNS, "expected_close_date", values["expected_close_date"])
            if values.get("expected_close_date")
            else timezone.localdate(closed_at or created_at),
        }
        if values.get("stage"):
            spec["stage"] = self.stages.cell(COLUMNS, "stage", values["stage"])
        if values.get("stage_reached_at"):
            spec["stage_reached_at"] = parse_instant(COLUMNS, "stage_reached_at", values["stage_reached_at"])
        if values.get("source"):
            spec["source"] = self.sources.cell(COLUMNS, "source", values["source"])
        if values.get("owner"):
            if values["owner"] not in users:
                raise RowRejected(COLUMNS.message("owner", _("No active user has this username.")))
            spec["owner"] = users[values["owner"]]
        return spec


def _stage_names(stage: Stage) -> tuple[str, ...]:
    return (stage.code, stage.name_en, stage.name_zh_hans)


def _messages(error: ValidationError | PermissionDenied) -> list[Any]:
    if isinstance(error, PermissionDenied):
        return [str(error)]
    errors = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    return [COLUMNS.message(key, text) for key, texts in errors.items() for text in texts]
