"""Deals imported with their history from another CRM (reading and column mapping: crm/importing.py).

Each row is a deal of an existing customer (by the customer's exact name): its title, amount,
expected close date, when it was created and, for a deal won or lost, when. The times become the deal's
and its events' times (opportunities.services.import_deal), so sales cycles, win rates and the funnel
read the real history. A row with an external id already imported updates that deal's fields. Every row
is a savepoint: a rejected row leaves nothing and never stops the others. A dry run is rolled back.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.importing import (
    Action,
    Columns,
    ImportField,
    ImportReport,
    Row,
    RowRejected,
    RowResult,
    Table,
    parse_amount,
    parse_day,
    parse_instant,
    require_columns,
)
from customers.models import Customer
from opportunities import services

COLUMNS = Columns(
    (
        ImportField(
            "external_id", gettext_lazy("External id"), ("id", "deal id", "opportunity id", "外部编号")
        ),
        ImportField("customer", gettext_lazy("Customer"), ("account", "company", "客户", "客户名称")),
        ImportField("title", gettext_lazy("Title"), ("deal", "opportunity", "name", "标题", "商机")),
        ImportField("amount", gettext_lazy("Amount"), ("value", "close_value", "金额")),
        ImportField("owner", gettext_lazy("Owner"), ("sales_agent", "agent", "负责人", "销售")),
        ImportField("created_at", gettext_lazy("Created"), ("engage_date", "created", "创建时间")),
        ImportField("outcome", gettext_lazy("Outcome"), ("deal_stage", "status", "结果", "状态")),
        ImportField("closed_at", gettext_lazy("Won or lost at"), ("close_date", "closed", "成交时间")),
        ImportField("expected_close_date", gettext_lazy("Expected close date"), ("预计成交日期",)),
        ImportField("lost_reason", gettext_lazy("Reason lost"), ("reason", "丢单原因")),
    )
)
OUTCOME_WORDS = {
    "won": "won",
    "赢单": "won",
    "成交": "won",
    "lost": "lost",
    "丢单": "lost",
    "输单": "lost",
    "open": "open",
    "engaging": "open",
    "prospecting": "open",
    "进行中": "open",
}


def run_import(*, actor: User | None, table: Table, mapping: Sequence[str], commit: bool) -> ImportReport:
    """Apply every row as `actor` (None: the system); without `commit`, roll it all back."""
    COLUMNS.check(mapping)
    require_columns(COLUMNS, table.headers, mapping, ("customer", "title", "created_at"))
    customers = dict(Customer.objects.values_list("name", "pk"))
    users = {user.get_username(): user for user in User.objects.filter(is_active=True)}
    with transaction.atomic():
        results = [
            _import_row(actor, row, COLUMNS.values(row, mapping), customers, users) for row in table.rows
        ]
        if not commit:
            transaction.set_rollback(True)
    return ImportReport(results, committed=commit)


def _import_row(
    actor: User | None, row: Row, values: dict[str, str], customers: dict[str, int], users: dict[str, User]
) -> RowResult:
    title = values.get("title", "")
    try:
        fields = _fields(values, customers, users)
        with transaction.atomic():
            opportunity, created = services.import_deal(actor=actor, **fields)
    except RowRejected as rejection:
        return RowResult(row.number, Action.REJECT, title, errors=rejection.messages)
    except (ValidationError, PermissionDenied) as error:
        return RowResult(row.number, Action.REJECT, title, errors=_messages(error))
    return RowResult(
        row.number, Action.CREATE if created else Action.UPDATE, str(opportunity), opportunity.pk
    )


def _fields(values: dict[str, str], customers: dict[str, int], users: dict[str, User]) -> dict[str, Any]:
    customer_id = customers.get(" ".join(values.get("customer", "").split()))
    if customer_id is None:
        raise RowRejected(COLUMNS.message("customer", _("No customer has exactly this name.")))
    created_at = parse_instant(COLUMNS, "created_at", values.get("created_at", ""))
    closed_at = parse_instant(COLUMNS, "closed_at", values["closed_at"]) if values.get("closed_at") else None
    outcome = OUTCOME_WORDS.get(values.get("outcome", "open").strip().casefold())
    if outcome is None:
        raise RowRejected(COLUMNS.message("outcome", _("Write open, won or lost.")))
    fields: dict[str, Any] = {
        "customer": Customer.objects.get(pk=customer_id),
        "title": values.get("title", ""),
        "external_id": values.get("external_id", "").strip(),
        "created_at": created_at,
        "outcome": outcome,
        "closed_at": closed_at,
        "lost_reason": values.get("lost_reason", "")
        or (_("Lost before the import") if outcome == "lost" else ""),
        "amount": _amount(values.get("amount", "0")),
        "expected_close_date": parse_day(COLUMNS, "expected_close_date", values["expected_close_date"])
        if values.get("expected_close_date")
        else timezone.localdate(closed_at or created_at),
    }
    if values.get("owner"):
        if values["owner"] not in users:
            raise RowRejected(COLUMNS.message("owner", _("No active user has this username.")))
        fields["owner"] = users[values["owner"]]
    return fields


def _amount(text: str) -> Decimal:
    return parse_amount(COLUMNS, "amount", text or "0")


def _messages(error: ValidationError | PermissionDenied) -> list[Any]:
    if isinstance(error, PermissionDenied):
        return [str(error)]
    errors = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    return [COLUMNS.message(key, text) for key, texts in errors.items() for text in texts]
