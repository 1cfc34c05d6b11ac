import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.filters import (
    ANY,
    DateFilter,
    DecimalFilter,
    ModelChoiceFilter,
    ModelMultipleChoiceFilter,
    offer_choices,
)
from customers.forms import active_users
from customers.models import Customer
from opportunities.models import Opportunity, Stage
from opportunities.selectors import search_opportunities

# Sort keys offered by the list page and the keyset ordering each maps to (each has an index).
SORTS = {
    "close": ["expected_close_date", "id"],
    "-close": ["-expected_close_date", "-id"],
    "amount": ["amount", "id"],
    "-amount": ["-amount", "-id"],
    "score": ["value_score", "id"],
    "-score": ["-value_score", "-id"],
    "title": ["title", "id"],
    "-title": ["-title", "-id"],
    "created": ["created_at", "id"],
    "-created": ["-created_at", "-id"],
    "updated": ["updated_at", "id"],
    "-updated": ["-updated_at", "-id"],
}
DEFAULT_SORT = "close"


def _number_input(step):
    return forms.NumberInput(attrs={"step": step, "min": 0})


class OpportunityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    owner = ModelChoiceFilter(queryset=active_users(), label=_("Owner"), empty_label=ANY)
    status = django_filters.ChoiceFilter(
        field_name="stage__kind", choices=Stage.Kind.choices, label=_("Status"), empty_label=ANY
    )
    stage = ModelMultipleChoiceFilter(
        queryset=Stage.objects.all(), label=_("Stage"), widget=forms.CheckboxSelectMultiple, distinct=False
    )
    # Set by links from a customer's page; the customer must be one the user sees.
    customer = ModelChoiceFilter(
        queryset=Customer.objects.none(), label=_("Customer"), widget=forms.HiddenInput
    )
    close_after = DateFilter(field_name="expected_close_date", lookup_expr="gte", label=_("Closing from"))
    close_before = DateFilter(field_name="expected_close_date", lookup_expr="lte", label=_("Closing until"))
    amount_min = DecimalFilter(
        field_name="amount",
        lookup_expr="gte",
        label=_("Amount from"),
        widget=_number_input("any"),
    )
    amount_max = DecimalFilter(
        field_name="amount",
        lookup_expr="lte",
        label=_("Amount up to"),
        widget=_number_input("any"),
    )
    score_min = DecimalFilter(
        field_name="value_score",
        lookup_expr="gte",
        label=_("Value score from"),
        widget=_number_input("1"),
    )
    score_max = DecimalFilter(
        field_name="value_score",
        lookup_expr="lte",
        label=_("Value score up to"),
        widget=_number_input("1"),
    )

    class Meta:
        model = Opportunity
        fields: list[str] = []

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        offer_choices(self, "customer", Customer.objects.visible_to(user))

    def filter_search(self, queryset, name, value):
        return search_opportunities(queryset, value)
