from collections.abc import Callable
from typing import Any, TypeVar, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

FieldT = TypeVar("FieldT", bound=forms.Field)
FormSetT = TypeVar("FormSetT", bound="forms.BaseFormSet[Any]")


class DateInput(forms.DateInput):
    """The browser's date picker; it sends and expects ISO dates whatever the language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    """The browser's date and time picker, to the minute."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


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
