"""A filter field written by crm/templatetags/filter_fields.py is the markup crispy-forms writes for it
(the same elements, attributes and text; whitespace aside)."""

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.test import RequestFactory
from django.test.testcases import assert_and_parse_html

from crm.templatetags.filter_fields import filter_field
from customers.filters import CustomerFilter
from orders.filters import OrderFilter


class Everything(forms.Form):
    text = forms.CharField(required=False, help_text="Part of a <name> & more")
    needed = forms.CharField(label="Needed")
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date", "class": "wide"}))
    amount = forms.DecimalField(required=False)
    choice = forms.ChoiceField(choices=[("", "All"), ("a", "A <b>")], required=False)
    yes_no = forms.NullBooleanField(required=False)
    many = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple)
    flag = forms.BooleanField(required=False)


def _same(ours, crispys):
    def parsed(html):
        return assert_and_parse_html(None, str(html), "", "Invalid HTML:")

    assert parsed(ours) == parsed(crispys), f"\n{ours}\n!=\n{crispys}"


def _forms():
    yield Everything()
    yield Everything({"day": "not a day", "amount": "x", "choice": "zzz", "many": ["q"]})
    request = RequestFactory().get("/", {"created_after": "bad", "industry": "nope"})
    yield CustomerFilter(request.GET).form
    yield OrderFilter(RequestFactory().get("/", {"total_min": "-x"}).GET).form


@pytest.mark.django_db
@pytest.mark.parametrize("number", range(4))
def test_each_field_is_crispys_markup(number):
    form = list(_forms())[number]
    form.is_valid()
    for name in form.fields:
        # Each side gets a fresh form: crispy adds its class to the widget it renders.
        theirs = list(_forms())[number]
        theirs.is_valid()
        _same(filter_field(form[name]), as_crispy_field(theirs[name]))
