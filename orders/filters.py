from datetime import date

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.filters import (
    ANY,
    DayFromFilter,
    DayUntilFilter,
    DecimalFilter,
    IdFilter,
    OwnerFilterMixin,
    owner_filter,
    yes_no_any,
)
from orders.models import Order, Product
from orders.selectors import AGEING_BUCKETS, balance_due, search_orders, search_products

# Sort keys offered by the order list and the keyset ordering each maps to (each has an index).
ORDER_SORTS = {
    "created": ["created_at", "id"],
    "-created": ["-created_at", "-id"],
    "total": ["total", "id"],
    "-total": ["-total", "-id"],
}
DEFAULT_ORDER_SORT = "-created"

PRODUCT_SORTS = {
    "sku": ["sku", "id"],
    "-sku": ["-sku", "-id"],
    "name": ["name", "id"],
    "-name": ["-name", "-id"],
}
DEFAULT_PRODUCT_SORT = "sku"


class OrderFilter(OwnerFilterMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label=_("Number or customer"))
    status = django_filters.MultipleChoiceFilter(
        choices=Order.Status.choices, label=_("Status"), widget=forms.CheckboxSelectMultiple, distinct=False
    )
    owner = owner_filter()
    customer = IdFilter(field_name="customer_id", label=_("Customer number"))
    created_after = DayFromFilter(field_name="created_at", label=_("Created from"))
    created_before = DayUntilFilter(field_name="created_at", label=_("Created until"))
    confirmed_after = DayFromFilter(field_name="confirmed_at", label=_("Confirmed from"))
    confirmed_before = DayUntilFilter(field_name="confirmed_at", label=_("Confirmed until"))
    total_min = DecimalFilter(field_name="total", lookup_expr="gte", label=_("Total from"))
    total_max = DecimalFilter(field_name="total", lookup_expr="lte", label=_("Total up to"))
    has_balance = django_filters.BooleanFilter(
        method="filter_balance",
        label=_("Balance due"),
        widget=yes_no_any(),
    )

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return search_orders(queryset, value)

    def filter_balance(self, queryset, name, value):
        return queryset.filter(balance_due()) if value else queryset.exclude(balance_due())


# The balances due, oldest confirmation first (order_confirmed_idx).
BALANCE_SORTS = {"confirmed": ["confirmed_at", "id"], "-confirmed": ["-confirmed_at", "-id"]}
DEFAULT_BALANCE_SORT = "confirmed"


class BalanceFilter(OwnerFilterMixin, django_filters.FilterSet):
    """The balances due page: number or customer, owner (managers), currency and age."""

    q = django_filters.CharFilter(method="filter_search", label=_("Number or customer"))
    owner = owner_filter()
    currency = django_filters.ChoiceFilter(label=_("Currency"), empty_label=ANY)
    age = django_filters.ChoiceFilter(
        label=_("Days since confirmation"),
        choices=[(bucket.key, bucket.label) for bucket in AGEING_BUCKETS],
        empty_label=ANY,
        method="filter_age",
    )

    class Meta:
        model = Order
        fields: list[str] = []

    def __init__(self, *args, today: date, currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.filters["currency"].extra["choices"] = [(code, code) for code in currencies]

    def filter_search(self, queryset, name, value):
        return search_orders(queryset, value)

    def filter_age(self, queryset, name, value):
        bucket = next(bucket for bucket in AGEING_BUCKETS if bucket.key == value)
        return queryset.filter(bucket.condition(self.today))


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label=_("SKU or name"))
    series = django_filters.ChoiceFilter(label=_("Series"), empty_label=ANY)
    active = django_filters.BooleanFilter(label=_("Active"), widget=yes_no_any())

    class Meta:
        model = Product
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        series = (
            Product.objects.exclude(series="").order_by("series").values_list("series", flat=True).distinct()
        )
        self.filters["series"].extra["choices"] = [(name, name) for name in series]

    def filter_search(self, queryset, name, value):
        return search_products(queryset, value)
