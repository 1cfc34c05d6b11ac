import django_filters
from django.utils.translation import gettext_lazy as _

from crm.filters import ANY, DayFromFilter, DayUntilFilter
from customers.forms import active_users
from customers.models import Customer
from customers.selectors import search_customers
from followups.models import Communication, FollowUp

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
        return qs.filter(customer__in=search_customers(Customer.objects.all(), value).values("pk"))


class UserFilter(django_filters.ModelChoiceFilter):
    def __init__(self, **kwargs):
        super().__init__(queryset=active_users(), empty_label=ANY, **kwargs)


class FollowUpFilter(django_filters.FilterSet):
    customer = CustomerSearchFilter()
    assignee = UserFilter(label=_("Assignee"))
    status = django_filters.ChoiceFilter(choices=FollowUp.Status.choices, label=_("Status"), empty_label=ANY)
    due_after = DayFromFilter(field_name="due_at", label=_("Due from"))
    due_before = DayUntilFilter(field_name="due_at", label=_("Due until"))

    class Meta:
        model = FollowUp
        fields = []


class CommunicationFilter(django_filters.FilterSet):
    customer = CustomerSearchFilter()
    staff = UserFilter(label=_("Staff member"))
    channel = django_filters.ChoiceFilter(
        choices=Communication.Channel.choices, label=_("Channel"), empty_label=ANY
    )
    occurred_after = DayFromFilter(field_name="occurred_at", label=_("From"))
    occurred_before = DayUntilFilter(field_name="occurred_at", label=_("Until"))

    class Meta:
        model = Communication
        fields = []
