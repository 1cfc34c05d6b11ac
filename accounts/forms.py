from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Person, Team
from crm.fields import ModelChoiceField
from crm.forms import form_field
from crm.roles import MANAGERS, SALES, TEAM_LEADS

ROLE_CHOICES = [
    (SALES, pgettext_lazy("role", "Sales")),
    (TEAM_LEADS, pgettext_lazy("role", "Team lead")),
    (MANAGERS, pgettext_lazy("role", "Manager")),
]
USER_FIELDS = ("first_name", "last_name", "email", "username", "role", "team")


class UserForm(forms.Form):
    """A person as a manager adds or edits them; the services check the rest (unique e-mail, username)."""

    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("What they log in with: letters, digits and @.+-_ only."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
    team = ModelChoiceField(queryset=Team.objects.all(), label=_("Team"), required=False)

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in USER_FIELDS}

    @classmethod
    def initial_for(cls, user: User, role: str, team: Team | None) -> dict[str, Any]:
        return {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "username": user.username,
            "role": role,
            "team": team,
        }


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    region = forms.CharField(label=_("Region / office"), max_length=100, required=False)


class DeactivateForm(forms.Form):
    successor = ModelChoiceField(
        queryset=Person.objects.none(),
        label=_("Successor"),
        help_text=_(
            "Who takes over their customers, open opportunities, unfinished orders and open follow-ups."
        ),
    )

    def __init__(self, *args: Any, leaving: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "successor", ModelChoiceField).queryset = Person.objects.filter(
            is_active=True
        ).exclude(pk=leaving.pk)
