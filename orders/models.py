"""Products, orders with their lines, payments, the order state machine and its event log.

Money is Decimal with two places everywhere; the arithmetic lives in services.compute_totals and
the database checks that what is stored agrees with it. The status changes only through the
transitions below (the field is protected), and services.py is the one place that calls them.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Abs
from django.db.models.lookups import LessThan
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from crm.customer_owner_copy import customer_owner_field
from crm.fields import DATES_OUT_OF_RANGE, instants_in_range, integer_in_range
from crm.formatting import money
from crm.models import TimeStampedModel, VisibleQuerySet
from crm.roles import is_manager
from customers.models import Customer


def money_field(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


ZERO = Decimal("0.00")
# Equal to the cent: exact on PostgreSQL's numeric, and safe on SQLite, which computes in floats.
CENT_TOLERANCE = Value(Decimal("0.005"))


def equals_to_the_cent(left, right):
    return LessThan(Abs(left - right), CENT_TOLERANCE)


class Product(TimeStampedModel):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    series = models.CharField(_("series"), max_length=100, blank=True, help_text=_("Series or category."))
    unit_price = money_field(_("unit price"), validators=[MinValueValidator(ZERO)])
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Only active products can be ordered.")
    )
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        help_text=_("Its id in the system it was imported from: importing it again updates it."),
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=~Q(sku=""), name="product_sku_not_empty"),
            models.CheckConstraint(condition=~Q(name=""), name="product_name_not_empty"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="product_price_not_negative"),
            # Also the index the import looks products up by.
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="product_external_id_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["name", "id"], name="product_name_idx"),
            models.Index(fields=["series", "sku"], name="product_series_idx"),
            models.Index(fields=["active", "sku"], name="product_active_idx"),
        ]

    def __str__(self):
        return f"{self.sku} · {self.name}"


class OrderQuerySet(VisibleQuerySet):
    # Its owner, even on someone else's customer, and the customer's owner (its copy on the row).
    owner_path = ("owner", "customer_owner")


class Status(models.TextChoices):
    CREATED = "created", pgettext_lazy("order status", "Created")
    CONFIRMED = "confirmed", pgettext_lazy("order status", "Confirmed")
    PROCESSING = "processing", pgettext_lazy("order status", "Processing")
    FINISHED = "finished", pgettext_lazy("order status", "Finished")
    CLOSED = "closed", pgettext_lazy("order status", "Closed")


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    ALIPAY = "alipay", _("Alipay")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay")
    CARD = "card", _("Card")
    CASH = "cash", _("Cash")
    CHEQUE = "cheque", _("Cheque")
    OTHER = "other", _("Other")


def approval_needed(order):
    return order.total > settings.ORDER_APPROVAL_LIMIT


def may_confirm(order, user):
    """Above the approval limit only managers confirm, or anyone who may change the order once its
    approval was granted (services.request_approval)."""
    return not approval_needed(order) or is_manager(user) or order.is_approved


def is_complete(order):
    return order.customer_id is not None and order.total > 0 and order.lines.exists()


# What the reports read of an order beside a time stamp.
REPORTED = ["currency", "total", "credited", "owner", "customer", "status"]


def net_total(order: str = "") -> CombinedExpression:
    """What an order is worth once its credit notes are off: total − credited, as an expression.

    The one definition every report, list, export and lifetime value reads. `order` is the path to
    the order from the rows counted, e.g. "order" from its lines.
    """
    prefix = f"{order}__" if order else ""
    return F(f"{prefix}total") - F(f"{prefix}credited")


class Order(ConcurrentTransitionMixin, TimeStampedModel):
    """A customer's order. Lines and totals change only while it is created; see services.py."""

    Status = Status
    OPEN_STATUSES = (Status.CREATED, Status.CONFIRMED, Status.PROCESSING)
    # Where money may come in or go back: refunds only, once closed.
    PAYABLE_STATUSES = (Status.CONFIRMED, Status.PROCESSING, Status.FINISHED)

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    # The foreign keys' own indexes would repeat the first column of the composite ones below.
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer"), db_index=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("owner"),
        db_index=False,
    )
    customer_owner = customer_owner_field()  # crm/customer_owner_copy.py
    status = FSMField(
        _("status"), max_length=20, choices=Status.choices, default=Status.CREATED, protected=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    subtotal = money_field(_("subtotal"), default=ZERO, editable=False)
    discount = money_field(_("discount"), default=ZERO, help_text=_("An amount off the whole order."))
    tax_rate = models.DecimalField(
        _("tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        help_text=_("For example 13 for 13% VAT."),
    )
    tax = money_field(_("tax"), default=ZERO, editable=False)
    total = money_field(_("total"), default=ZERO, editable=False)
    credited = money_field(
        _("credited"), default=ZERO, editable=False, help_text=_("The credit notes' amounts, added up.")
    )
    paid_amount = money_field(_("paid"), default=ZERO, editable=False)
    balance = money_field(_("balance"), default=ZERO, editable=False)
    payment_method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices, blank=True
    )
    shipping_address = models.CharField(_("shipping address"), max_length=300, blank=True)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # NULL until issued: unique among the numbers issued, while any number of orders have none yet.
    invoice_number = models.CharField(  # noqa: DJ001
        _("invoice number"), max_length=20, unique=True, null=True, editable=False
    )
    close_reason = models.CharField(_("reason for closing"), max_length=300, blank=True, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True, editable=False)
    processing_at = models.DateTimeField(_("processing since"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        editable=False,
        help_text=_("Its id in the system it was imported from: importing it again updates it."),
    )

    history = HistoricalRecords(excluded_fields=["updated_at", "customer_owner"])
    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="order_status_known"),
            models.CheckConstraint(
                condition=instants_in_range(
                    "created_at", "confirmed_at", "processing_at", "finished_at", "closed_at"
                ),
                name="order_dates_in_range",
                violation_error_message=DATES_OUT_OF_RANGE,
            ),
            models.CheckConstraint(
                condition=Q(
                    subtotal__gte=0,
                    discount__gte=0,
                    tax__gte=0,
                    total__gte=0,
                    tax_rate__gte=0,
                    credited__gte=0,
                ),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(condition=Q(credited__lte=F("total")), name="order_credited_within_total"),
            models.CheckConstraint(
                condition=Q(discount__lte=F("subtotal")), name="order_discount_within_subtotal"
            ),
            models.CheckConstraint(
                condition=equals_to_the_cent(F("total"), F("subtotal") - F("discount") + F("tax")),
                name="order_total_adds_up",
            ),
            models.CheckConstraint(condition=Q(paid_amount__gte=0), name="order_refunds_within_paid"),
            models.CheckConstraint(
                condition=equals_to_the_cent(F("balance"), F("total") - F("credited") - F("paid_amount")),
                name="order_balance_adds_up",
            ),
            # Each status carries the stamps of the transitions that led to it.
            models.CheckConstraint(
                condition=Q(status="created", confirmed_at__isnull=True)
                | Q(status__in=["confirmed", "processing", "finished"], confirmed_at__isnull=False)
                | Q(status="closed"),
                name="order_confirmed_stamped",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["created", "confirmed"], processing_at__isnull=True)
                | Q(status__in=["processing", "finished"], processing_at__isnull=False)
                | Q(status="closed"),
                name="order_processing_stamped",
            ),
            models.CheckConstraint(
                condition=Q(status="finished", finished_at__isnull=False, invoice_number__isnull=False)
                | (~Q(status="finished") & Q(finished_at__isnull=True, invoice_number__isnull=True)),
                name="order_finished_invoiced",
            ),
            models.CheckConstraint(
                condition=(Q(status="closed", closed_at__isnull=False) & ~Q(close_reason=""))
                | (~Q(status="closed") & Q(closed_at__isnull=True, close_reason="")),
                name="order_closed_with_reason",
            ),
            # Also the index the import looks orders up by.
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="order_external_id_unique"
            ),
        ]
        # One index per filter and sort of the list; the id breaks ties for keyset pagination. On
        # PostgreSQL the time stamps' indexes also carry what the reports sum and group by, so a
        # report reads the index alone (crm/reporting.py).
        indexes = [
            models.Index(fields=["created_at", "id"], name="order_created_idx", include=REPORTED),
            models.Index(fields=["total", "id"], name="order_total_idx"),
            models.Index(
                fields=["confirmed_at", "id"], name="order_confirmed_idx", include=[*REPORTED, "created_at"]
            ),
            models.Index(
                fields=["processing_at"], name="order_processing_idx", include=[*REPORTED, "confirmed_at"]
            ),
            models.Index(
                fields=["finished_at"], name="order_finished_idx", include=[*REPORTED, "processing_at"]
            ),
            models.Index(fields=["status", "created_at", "id"], name="order_status_idx"),
            models.Index(fields=["customer", "created_at", "id"], name="order_customer_idx"),
            models.Index(fields=["owner", "created_at", "id"], name="order_owner_idx"),
            models.Index(fields=["balance"], name="order_balance_idx"),
            models.Index(fields=["status", "updated_at"], name="order_status_updated_idx"),
            # The dashboard's balances due read only the orders that owe money (few, however many
            # orders there are), from the index alone.
            models.Index(
                fields=["currency"],
                include=["balance", "customer", "owner"],
                condition=models.Q(balance__gt=0) & ~models.Q(status=Status.CLOSED),
                name="order_balance_due_idx",
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("orders:detail", args=[self.pk])

    @property
    def is_editable(self):
        return self.status == Status.CREATED

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES

    @property
    def takes_payments(self):
        """Payments and refunds until it is finished; refunds of what was paid once it is closed."""
        return self.status in self.PAYABLE_STATUSES or (self.status == Status.CLOSED and self.paid_amount > 0)

    @property
    def needs_approval(self):
        return approval_needed(self)

    @property
    def is_approved(self) -> bool:
        """An approval was granted and not voided since (ApprovalRequest)."""
        return self.approvals.filter(status=ApprovalStatus.APPROVED).exists()

    @property
    def net_total(self) -> Decimal:
        """The total less the credit notes (models.net_total is the same in a query)."""
        return self.total - self.credited

    @property
    def takes_credit_notes(self) -> bool:
        return self.status in self.PAYABLE_STATUSES and self.credited < self.total

    # The lifecycle. Each method only changes fields; services.py checks, saves and logs.

    @transition(
        field=status,
        source=Status.CREATED,
        target=Status.CONFIRMED,
        conditions=[is_complete],
        permission=may_confirm,
    )
    def confirm(self, at):
        self.confirmed_at = at

    @transition(field=status, source=Status.CONFIRMED, target=Status.PROCESSING)
    def start_processing(self, at, carrier="", tracking_number=""):
        self.processing_at = at
        self.carrier = carrier or self.carrier
        self.tracking_number = tracking_number or self.tracking_number

    @transition(field=status, source=Status.PROCESSING, target=Status.FINISHED)
    def finish(self, at, invoice_number):
        self.finished_at = at
        self.invoice_number = invoice_number

    @transition(field=status, source=list(OPEN_STATUSES), target=Status.CLOSED)
    def close(self, at, reason):
        self.closed_at = at
        self.close_reason = reason


class OrderLineQuerySet(VisibleQuerySet):
    visible_with = "order"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order_lines",
        verbose_name=_("product"),
        db_index=False,  # order_line_product_idx starts with it
    )
    description = models.CharField(
        _("description"),
        max_length=300,
        help_text=_("The product's name, or what is sold without a product."),
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = money_field(_("unit price"))
    discount = money_field(_("discount"), default=ZERO)
    line_total = money_field(_("line total"))

    history = HistoricalRecords()
    objects = OrderLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=integer_in_range("quantity", models.PositiveIntegerField),
                name="order_line_quantity_in_range",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, discount__gte=0, line_total__gte=0),
                name="order_line_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=equals_to_the_cent(
                    F("line_total"), F("quantity") * F("unit_price") - F("discount")
                ),
                name="order_line_total_adds_up",
            ),
            models.CheckConstraint(condition=~Q(description=""), name="order_line_described"),
        ]
        indexes = [models.Index(fields=["product", "order"], name="order_line_product_idx")]

    def __str__(self):
        return f"{self.quantity} × {self.description}"


