"""Orders imported with their lines, payments and history from another system (reading and column
mapping: crm/importing.py).

The file has one row per order line. The order's columns (its external id, customer, times…) are
repeated on each of its rows, or filled on its first row only; the rows of one order share its
external id. A row may also carry a payment (paid amount, paid at, method, reference): a payment
alone on a row without a product or description adds no line. An order's times say how far it got:
created at; confirmed at; processing since; finished at, or closed (cancelled) at with a reason. A
missing earlier step takes the time of the next one (an order finished at noon and never stamped as
processing was processing from noon).

Each order goes through the order services exactly as one entered by hand: create_order (lines,
totals, tax), confirm, start processing, record_payment, finish or close, each at the file's time
(`at=`), so the events, reports and cycle times read the real history. One result per order,
numbered by its first row. An order is a savepoint: when any of its rows is bad, the whole order is
rejected and nothing of it is written; the other orders go on. A dry run is the same run rolled
back.

An order whose external id was imported before is not created again: it catches up with the file
(the steps it has not taken yet, the payments it lacks, matched by time and amount) or is reported
with no change; its lines and amounts stay as first imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.importing import (
    Action,
    Change,
    ChoiceLookup,
    Columns,
    ImportField,
    ImportReport,
    Row,
    RowRejected,
    RowResult,
    Table,
    full_collections_deferred,
    parse_amount,
    parse_instant,
    require_columns,
)
from crm.models import model_field
from customers.models import Customer
from orders import services
from orders.access import can_change_order
from orders.models import Order, OrderLine, Payment, PaymentMethod, Product, Status

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _field(model: type[Any], key: str, name: str, *aliases: str) -> ImportField:
    return ImportField(key, capfirst(model_field(model, name).verbose_name), aliases)


PAYMENT_METHODS = ChoiceLookup.of_field(Order._meta.get_field("payment_method"))
COLUMNS = Columns(
    (
        ImportField(
            "external_id",
            gettext_lazy("Order external id"),
            ("order id", "order", "order no", "order number", "订单号", "订单编号", "外部订单号"),
        ),
        ImportField(
            "customer", gettext_lazy("Customer"), ("account", "company", "customer name", "客户", "客户名称")
        ),
        ImportField(
            "owner", gettext_lazy("Owner"), ("sales_agent", "agent", "salesperson", "负责人", "销售")
        ),
        ImportField(
            "created_at", gettext_lazy("Created"), ("order date", "ordered at", "下单时间", "创建时间")
        ),
        _field(Order, "confirmed_at", "confirmed_at", "confirmed", "确认时间"),
        _field(Order, "processing_at", "processing_at", "shipped at", "shipped", "processing", "发货时间"),
        _field(Order, "finished_at", "finished_at", "completed at", "completed", "finished", "完成时间"),
        ImportField(
            "closed_at",
            gettext_lazy("Closed (cancelled) at"),
            ("closed at", "cancelled at", "canceled at", "cancelled", "取消时间", "关闭时间"),
        ),
        _field(Order, "close_reason", "close_reason", "cancel reason", "reason", "取消原因", "关闭原因"),
        _field(Order, "currency", "currency", "币种"),
        _field(Order, "tax_rate", "tax_rate", "tax rate", "vat", "税率"),
        ImportField("discount", gettext_lazy("Order discount"), ("discount", "订单折扣", "整单折扣")),
        _field(Order, "payment_method", "payment_method", "payment method", "付款方式", "支付方式"),
        _field(Order, "shipping_address", "shipping_address", "address", "收货地址"),
        _field(Order, "carrier", "carrier", "快递公司", "物流公司"),
        _field(Order, "tracking_number", "tracking_number", "tracking", "运单号", "快递单号"),
        _field(Order, "notes", "notes", "备注"),
        ImportField(
            "product",
            gettext_lazy("Product (SKU or external id)"),
            ("sku", "product code", "item code", "产品编码", "货号"),
        ),
        _field(OrderLine, "description", "description", "item", "product name", "品名", "产品名称"),
        _field(OrderLine, "quantity", "quantity", "qty", "数量"),
        _field(OrderLine, "unit_price", "unit_price", "price", "单价"),
        ImportField("line_discount", gettext_lazy("Line discount"), ("行折扣", "明细折扣")),
        ImportField(
            "paid_amount",
            gettext_lazy("Paid amount"),
            ("paid", "payment", "amount paid", "付款金额", "实付金额"),
        ),
        _field(Payment, "paid_at", "paid_at", "payment date", "paid on", "付款时间", "支付时间"),
        ImportField(
            "payment_reference",
            gettext_lazy("Payment reference"),
            ("transaction id", "reference", "流水号", "交易号"),
        ),
    )
)
REQUIRED = ("external_id", "customer", "created_at")
ORDER_KEYS = (
    "customer",
    "owner",
    "created_at",
    "confirmed_at",
    "processing_at",
    "finished_at",
    "closed_at",
    "close_reason",
    "currency",
    "tax_rate",
    "discount",
    "payment_method",
    "shipping_address",
    "carrier",
    "tracking_number",
    "notes",
)
LINE_KEYS = ("product", "description", "quantity", "unit_price", "line_discount")
DETAIL_KEYS = ("currency", "payment_method", "shipping_address", "carrier", "tracking_number", "notes")
STEP_COLUMNS = {
    "confirm": "confirmed_at",
    "start_processing": "processing_at",
    "finish": "finished_at",
    "close": "closed_at",
}
# How far each status has gone along created → confirmed → processing → finished.
PROGRESS = {
    Status.CREATED: 0,
    Status.CONFIRMED: 1,
    Status.PROCESSING: 2,
    Status.FINISHED: 3,
    Status.CLOSED: 3,
}


@dataclass
class _Payment:
    row: int
    amount: Decimal
    paid_at: datetime
    method: str
    reference: str


@dataclass
class _Order:
    """An order as its rows in the file describe it, checked and ready for the services."""

    external_id: str
    first_row: int
    customer: Customer
    owner: User | None
    created_at: datetime
    steps: dict[str, datetime]  # transition → when, in the order they are taken
    close_reason: str
    fields: dict[str, Any]
    lines: list[dict[str, Any]] = field(default_factory=list)
    line_rows: list[int] = field(default_factory=list)
    payments: list[_Payment] = field(default_factory=list)


@dataclass
class _Lookups:
    """What every order of the file needs, read once."""

    customers: dict[str, list[Customer]]  # by name
    users: dict[str, User]
    products: dict[str, Product]  # by SKU and by external id
    existing: dict[str, Order]  # already imported, by external id


def run_import(*, actor: User | None, table: Table, mapping: Sequence[str], commit: bool) -> ImportReport:
    """Apply every order as `actor` (None: the system); without `commit`, roll it all back."""
    COLUMNS.check(mapping)
    require_columns(COLUMNS, table.headers, mapping, REQUIRED)
    groups: dict[str, list[tuple[Row, dict[str, str]]]] = {}
    results: list[RowResult] = []
    for row in table.rows:
        values = COLUMNS.values(row, mapping)
        external_id = " ".join(values.get("external_id", "").split())
        if external_id:
            groups.setdefault(external_id, []).append((row, values))
        else:
            message = COLUMNS.message("external_id", _("Every row needs the external id of its order."))
            results.append(RowResult(row.number, Action.REJECT, errors=[message]))
    with transaction.atomic(), full_collections_deferred():
        lookups = _lookups(actor, groups)
        results += [_import_order(actor, external_id, rows, lookups) for external_id, rows in groups.items()]
        if not commit:
            transaction.set_rollback(True)
    return ImportReport(sorted(results, key=lambda result: result.number), committed=commit)


def _lookups(actor: User | None, groups: Mapping[str, list[tuple[Row, dict[str, str]]]]) -> _Lookups:
    names = {
        " ".join(values["customer"].split())
        for rows in groups.values()
        for _row, values in rows
        if "customer" in values
    }
    codes = {
        values["product"].strip() for rows in groups.values() for _row, values in rows if "product" in values
    }
    products: dict[str, Product] = {}
    for product in Product.objects.filter(external_id__in=codes):
        products[product.external_id] = product
    for product in Product.objects.filter(sku__in={code.upper() for code in codes}):
        products[product.sku] = product  # a SKU wins over another product's external id
    return _Lookups(
        # The customers the actor may see: another owner's customer is "not found" or, when shared, refused
        # by the services.
        customers=_by_name(Customer.objects.visible_to(actor).filter(name__in=names)),
        users={user.get_username(): user for user in User.objects.filter(is_active=True)},
        products=products,
        existing={
            order.external_id: order
            for order in Order.objects.select_related("customer").filter(external_id__in=groups)
        },
    )


def _by_name(customers: Iterable[Customer]) -> dict[str, list[Customer]]:
    found: dict[str, list[Customer]] = {}
    for customer in customers:
        found.setdefault(customer.name, []).append(customer)
    return found


def _import_order(
    actor: User | None, external_id: str, rows: list[tuple[Row, dict[str, str]]], lookups: _Lookups
) -> RowResult:
    first_row = rows[0][0].number
    try:
        with transaction.atomic():
            existing = lookups.existing.get(external_id)
            if existing is not None:
                if not can_change_order(actor, existing):
                    message = _("An order with this external id exists, and you may not change it.")
                    raise RowRejected(COLUMNS.message("external_id", message))
                spec = _read_order(external_id, rows, lookups, existing.customer)
                order, changes = _catch_up(actor, existing, spec)
                return RowResult(first_row, Action.UPDATE, _name(order), order.pk, changes=changes)
            spec = _read_order(external_id, rows, lookups, None)
            order = _create(actor, spec)
    except RowRejected as rejection:
        return RowResult(first_row, Action.REJECT, external_id, errors=rejection.messages)
    return RowResult(first_row, Action.CREATE, _name(order), order.pk)


def _name(order: Order) -> str:
    return f"{order.number} · {order.external_id} · {order.customer.name}"


# Reading an order's rows


def _read_order(
    external_id: str, rows: list[tuple[Row, dict[str, str]]], lookups: _Lookups, customer: Customer | None
) -> _Order:
    """The order the rows describe; RowRejected with every problem found, each at its field and row."""
    errors: list[StrOrPromise] = []
    order_values = _order_values(rows, errors)
    spec: _Order | None = None
    try:
        spec = _order_fields(external_id, rows[0][0].number, order_values, lookups, customer)
    except RowRejected as rejection:
        errors += rejection.messages
    lines, line_rows, payments = [], [], []
    for row, values in rows:
        try:
            if any(key in values for key in LINE_KEYS):
                lines.append(_line(values, lookups))
                line_rows.append(row.number)
            if "paid_amount" in values or "paid_at" in values:
                payments.append(_payment(row.number, values, order_values))
        except RowRejected as rejection:
            errors += [_at_row(row.number, message) for message in rejection.messages]
    if errors or spec is None:
        raise RowRejected(*errors)
    spec.lines, spec.line_rows, spec.payments = lines, line_rows, sorted(payments, key=lambda p: p.paid_at)
    return spec


def _order_values(rows: list[tuple[Row, dict[str, str]]], errors: list[StrOrPromise]) -> dict[str, str]:
    """The order's cells: each from the rows that fill it, which must agree."""
    found: dict[str, tuple[int, str]] = {}
    for row, values in rows:
        for key in ORDER_KEYS:
            if key not in values:
                continue
            if key not in found:
                found[key] = (row.number, values[key])
            elif found[key][1] != values[key]:
                message = _(
                    "Row %(row)s says “%(value)s”, row %(other)s “%(other_value)s”: an order has one."
                ) % {
                    "row": found[key][0],
                    "value": found[key][1],
                    "other": row.number,
                    "other_value": values[key],
                }
                errors.append(COLUMNS.message(key, message))
    return {key: value for key, (_number, value) in found.items()}


