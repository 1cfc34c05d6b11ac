"""The period and filters a report page or the dashboard is read for, from the query string."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from crm.fields import DateField, IntegerField, ModelChoiceField
from crm.filters import ANY
from crm.forms import form_field
from crm.reporting import (
    CUSTOM,
    DEFAULT_CURRENCY,
    DEFAULT_PRESET,
    LONGEST_PERIOD_DAYS,
    PRESETS,
    Period,
    ReportFilters,
)
from crm.reports import FORECAST_MAX_MONTHS, FORECAST_MIN_MONTHS, FORECAST_MONTHS
from customers.forms import active_users
from customers.models import Tag
from orders.models import Product
from orders.reports import WAITING_DAYS

FILTER_FIELDS = ("owner", "team", "product", "region", "tag", "currency", "months", "days")
# The options a page may offer, and their defaults.
OPTIONS = {"months": FORECAST_MONTHS, "days": WAITING_DAYS}


class ReportForm(forms.Form):
    """The period (a preset, or custom start and end days) and the filters a page offers.

    `fields` names the filters the page has (of FILTER_FIELDS); the owner and team filters are for
    managers and team leads only (`owners` and `teams` are None for everyone else; a lead's name only
    their team and its members, so another team's id is an error at the field, never its figures).
    Invalid input leaves its message at the field, and the page shows the default period without that
    filter.
    """

    period = forms.ChoiceField(
        label=_("Period"),
        choices=[*((key, label) for key, (label, _months) in PRESETS.items()), (CUSTOM, _("Custom"))],
        required=False,
    )
    start = DateField(label=_("From"), required=False)
    end = DateField(label=_("Until"), required=False)
    owner = ModelChoiceField(queryset=active_users(), label=_("Owner"), required=False, empty_label=ANY)
    team = ModelChoiceField(queryset=Team.objects.all(), label=_("Team"), required=False, empty_label=ANY)
    product = ModelChoiceField(
        queryset=Product.objects.order_by("sku"), label=_("Product"), required=False, empty_label=ANY
    )
    region = forms.CharField(label=_("Region"), required=False, max_length=100)
    tag = ModelChoiceField(queryset=Tag.objects.all(), label=_("Tag"), required=False, empty_label=ANY)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)

    months = IntegerField(
        label=_("Months to fit"),
        required=False,
        min_value=FORECAST_MIN_MONTHS,
        max_value=FORECAST_MAX_MONTHS,
    )
    days = IntegerField(label=_("Waiting over (days)"), required=False, min_value=1, max_value=365)

    def __init__(
        self,
        data: QueryDict,
        *,
        today: date,
        fields: Sequence[str] = FILTER_FIELDS,
        owners: QuerySet[User] | None = None,
        teams: QuerySet[Team] | None = None,
        default_preset: str = DEFAULT_PRESET,
    ) -> None:
        self.default_preset = default_preset
        # As a query string gives them: text.
        defaults = {"period": default_preset, "currency": DEFAULT_CURRENCY}
        defaults |= {name: str(default) for name, default in OPTIONS.items()}
        if any(not data.get(name) for name in defaults):
            data = data.copy()
            for name, default in defaults.items():
                data[name] = data.get(name) or default
        super().__init__(data)
        self.today = today
        choices = {"owner": owners, "team": teams}
        for name in FILTER_FIELDS:
            if name not in fields or (name in choices and choices[name] is None):
                del self.fields[name]
        for name, queryset in choices.items():
            if name in self.fields:
                form_field(self, name, forms.ModelChoiceField).queryset = queryset

    def clean_currency(self) -> str:
        currency = (self.cleaned_data["currency"] or DEFAULT_CURRENCY).strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError(_("Enter a three-letter currency code such as CNY."))
        return currency

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        preset = cleaned.get("period") or self.default_preset
        start, end = cleaned.get("start"), cleaned.get("end")
        if preset != CUSTOM:
            return cleaned
        if start is None and "start" not in self.errors:
            self.add_error("start", _("Choose the first day of the period."))
        if end is None and "end" not in self.errors:
            self.add_error("end", _("Choose the last day of the period."))
        if start and end and start > end:
            self.add_error("end", _("The period must end on or after its first day."))
        elif start and end and (end - start).days > LONGEST_PERIOD_DAYS:
            self.add_error("end", _("Choose a period of at most five years."))
        return cleaned

    def chosen_period(self) -> Period:
        """The period asked for, or the default one while the period's fields have errors."""
        self.is_valid()
        period_fields = ("period", "start", "end")
        if any(name in self.errors for name in period_fields):
            return Period.from_preset(self.default_preset, self.today)
        preset = self.cleaned_data.get("period") or self.default_preset
        if preset == CUSTOM:
            return Period(self.cleaned_data["start"], self.cleaned_data["end"])
        return Period.from_preset(preset, self.today)

    def chosen_filters(self) -> ReportFilters:
        """The filters asked for; a filter with an error is left out."""
        self.is_valid()

        def value(name: str, default: Any = None) -> Any:
            if name not in self.fields or name in self.errors:
                return default
            return self.cleaned_data.get(name) or default

        return ReportFilters(
            owner=value("owner"),
            team=value("team"),
            product=value("product"),
            region=(value("region", "")).strip(),
            tag=value("tag"),
            currency=value("currency", DEFAULT_CURRENCY),
        )

    def chosen_options(self) -> dict[str, int]:
        """The page's options (months to fit, days waiting), their defaults where missing or invalid."""
        self.is_valid()
        return {
            name: (self.cleaned_data.get(name) if name not in self.errors else None) or default
            for name, default in OPTIONS.items()
            if name in self.fields
        }
