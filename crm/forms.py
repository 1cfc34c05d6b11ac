from collections.abc import Callable
from typing import Any, TypeVar, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms.models import ModelFormMetaclass
from django.utils.translation import gettext_lazy as _

from crm.fields import bounded_formfield

FieldT = TypeVar("FieldT", bound=forms.Field)
FormSetT = TypeVar("FormSetT", bound="forms.BaseFormSet[Any]")


class BoundedModelFormMetaclass(ModelFormMetaclass):
    """Makes a ModelForm's fields from its model's fields with the bounds of crm/fields.py."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> type:
        meta = attrs.get("Meta")
        if meta is not None and not hasattr(meta, "formfield_callback"):
            meta.formfield_callback = staticmethod(bounded_formfield)
        return super().__new__(mcs, name, bases, attrs)


class ModelForm(forms.ModelForm, metaclass=BoundedModelFormMetaclass):
    """The project's ModelForm: every field generated from the model is bounded (crm/fields.py)."""


class SearchForm(forms.Form):
    """A search box read from the address: `q`, a fragment of at most 200 characters (no NUL)."""

    q = forms.CharField(required=False, max_length=200, label=_("Search"))

    def __init__(self, data: Any, *, field_name: str = "q", **kwargs: Any) -> None:
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs["autocomplete"] = "username"


def apply_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Puts a service's ValidationError next to the form fields it names."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def save_from_form(form: forms.BaseForm, action: Callable[[dict[str, Any]], object]) -> bool:
    """Runs a service with a valid form's data; puts its errors on the form. True when it saved."""
    if not form.is_valid():
        return False
    try:
        action(form.cleaned_data)
    except ValidationError as error:
        apply_errors(form, error)
        return False
    return True


def form_field(form: forms.BaseForm, name: str, kind: type[FieldT]) -> FieldT:
    """The form's field `name`, which is a `kind` (e.g. a ModelChoiceField whose queryset a form narrows)."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"The field {name!r} is a {type(field).__name__}, not a {kind.__name__}.")
    return field


def formset_class(formset: type[FormSetT], form: type[forms.BaseForm], **options: Any) -> type[FormSetT]:
    """Django's formset_factory, saying what it makes: a subclass of `formset` for rows of `form`."""
    return cast(type[FormSetT], forms.formset_factory(form, formset=formset, **options))