def _order_fields(
    external_id: str, first_row: int, values: dict[str, str], lookups: _Lookups, customer: Customer | None
) -> _Order:
    errors: list[StrOrPromise] = []

    def read(key: str, parse: Callable[[Columns, str, str], Any]) -> Any:
        if key not in values:
            return None
        try:
            return parse(COLUMNS, key, values[key])
        except RowRejected as rejection:
            errors.extend(rejection.messages)
            return None

    if customer is None:
        matches = lookups.customers.get(" ".join(values.get("customer", "").split()), [])
        if len(matches) == 1:
            customer = matches[0]
        elif matches:
            errors.append(COLUMNS.message("customer", _("Several customers have this name.")))
        else:
            errors.append(COLUMNS.message("customer", _("No customer you can see has exactly this name.")))
    owner = None
    if values.get("owner"):
        owner = lookups.users.get(values["owner"].strip())
        if owner is None:
            errors.append(COLUMNS.message("owner", _("No active user has this username.")))
    created_at = read("created_at", parse_instant)
    if "created_at" not in values:
        errors.append(COLUMNS.message("created_at", _("Every order needs the time it was created.")))
    times = {
        key: read(key, parse_instant) for key in ("confirmed_at", "processing_at", "finished_at", "closed_at")
    }
    steps = _steps(times, errors)
    fields: dict[str, Any] = {key: values[key] for key in DETAIL_KEYS if key in values}
    if "payment_method" in fields:
        fields["payment_method"] = PAYMENT_METHODS.cell(COLUMNS, "payment_method", fields["payment_method"])
    for key in ("tax_rate", "discount"):
        amount = read(key, parse_amount)
        if amount is not None:
            fields[key] = amount
    close_reason = values.get("close_reason", "")
    if errors or customer is None or created_at is None:
        raise RowRejected(*errors)
    return _Order(
        external_id=external_id,
        first_row=first_row,
        customer=customer,
        owner=owner,
        created_at=created_at,
        steps=steps,
        close_reason=close_reason or _("Closed before the import"),
        fields=fields,
    )