class OrderPartQuerySet(VisibleQuerySet):
    """Events and payments are visible with their order."""

    visible_with = "order"


class OrderEventType(models.TextChoices):
    CREATED = "created", _("Order created")
    CONFIRMED = "confirmed", _("Order confirmed")
    PROCESSING_STARTED = "processing_started", _("Processing started")
    FINISHED = "finished", _("Order finished")
    CLOSED = "closed", _("Order closed")
    PAYMENT_RECORDED = "payment_recorded", _("Payment recorded")
    REFUND_RECORDED = "refund_recorded", _("Refund recorded")
    CREDIT_NOTE_ISSUED = "credit_note_issued", _("Credit note issued")
    APPROVAL_REQUESTED = "approval_requested", _("Approval requested")
    APPROVAL_GRANTED = "approval_granted", _("Approval granted")
    APPROVAL_REJECTED = "approval_rejected", _("Approval refused")
    APPROVAL_VOIDED = "approval_voided", _("Approval void: lines or amounts changed")
    LINES_CHANGED = "lines_changed", _("Lines changed")
    OWNER_CHANGED = "owner_changed", _("Owner changed")
    DETAILS_CHANGED = "details_changed", _("Details changed")


class OrderEvent(models.Model):
    """One fact of an order's life: its type, who, when, and the facts it needs (`parameters`).

    orders/events.py writes them, one function per type. The creation and each status change also
    fill from_status and to_status (empty from_status for the creation), which cycle times and reports
    read; other events leave both empty. `note` is what the user typed, shown as typed; every other
    word is rendered from the type and the parameters in the reader's language (`summary`).
    """

    Type = OrderEventType
    STATUS_TYPES = (Type.CREATED, Type.CONFIRMED, Type.PROCESSING_STARTED, Type.FINISHED, Type.CLOSED)

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order"), db_index=False
    )  # order_event_order_at_idx starts with it
    type = models.CharField(_("type"), max_length=30, choices=OrderEventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    from_status = models.CharField(_("from"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = OrderPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=OrderEventType.values), name="order_event_type_known"
            ),
        ]
        indexes = [
            models.Index(fields=["order", "at"], name="order_event_order_at_idx"),
            models.Index(fields=["at"], name="order_event_at_idx"),
            models.Index(fields=["type", "at"], name="order_event_type_at_idx"),
        ]

    def __str__(self):
        return f"{self.order}: {self.get_type_display()}"

    @property
    def is_status_change(self) -> bool:
        return self.type in self.STATUS_TYPES

    @property
    def summary(self) -> str:
        """What happened, as a sentence in the active language, from the type and the parameters."""
        facts = self.parameters
        if self.type == self.Type.CREATED and facts.get("opportunity"):
            return gettext("Order created from opportunity #%(id)s “%(title)s”") % facts["opportunity"]
        if self.type == self.Type.PROCESSING_STARTED and facts.get("tracking_number"):
            return gettext(
                "Processing started, shipped with %(carrier)s, tracking number %(tracking_number)s"
            ) % {
                "carrier": facts.get("carrier") or "—",
                "tracking_number": facts["tracking_number"],
            }
        if self.type == self.Type.FINISHED and facts.get("invoice_number"):
            return gettext("Order finished, invoice %(invoice_number)s") % facts
        if self.type == self.Type.CLOSED and facts.get("reason"):
            return gettext("Order closed: %(reason)s") % facts
        if self.type == self.Type.CREDIT_NOTE_ISSUED and "number" in facts:
            return gettext("Credit note %(number)s of %(amount)s %(currency)s issued: %(reason)s") % {
                **facts,
                "amount": _money(facts["amount"]),
                "reason": facts.get("reason", ""),
            }
        if self.type == self.Type.APPROVAL_REQUESTED and "total" in facts:
            return gettext("Approval requested for a total of %(total)s %(currency)s") % {
                **facts,
                "total": _money(facts["total"]),
            }
        if self.type in (self.Type.PAYMENT_RECORDED, self.Type.REFUND_RECORDED):
            return self._payment_summary(facts)
        if self.type == self.Type.LINES_CHANGED and "old_total" in facts:
            return gettext("Lines changed, total %(old_total)s → %(new_total)s %(currency)s") % {
                **facts,
                "old_total": _money(facts["old_total"]),
                "new_total": _money(facts["new_total"]),
            }
        if self.type == self.Type.OWNER_CHANGED and "new_owner" in facts:
            return gettext("Owner changed: %(old)s → %(new)s") % {
                "old": facts.get("old_owner") or "—",
                "new": facts["new_owner"],
            }
        if self.type == self.Type.DETAILS_CHANGED and facts.get("fields"):
            return gettext("Details changed: %(fields)s") % {"fields": _field_names(Order, facts["fields"])}
        return self.get_type_display()

    def _payment_summary(self, facts: dict) -> str:
        values = {
            "amount": _money(facts.get("amount", "0")),
            "currency": facts.get("currency", ""),
            "method": PaymentMethod(facts["method"]).label
            if facts.get("method") in PaymentMethod.values
            else "",
        }
        if self.type == self.Type.REFUND_RECORDED:
            return gettext("Refund of %(amount)s %(currency)s recorded (%(method)s)") % values
        return gettext("Payment of %(amount)s %(currency)s recorded (%(method)s)") % values


