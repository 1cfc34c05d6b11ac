"""The shapes of products, orders, lines, payments and events in the API (no business rule here)."""

from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from rest_framework import serializers

from crm.api.fields import (
    BoundedModelSerializer,
    DateTimeField,
    IntegerField,
    LabelledModelSerializer,
    RecordField,
    many,
    money,
)
from customers.models import Customer
from orders.models import (
    ApprovalRequest,
    CreditNote,
    CreditNoteLine,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Product,
)

MAX_LINES = 200


class ProductSerializer(BoundedModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "series", "unit_price", "active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The service checks uniqueness (and answers at the field), as for the page's form.
        extra_kwargs: dict[str, dict[str, object]] = {"sku": {"validators": []}}


class OrderLineSerializer(LabelledModelSerializer):
    class Meta:
        model = OrderLine
        fields = [
            "id",
            "position",
            "product",
            "description",
            "quantity",
            "unit_price",
            "discount",
            "line_total",
        ]


class PaymentSerializer(LabelledModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "order", "amount", "method", "paid_at", "reference", "recorded_by", "recorded_at"]


class OrderEventSerializer(LabelledModelSerializer):
    summary = serializers.CharField(read_only=True, help_text="What happened, in the request's language.")

    class Meta:
        model = OrderEvent
        fields = ["id", "type", "at", "actor", "from_status", "to_status", "parameters", "note", "summary"]


class CreditNoteLineSerializer(LabelledModelSerializer):
    class Meta:
        model = CreditNoteLine
        fields = ["id", "order_line", "description", "quantity", "amount"]


class CreditNoteSerializer(LabelledModelSerializer):
    lines = CreditNoteLineSerializer(many=True, read_only=True)

    class Meta:
        model = CreditNote
        fields = ["id", "number", "order", "reason", "amount", "created_by", "created_at", "lines"]


class ApprovalSerializer(LabelledModelSerializer):
    class Meta:
        model = ApprovalRequest
        fields = [
            "id",
            "order",
            "status",
            "total",
            "currency",
            "requested_by",
            "requested_at",
            "note",
            "decided_by",
            "decided_at",
            "decision_note",
        ]


ORDER_FIELDS = [
    "id",
    "number",
    "customer",
    "owner",
    "status",
    "currency",
    "subtotal",
    "discount",
    "tax_rate",
    "tax",
    "total",
    "credited",
    "paid_amount",
    "balance",
    "payment_method",
    "shipping_address",
    "carrier",
    "tracking_number",
    "notes",
    "invoice_number",
    "close_reason",
    "created_at",
    "updated_at",
    "confirmed_at",
    "processing_at",
    "finished_at",
    "closed_at",
]


class OrderSerializer(LabelledModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    credit_notes = CreditNoteSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [*ORDER_FIELDS, "lines", "credit_notes"]


class BalanceSerializer(LabelledModelSerializer):
    """An order with a balance due, as the balances page lists it."""

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "customer",
            "owner",
            "status",
            "currency",
            "total",
            "credited",
            "paid_amount",
            "balance",
            "confirmed_at",
        ]


class BalanceSummarySerializer(serializers.Serializer):
    """Per currency: the orders with a balance due, the balance in all and in each ageing bucket."""

    currency = serializers.CharField()
    orders = serializers.IntegerField()
    amount = money()
    buckets = serializers.ListField(
        child=money(), help_text="The balance confirmed 0–30, 31–60, 61–90 and over 90 days ago."
    )


# Input


class OrderLineInput(serializers.Serializer):
    product = RecordField(Product, required=False, allow_null=True)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    quantity = IntegerField(min_value=1)
    unit_price = money(not_negative=True, required=False, help_text="Default: the product's.")
    discount = money(not_negative=True, required=False)


class OrderCreateInput(BoundedModelSerializer):
    customer = RecordField(Customer)
    owner = RecordField(User, required=False, help_text="Managers only; default: the customer's owner.")
    lines = many(OrderLineInput(), max_length=MAX_LINES, required=False)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    class Meta:
        model = Order
        fields = [
            "customer",
            "owner",
            "currency",
            "discount",
            "tax_rate",
            "payment_method",
            "shipping_address",
            "notes",
            "lines",
            "note",
        ]


class OrderUpdateInput(BoundedModelSerializer):
    owner = RecordField(User, required=False, help_text="Managers only.")
    lines = many(OrderLineInput(), max_length=MAX_LINES, required=False, help_text="Replace the lines.")

    class Meta:
        model = Order
        fields = [
            "owner",
            "currency",
            "discount",
            "tax_rate",
            "payment_method",
            "shipping_address",
            "carrier",
            "tracking_number",
            "notes",
            "lines",
        ]


class TransitionInput(serializers.Serializer):
    seen_status = serializers.ChoiceField(
        choices=Order.Status.choices,
        required=False,
        help_text="The status you saw: when the order has moved on since, nothing is done (409).",
    )


class ConfirmInput(TransitionInput):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ProcessInput(ConfirmInput):
    carrier = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True)


class FinishInput(ConfirmInput):
    override_balance = serializers.BooleanField(
        required=False, help_text="Managers: finish with a balance open, saying why in the note."
    )


class CloseInput(TransitionInput):
    reason = serializers.CharField(max_length=300)


class PaymentInput(serializers.Serializer):
    amount = money(help_text="Negative for a refund.")
    method = serializers.ChoiceField(choices=Payment.Method.choices)
    paid_at = DateTimeField(required=False, help_text="Default: now.")
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


class ReturnInput(serializers.Serializer):
    line = IntegerField(min_value=1, help_text="The id of one of the order's lines.")
    quantity = IntegerField(min_value=0)


class CreditNoteInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    returns = many(ReturnInput(), max_length=MAX_LINES, required=False, help_text="Goods returned.")
    amount = money(required=False, allow_null=True, help_text="A free amount credited.")
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    refund = money(
        not_negative=True, required=False, allow_null=True, help_text="Money paid back with the note."
    )
    refund_method = serializers.ChoiceField(choices=Payment.Method.choices, required=False, allow_blank=True)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def validate_returns(self, returns: list[dict[str, int]]) -> list[dict[str, int]]:
        if len({item["line"] for item in returns}) < len(returns):
            raise serializers.ValidationError(_("Name each line once."))
        return returns


class ApprovalRequestInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ApprovalDecisionInput(serializers.Serializer):
    note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="Required to refuse: say why."
    )