def _steps(times: dict[str, datetime | None], errors: list[StrOrPromise]) -> dict[str, datetime]:
    """The transitions the times say the order took, each at its time; a step left out takes the time of
    the next one."""
    finished, closed = times["finished_at"], times["closed_at"]
    if finished and closed:
        errors.append(COLUMNS.message("closed_at", _("An order is finished or closed, not both.")))
        return {}
    reached = [times["confirmed_at"], times["processing_at"], finished]
    # How far it got: the last stamp present (a closed order stops where its stamps stop).
    last = max((index for index, stamp in enumerate(reached) if stamp), default=-1)
    steps: dict[str, datetime] = {}
    following = None
    for index in range(last, -1, -1):
        following = reached[index] or following
        assert following is not None  # reached[last] is set
        steps[("confirm", "start_processing", "finish")[index]] = following
    steps = dict(reversed(steps.items()))
    if closed:
        steps["close"] = closed
    return steps


def _line(values: dict[str, str], lookups: _Lookups) -> dict[str, Any]:
    line: dict[str, Any] = {"description": values.get("description", "")}
    code = values.get("product", "").strip()
    if code:
        product = lookups.products.get(code.upper()) or lookups.products.get(code)
        if product is None:
            raise RowRejected(COLUMNS.message("product", _("No product has this SKU or external id.")))
        line["product"] = product
    line["quantity"] = values.get("quantity", "1")
    if "unit_price" in values:
        line["unit_price"] = parse_amount(COLUMNS, "unit_price", values["unit_price"])
    if "line_discount" in values:
        line["discount"] = parse_amount(COLUMNS, "line_discount", values["line_discount"])
    return line


