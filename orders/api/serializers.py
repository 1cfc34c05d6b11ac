"""The shapes of products, orders, lines, payments and events in the API (no business rule here)."""

from django.contrib.auth.models import User
from rest_framework import serializers

from crm.api.fields import BoundedModelSerializer, DateTimeField, IntegerField, RecordField, many, money
from customers.models import Customer
from orders.models import Order, OrderEvent, OrderLine, Payment, Product

MAX_LINES = 200


class ProductSerializer(BoundedModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "series", "unit_price", "active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The service checks uniqueness (and answers at the field), as for the page's form.
        extra_kwargs: dict[str, dict[str, object]] = {"sku": {"validators": []}}


class OrderLineSerializer(serializers.ModelSerializer):
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


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "order", "amount", "method", "paid_at", "reference", "recorded_by", "recorded_at"]


class OrderEventSerializer(serializers.ModelSerializer):
    summary = serializers.CharField(read_only=True, help_text="What happened, in the request's language.")

    class Meta:
        model = OrderEvent
        fields = ["id", "type", "at", "actor", "from_status", "to_status", "parameters", "note", "summary"]


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


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [*ORDER_FIELDS, "lines"]


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
