import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.filters import ANY, DayFromFilter, DayUntilFilter, ModelChoiceFilter, offer_choices, yes_no_any
from customers.forms import active_users
from followups.models import Communication, FollowUp
from followups.selectors import of_customers_matching
from opportunities.models import Opportunity
from orders.models import Order

# Sort keys each list offers and the keyset ordering each maps to (each has an index).
FOLLOWUP_SORTS = {
    "due": ["due_at", "id"],
    "-due": ["-due_at", "-id"],
    "created": ["created_at", "id"],
    "-created": ["-created_at", "-id"],
}
COMMUNICATION_SORTS = {
    "occurred": ["occurred_at", "id"],
    "-occurred": ["-occurred_at", "-id"],
}


class CustomerSearchFilter(django_filters.CharFilter):
    """Rows of the customers a fragment of a name, phone, email or contact person finds."""

    def __init__(self, **kwargs):
        super().__init__(label=_("Customer"), **kwargs)

    def filter(self, qs, value):
        if not value or not value.strip():
            return qs
        return of_customers_matching(qs, value)


class UserFilter(ModelChoiceFilter):
    def __init__(self, **kwargs):
        super().__init__(queryset=active_users(), empty_label=ANY, **kwargs)


class LinkedRecordFilterSet(django_filters.FilterSet):
    """Rows about one order or one opportunity (the "see all" of those pages); the user must see it,
    else the filter is invalid and the list shows nothing."""

    order = ModelChoiceFilter(queryset=Order.objects.none(), label=_("Order"), widget=forms.HiddenInput)
    opportunity = ModelChoiceFilter(
        queryset=Opportunity.objects.none(), label=_("Opportunity"), widget=forms.HiddenInput
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        offer_choices(self, "order", Order.objects.visible_to(user))
        offer_choices(self, "opportunity", Opportunity.objects.visible_to(user))


class FollowUpFilter(LinkedRecordFilterSet):
    customer = CustomerSearchFilter()
    assignee = UserFilter(label=_("Assignee"))
    status = django_filters.ChoiceFilter(choices=FollowUp.Status.choices, label=_("Status"), empty_label=ANY)
    due_after = DayFromFilter(field_name="due_at", label=_("Due from"))
    due_before = DayUntilFilter(field_name="due_at", label=_("Due until"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"), widget=yes_no_any())

    class Meta:
        model = FollowUp
        fields: list[str] = []

    def filter_overdue(self, queryset, name, value):
        """Open and past their due time (the dashboard's overdue follow-ups), or not."""
        overdue = Q(status=FollowUp.Status.OPEN, due_at__lt=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class CommunicationFilter(LinkedRecordFilterSet):
    customer = CustomerSearchFilter()
    staff = UserFilter(label=_("Staff member"))
    channel = django_filters.ChoiceFilter(
        choices=Communication.Channel.choices, label=_("Channel"), empty_label=ANY
    )
    occurred_after = DayFromFilter(field_name="occurred_at", label=_("From"))
    occurred_before = DayUntilFilter(field_name="occurred_at", label=_("Until"))

    class Meta:
        model = Communication
        fields: list[str] = []