def _payment(number: int, values: dict[str, str], order_values: dict[str, str]) -> _Payment:
    if "paid_amount" not in values:
        raise RowRejected(COLUMNS.message("paid_amount", _("A payment needs its amount.")))
    if "paid_at" not in values:
        raise RowRejected(COLUMNS.message("paid_at", _("A payment needs the time it was paid.")))
    method = order_values.get("payment_method", "")
    return _Payment(
        row=number,
        amount=parse_amount(COLUMNS, "paid_amount", values["paid_amount"]),
        paid_at=parse_instant(COLUMNS, "paid_at", values["paid_at"]),
        method=PAYMENT_METHODS.cell(COLUMNS, "payment_method", method) if method else PaymentMethod.OTHER,
        reference=values.get("payment_reference", ""),
    )


def _at_row(number: int, message: StrOrPromise) -> StrOrPromise:
    return _("Row %(row)s: %(message)s") % {"row": number, "message": message}


# Writing through the services


def _create(actor: User | None, spec: _Order) -> Order:
    try:
        order = services.create_order(
            actor=actor,
            customer=spec.customer,
            lines=spec.lines,
            owner=spec.owner,
            at=spec.created_at,
            external_id=spec.external_id,
            **spec.fields,
        )
    except (ValidationError, PermissionDenied) as error:
        raise RowRejected(*_messages(error, spec, "created_at")) from None
    return _advance(actor, order, spec, payments=spec.payments)


