import django_filters
from django.utils.translation import gettext_lazy as _

from automation.models import DeliveryStatus, OutgoingEmail, WebhookDelivery

EMAIL_ORDERING = ["-created_at", "-id"]


class OutgoingEmailFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=OutgoingEmail.Kind.choices, label=_("Kind"))

    class Meta:
        model = OutgoingEmail
        fields = ["status", "kind"]


class WebhookDeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, label=_("Status"))

    class Meta:
        model = WebhookDelivery
        fields = ["status"]
