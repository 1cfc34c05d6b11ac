"""The select boxes crm/form_renderer.py writes are the ones Django's templates write, character for
character, and a list page's filter form renders them without the option templates."""

import pytest
from django import forms
from django.contrib.auth.models import User
from django.forms.renderers import DjangoTemplates
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from crm.form_renderer import FormRenderer
from customers.models import Customer
from tests.factories import UserFactory

TEMPLATES = DjangoTemplates()
FAST = FormRenderer()

CHOICES = [
    ("", "---------"),
    ("a", 'Quotes " and <tags> & ampersands'),
    ("b", gettext_lazy("Customer")),
    ("c", mark_safe("<b>safe</b>")),
]
GROUPED = [("", "—"), ("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Z")]


class Everything(forms.Form):
    plain = forms.ChoiceField(choices=CHOICES)
    optional = forms.ChoiceField(choices=CHOICES, required=False)
    grouped = forms.ChoiceField(choices=GROUPED)
    many = forms.MultipleChoiceField(choices=CHOICES[1:], required=False)
    yes_no = forms.NullBooleanField(required=False)
    disabled = forms.ChoiceField(choices=CHOICES, disabled=True)
    with_attrs = forms.ChoiceField(
        choices=CHOICES,
        widget=forms.Select(attrs={"class": "form-select", "data-x": '"q"', "autofocus": True}),
    )
    people: forms.ModelChoiceField[User] = forms.ModelChoiceField(User.objects.none(), required=False)


def _forms(owner, renderer):
    data = {"plain": "a", "grouped": "y", "many": ["a", "c"], "yes_no": "true", "people": str(owner.pk)}
    for values in (None, data, {"plain": "<nope>", "many": ["<x>"]}):
        form = Everything(values, renderer=renderer)
        form.fields["people"].queryset = User.objects.order_by("pk")  # type: ignore[attr-defined]
        yield form


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_select_is_written_as_the_templates_write_it(language):
    owner = UserFactory(username="ann<&>")
    with translation.override(language):
        for fast, templates in zip(_forms(owner, FAST), _forms(owner, TEMPLATES), strict=True):
            for name in fast.fields:
                assert fast[name].as_widget() == templates[name].as_widget(), name
            assert "<option" in fast["people"].as_widget() and "ann&lt;&amp;&gt;" in str(fast["people"])


def test_options_the_templates_would_localise_or_write_otherwise_go_to_the_templates():
    numbers = forms.ChoiceField(choices=[(1, 1000), (2, 2.5)])
    radios = forms.ChoiceField(choices=CHOICES, widget=forms.RadioSelect)
    for field in (numbers, radios):
        widget = field.widget
        assert widget.render("x", "1", renderer=FAST) == widget.render("x", "1", renderer=TEMPLATES)


@pytest.mark.django_db
def test_the_filter_form_of_the_customer_list_needs_no_option_template(client, sales1, monkeypatch):
    Customer.objects.create(name="One", owner=sales1)
    client.force_login(sales1)
    rendered: list[str] = []
    original = DjangoTemplates.get_template

    def counting(self, template_name):
        rendered.append(template_name)
        return original(self, template_name)

    monkeypatch.setattr(DjangoTemplates, "get_template", counting)
    response = client.get("/customers/")
    assert response.status_code == 200 and 'name="industry"' in response.content.decode()
    assert "django/forms/widgets/select_option.html" not in rendered
    assert "django/forms/widgets/select.html" not in rendered