def _catch_up(actor: User | None, order: Order, spec: _Order) -> tuple[Order, list[Change]]:
    """The steps and payments the file has that the order, imported before, lacks."""
    recorded = set(order.payments.values_list("paid_at", "amount"))
    missing = [payment for payment in spec.payments if (payment.paid_at, payment.amount) not in recorded]
    old_status, old_paid = order.get_status_display(), order.paid_amount
    updated = _advance(actor, order, spec, payments=missing)
    changes = []
    if updated.status != order.status:
        changes.append(
            Change(
                capfirst(model_field(Order, "status").verbose_name), old_status, updated.get_status_display()
            )
        )
    if updated.paid_amount != old_paid:
        changes.append(
            Change(
                capfirst(model_field(Order, "paid_amount").verbose_name),
                str(old_paid),
                str(updated.paid_amount),
            )
        )
    return updated, changes


def _advance(actor: User | None, order: Order, spec: _Order, *, payments: Iterable[_Payment]) -> Order:
    """Take the steps the order has not taken yet, recording the payments once it takes them; the
    finishing or closing step comes last."""
    steps = {name: at for name, at in spec.steps.items() if _ahead(order, name)}
    ending = {name: steps.pop(name) for name in ("finish", "close") if name in steps}
    for name, at in steps.items():
        order = _step(actor, order, spec, name, at)
    for payment in payments:
        try:
            services.record_payment(
                actor=actor,
                order=order,
                amount=payment.amount,
                method=payment.method,
                paid_at=payment.paid_at,
                reference=payment.reference,
            )
        except (ValidationError, PermissionDenied) as error:
            messages = _messages(
                error,
                spec,
                "paid_amount",
                {"amount": "paid_amount", "method": "payment_method", "reference": "payment_reference"},
            )
            raise RowRejected(*(_at_row(payment.row, message) for message in messages)) from None
        order.refresh_from_db()
    for name, at in ending.items():
        order = _step(actor, order, spec, name, at)
    return order


def _ahead(order: Order, name: str) -> bool:
    """Whether transition `name` takes the order further than it has gone."""
    if order.status in (Status.FINISHED, Status.CLOSED):
        return False
    return (
        name == "close" or PROGRESS[order.status] < ("confirm", "start_processing", "finish").index(name) + 1
    )


def _step(actor: User | None, order: Order, spec: _Order, name: str, at: datetime) -> Order:
    column = STEP_COLUMNS[name]
    arguments: dict[str, Any] = {"actor": actor, "order": order, "at": at}
    if name == "close":
        arguments["reason"] = spec.close_reason
    try:
        return services.TRANSITIONS[name](**arguments)
    except (ValidationError, PermissionDenied) as error:
        raise RowRejected(*_messages(error, spec, column, {"at": column, "reason": "close_reason"})) from None


def _messages(
    error: ValidationError | PermissionDenied,
    spec: _Order,
    column: str,
    keys: Mapping[str, str] | None = None,
) -> list[StrOrPromise]:
    """The service's messages, each at the column it is about: `keys` renames the service's fields; a line's
    messages name its row; the others name `column`."""
    if isinstance(error, PermissionDenied):
        return [COLUMNS.message(column, str(error))]
    errors = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    messages: list[StrOrPromise] = []
    for key, texts in errors.items():
        if key.startswith("lines-"):
            row = spec.line_rows[int(key.removeprefix("lines-"))]
            messages += [_at_row(row, text) for text in texts]
            continue
        target = (keys or {}).get(key, key)
        target = target if target in COLUMNS.by_key else column
        messages += [COLUMNS.message(target, text) for text in texts]
    return messages