def _money(amount: str) -> str:
    """An amount stored as text, as people read money: 12,345.60."""
    return money(amount)


def _field_names(model: type[models.Model], names: list[str]) -> str:
    """The fields' names in the active language, e.g. "carrier, tracking number"."""
    labels = []
    for name in names:
        try:
            labels.append(str(getattr(model._meta.get_field(name), "verbose_name", name)))
        except FieldDoesNotExist:
            labels.append(name)
    return ", ".join(labels)


class Payment(models.Model):
    """Money received for an order, or a refund (a negative amount)."""

    Method = PaymentMethod

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="payments", verbose_name=_("order"), db_index=False
    )  # payment_order_idx starts with it
    amount = money_field(_("amount"), help_text=_("Negative for a refund."))
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    paid_at = models.DateTimeField(_("paid at"), default=timezone.now)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = OrderPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["paid_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="payment_amount_not_zero"),
            models.CheckConstraint(
                condition=instants_in_range("paid_at"),
                name="payment_paid_at_in_range",
                violation_error_message=DATES_OUT_OF_RANGE,
            ),
        ]
        indexes = [models.Index(fields=["order", "paid_at"], name="payment_order_idx")]

    def __str__(self):
        return f"{self.order}: {self.amount}"

    @property
    def is_refund(self):
        return self.amount < 0


