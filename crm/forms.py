from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms.models import ModelFormMetaclass
from django.utils.translation import gettext_lazy as _

from crm.fields import bounded_formfield


class BoundedModelFormMetaclass(ModelFormMetaclass):
    """Makes a ModelForm's fields from its model's fields with the bounds of crm/fields.py."""

    def __new__(mcs, name, bases, attrs):
        meta = attrs.get("Meta")
        if meta is not None and not hasattr(meta, "formfield_callback"):
            meta.formfield_callback = staticmethod(bounded_formfield)
        return super().__new__(mcs, name, bases, attrs)


class ModelForm(forms.ModelForm, metaclass=BoundedModelFormMetaclass):
    """The project's ModelForm: every field generated from the model is bounded (crm/fields.py)."""


class SearchForm(forms.Form):
    """A search box read from the address: `q`, a fragment of at most 200 characters (no NUL)."""

    q = forms.CharField(required=False, max_length=200, label=_("Search"))

    def __init__(self, data, *, field_name="q", **kwargs):
        super().__init__(data, **kwargs)
        if field_name != "q":
            self.fields[field_name] = self.fields.pop("q")
        self.field_name = field_name

    @property
    def query(self) -> str:
        """What to search for; empty (search nothing) while the input is invalid."""
        return self.cleaned_data[self.field_name] if self.is_valid() else ""


class LoginForm(AuthenticationForm):
    """Django's login form; the username field gets the browser's autofill hint."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs["autocomplete"] = "username"


def apply_errors(form, error):
    """Puts a service's ValidationError next to the form fields it names."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def save_from_form(form, action):
    """Runs a service with a valid form's data; puts its errors on the form. True when it saved."""
    if not form.is_valid():
        return False
    try:
        action(form.cleaned_data)
    except ValidationError as error:
        apply_errors(form, error)
        return False
    return True
