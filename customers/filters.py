import django_filters
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.filters import (
    ANY,
    DayFromFilter,
    DayUntilFilter,
    ModelChoiceFilter,
    OwnerFilterMixin,
    owner_filter,
    yes_no_any,
)
from customers.models import Customer, Segment, Tag
from customers.reports import customers_in_segment
from customers.selectors import has_open_needs, search_customers

# Sort keys offered by the list page and the keyset ordering each maps to (each has an index).
SORTS = {
    "name": ["name", "id"],
    "-name": ["-name", "-id"],
    "created": ["created_at", "id"],
    "-created": ["-created_at", "-id"],
    "updated": ["updated_at", "id"],
    "-updated": ["-updated_at", "-id"],
    "activity": ["last_activity_at", "id"],
    "-activity": ["-last_activity_at", "-id"],
}
DEFAULT_SORT = "name"


class CustomerFilter(OwnerFilterMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    owner = owner_filter()
    lifecycle_stage = django_filters.MultipleChoiceFilter(
        choices=Customer.Lifecycle.choices,
        label=_("Lifecycle stage"),
        widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    tag = ModelChoiceFilter(
        field_name="tags", queryset=Tag.objects.all(), label=_("Tag"), empty_label=ANY, distinct=False
    )
    source = django_filters.ChoiceFilter(choices=Customer.Source.choices, label=_("Source"), empty_label=ANY)
    industry = django_filters.ChoiceFilter(
        choices=Customer.Industry.choices, label=_("Industry"), empty_label=ANY
    )
    region = django_filters.CharFilter(lookup_expr="istartswith", label=_("Region"))
    created_after = DayFromFilter(field_name="created_at", label=_("Created from"))
    created_before = DayUntilFilter(field_name="created_at", label=_("Created until"))
    segment = django_filters.ChoiceFilter(
        choices=Segment.choices, label=_("RFM segment"), empty_label=ANY, method="filter_segment"
    )
    has_open_needs = django_filters.BooleanFilter(
        method="filter_open_needs",
        label=_("Has open needs"),
        widget=yes_no_any(),
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return search_customers(queryset, value, limit=settings.SEARCH_MATCH_LIMIT)

    def filter_queryset(self, queryset):
        # The search goes last, so that it reads the first matches among the rows the other
        # filters keep, not the first of all (crm/search.py).
        filters = sorted(self.form.cleaned_data.items(), key=lambda item: item[0] == "q")
        for name, value in filters:
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_segment(self, queryset, name, value):
        return queryset.filter(pk__in=customers_in_segment(value))

    def filter_open_needs(self, queryset, name, value):
        return queryset.filter(has_open_needs()) if value else queryset.exclude(has_open_needs())