class CreditNote(models.Model):
    """Money taken off an order after it was confirmed: goods returned, or an amount conceded.

    Its lines say what: a returned quantity of an order line (valued at that line's share of the
    order's total, discount and tax included) or a free amount. The order's `credited` is the sum
    of its credit notes; a refund that pays the money back is a Payment, usually recorded with it.
    """

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("order"), db_index=False
    )  # credit_note_order_idx starts with it
    reason = models.CharField(_("reason"), max_length=300)
    amount = money_field(_("amount"), editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = OrderPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_amount_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="credit_note_reason_given"),
            models.CheckConstraint(
                condition=instants_in_range("created_at"),
                name="credit_note_created_in_range",
                violation_error_message=DATES_OUT_OF_RANGE,
            ),
        ]
        indexes = [models.Index(fields=["order", "created_at"], name="credit_note_order_idx")]

    def __str__(self):
        return self.number


class CreditNoteLine(models.Model):
    """A returned quantity of an order line, or (without a line) a free amount."""

    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.CASCADE, related_name="lines", verbose_name=_("credit note")
    )
    order_line = models.ForeignKey(
        OrderLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_lines",
        verbose_name=_("order line"),
    )
    description = models.CharField(_("description"), max_length=300)
    quantity = models.PositiveIntegerField(_("quantity returned"), null=True, blank=True)
    amount = money_field(_("amount"))

    class Meta:
        verbose_name = _("credit note line")
        verbose_name_plural = _("credit note lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_line_amount_positive"),
            models.CheckConstraint(condition=~Q(description=""), name="credit_line_described"),
            models.CheckConstraint(
                condition=Q(order_line__isnull=True, quantity__isnull=True)
                | Q(order_line__isnull=False, quantity__gt=0),
                name="credit_line_returns_a_quantity",
            ),
            models.CheckConstraint(
                condition=integer_in_range("quantity", models.PositiveIntegerField),
                name="credit_line_quantity_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.credit_note}: {self.amount}"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("approval", "Waiting")
    APPROVED = "approved", pgettext_lazy("approval", "Approved")
    REJECTED = "rejected", pgettext_lazy("approval", "Refused")
    VOID = "void", pgettext_lazy("approval", "Void")


class ApprovalRequest(models.Model):
    """A salesperson's request that an order above ORDER_APPROVAL_LIMIT be approved for confirming.

    Pending until someone who may approve (orders.access.can_approve) approves or refuses it, with a
    note; an approved order can be confirmed by whoever may change it. Changing its lines or money
    voids a pending or granted approval. At most one request per order is pending or approved.
    """

    Status = ApprovalStatus

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="approvals", verbose_name=_("order"), db_index=False
    )  # approval_order_idx starts with it
    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    total = money_field(_("total"), help_text=_("The order's total when approval was asked."))
    currency = models.CharField(_("currency"), max_length=3)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("answer"), blank=True)

    objects = OrderPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["requested_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ApprovalStatus.values), name="approval_status_known"
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["pending", "approved"]),
                name="approval_one_open_per_order",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="approval_decided_stamped",
            ),
            models.CheckConstraint(
                condition=instants_in_range("requested_at", "decided_at"),
                name="approval_dates_in_range",
                violation_error_message=DATES_OUT_OF_RANGE,
            ),
        ]
        indexes = [
            models.Index(fields=["order", "requested_at"], name="approval_order_idx"),
            models.Index(fields=["status", "requested_at"], name="approval_status_idx"),
            models.Index(fields=["requested_by", "decided_at"], name="approval_requester_idx"),
        ]

    def __str__(self):
        return f"{self.order}: {self.get_status_display()}"


