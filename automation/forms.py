from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db import models
from django.utils.translation import gettext_lazy as _

from automation.models import AutomationRule, WebhookEndpoint
from automation.services import RULE_FIELDS
from crm.fields import bounded_formfield
from crm.forms import ModelForm, form_field
from orders.models import Status

ORDER_STATUS_CHOICES = [("", "—"), *Status.choices]


class RuleForm(ModelForm):
    status = forms.ChoiceField(choices=ORDER_STATUS_CHOICES, required=False, label=_("Order status"))

    class Meta:
        model = AutomationRule
        fields = list(RULE_FIELDS)
        widgets = {"body_zh": forms.Textarea(attrs={"rows": 4}), "body_en": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = User.objects.filter(is_active=True).order_by("username")
        form_field(self, "owner", forms.ModelChoiceField).queryset = users
        form_field(self, "user", forms.ModelChoiceField).queryset = users
        form_field(self, "webhook", forms.ModelChoiceField).queryset = WebhookEndpoint.objects.filter(
            active=True
        )


def _formfield(db_field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    """The bounded form field; an address without a scheme is taken as https."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return bounded_formfield(db_field, **kwargs)


class WebhookEndpointForm(ModelForm):
    event_types = forms.MultipleChoiceField(
        label=_("Event types"), widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "secret", "event_types", "active"]
        formfield_callback = staticmethod(_formfield)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from automation.models import WebhookEvent

        super().__init__(*args, **kwargs)
        form_field(self, "event_types", forms.MultipleChoiceField).choices = WebhookEvent.choices
        self.fields["secret"].required = False  # an empty one is made by the service