class FormSubmission(models.Model):
    """A one-time form token spent: the first post of a payment, credit note or transition form.

    The row is written in the same transaction as what the form did, so it exists exactly when that
    write committed; a repeated post of the same token finds it and is answered with `message`, the
    first post's result, writing nothing (orders/once.py).
    """

    token = models.UUIDField(_("form token"), unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="+", verbose_name=_("order"), db_index=False
    )
    message = models.CharField(_("result"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        indexes = [models.Index(fields=["created_at"], name="form_submission_created_idx")]

    def __str__(self):
        return str(self.token)


class SellerProfile(models.Model):
    """Who sells: the company named on every settlement statement. One row (pk 1); managers edit it
    in the app (services.update_seller_profile)."""

    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    tax_number = models.CharField(_("tax number"), max_length=30, blank=True)
    bank_name = models.CharField(_("bank"), max_length=200, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("seller profile")
        verbose_name_plural = _("seller profile")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="seller_profile_single_row")]

    def __str__(self):
        return self.company_name or gettext("Seller profile")

    @classmethod
    def current(cls) -> "SellerProfile":
        """The profile, empty until a manager fills it in (not saved by reading it)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class DocumentCounter(models.Model):
    """The last number handed out per kind of document and year (SO-2026-…, INV-2026-…)."""

    kind = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="document_counter_unique")]

    def __str__(self):
        return f"{self.kind}-{self.year}: {self.last}"
