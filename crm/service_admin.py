"""Admin pages whose saves go through the services, with the services' refusals at the fields.

Django's admin validates the forms, then saves, then answers; a service's ValidationError raised while
saving would be a 500. Here the save calls the services (`ServiceAdmin.create/update/delete_through_service`
and the same on each `ServiceInline`) and collects what they refuse, by form: the main form, or one
row of an inline. Any refusal rolls the whole save back (the admin saves in one transaction) and the
page is shown again from the same POST, with each refusal added to its form's errors, next to the
field it names, and the user's input kept. Nothing is saved around the services: an inline that is
not a ServiceInline must be read-only.
"""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.forms import BaseInlineFormSet, BaseModelFormSet
from django.forms.models import construct_instance
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from crm.admin_site import BoundedFieldsAdmin
from crm.forms import apply_errors

REFUSAL_ATTRIBUTE = "_service_refusal"


class ServiceRefused(Exception):
    """What the services refused while an admin page saved, by the prefix of the form it is about."""

    def __init__(self, errors: Mapping[str | None, ValidationError | PermissionDenied]) -> None:
        super().__init__(errors)
        self.errors = dict(errors)


def _as_validation_error(error: ValidationError | PermissionDenied) -> ValidationError:
    return error if isinstance(error, ValidationError) else ValidationError(str(error))


def _with_refusals(form_class: type[forms.BaseForm], request: HttpRequest) -> Any:
    """`form_class`, adding to each form the refusal made for its prefix (if this is the page shown again)."""
    refused = getattr(request, REFUSAL_ATTRIBUTE, None)
    if refused is None:
        return form_class
    errors = refused.errors

    class RefusedForm(form_class):  # type: ignore[valid-type,misc]
        def clean(self) -> Any:
            cleaned = super().clean()
            if self.prefix in errors:
                apply_errors(self, _as_validation_error(errors[self.prefix]))
            return cleaned

    RefusedForm.__name__ = form_class.__name__
    return RefusedForm


class ServiceModelForm(forms.ModelForm):
    """A model form that checks the fields' values; the rest (the model's own validation, uniqueness and
    constraints) is the service's to check, on the values it stores (normalised, with its rules)."""

    def _post_clean(self) -> None:
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
        except ValidationError as error:
            apply_errors(self, error)


class ServiceInlineFormSet(BaseInlineFormSet):
    def validate_unique(self) -> None:
        """The services check what must be unique, on the values they store."""


def changed_fields(form: forms.BaseForm, names: set[str] | frozenset[str]) -> dict[str, Any]:
    """The cleaned values of the fields among `names` that the user changed."""
    return {name: form.cleaned_data[name] for name in form.changed_data if name in names}


def current(obj: Model) -> Any:
    """A fresh copy of `obj` as stored: a service gets the record, not the form's edited copy of it."""
    return type(obj)._default_manager.get(pk=obj.pk)


def actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # the admin is for signed-in staff only


class ServiceAdmin(BoundedFieldsAdmin, admin.ModelAdmin):
    """A ModelAdmin that writes through services. Subclasses implement the hooks their page offers:
    `create_through_service` (when adding is allowed), `update_through_service`, and optionally
    `delete_through_service` (otherwise Django deletes)."""

    form: type[forms.ModelForm] = ServiceModelForm

    def create_through_service(self, request: HttpRequest, form: forms.ModelForm) -> Model:
        raise NotImplementedError(f"{type(self).__name__} cannot add records")

    def update_through_service(self, request: HttpRequest, obj: Model, form: forms.ModelForm) -> Model:
        raise NotImplementedError(f"{type(self).__name__} cannot change records")

    delete_through_service = None  # (request, obj) -> None, when deleting has a service

    # The forms carry the refusals of the first attempt.

    def get_form(
        self, request: HttpRequest, obj: Model | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        return _with_refusals(super().get_form(request, obj, change, **kwargs), request)

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> Any:
        return _with_refusals(super().get_changelist_form(request, **kwargs), request)

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._answer_refusals(request, super().changeform_view, *args, **kwargs)

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._answer_refusals(request, super().changelist_view, *args, **kwargs)

    def _answer_refusals(self, request: HttpRequest, view: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        """Runs the view; when a service refused, runs it again on the same POST with the refusals on the
        forms. The first run's transaction was rolled back by the refusal, so nothing of it stays."""
        try:
            return view(request, *args, **kwargs)
        except ServiceRefused as refused:
            setattr(request, REFUSAL_ATTRIBUTE, refused)
        try:
            return view(request, *args, **kwargs)
        except ServiceRefused as refused:  # a refusal no form of the page could show: say it plainly
            for error in refused.errors.values():
                self.message_user(request, " ".join(_as_validation_error(error).messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # Saving.

    def save_model(self, request: HttpRequest, obj: Model, form: forms.ModelForm, change: bool) -> None:
        try:
            if change:
                saved = self.update_through_service(request, current(obj), form)
            else:
                saved = self.create_through_service(request, form)
        except (ValidationError, PermissionDenied) as error:
            raise ServiceRefused({form.prefix: error}) from None
        obj.pk, obj._state.adding = saved.pk, False  # the admin names and links the record by `obj`
        form.saved_record = saved  # type: ignore[attr-defined]

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: list[BaseModelFormSet], change: bool
    ) -> None:
        """The inlines' rows, each through its inline's services; the many-to-many fields are the
        update hook's to pass on."""
        parent = getattr(form, "saved_record", form.instance)
        refusals: dict[str | None, ValidationError | PermissionDenied] = {}
        for formset in formsets:
            inline = getattr(formset, "service_inline", None)
            if inline is None:  # a read-only inline: Django's save finds nothing to save
                self.save_formset(request, form, formset, change)
            else:
                refusals |= inline.save_through_services(request, parent, formset)
        if refusals:
            raise ServiceRefused(refusals)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        if self.delete_through_service is None:
            super().delete_model(request, obj)
        else:
            self.delete_through_service(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        if self.delete_through_service is None:
            super().delete_queryset(request, queryset)
        else:
            for obj in queryset:
                self.delete_model(request, obj)


class ServiceInline(BoundedFieldsAdmin, admin.TabularInline):
    """An inline whose rows are added, changed and deleted by services, for a ServiceAdmin."""

    extra = 0
    form: type[forms.ModelForm] = ServiceModelForm
    formset = ServiceInlineFormSet

    def create_through_service(self, request: HttpRequest, parent: Model, form: forms.ModelForm) -> Model:
        raise NotImplementedError

    def update_through_service(self, request: HttpRequest, obj: Model, form: forms.ModelForm) -> Model:
        raise NotImplementedError

    def delete_through_service(self, request: HttpRequest, obj: Model) -> None:
        raise NotImplementedError

    def get_formset(self, request: HttpRequest, obj: Model | None = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = _with_refusals(formset.form, request)
        formset.service_inline = self  # type: ignore[attr-defined]
        return formset

    def save_through_services(
        self, request: HttpRequest, parent: Model, formset: BaseModelFormSet
    ) -> dict[str | None, ValidationError | PermissionDenied]:
        """Applies each row the user deleted, changed or added; returns the refusals by row.

        Notes what it did as a formset's save does, for the admin's change message.
        """
        refusals: dict[str | None, ValidationError | PermissionDenied] = {}
        deleted = formset.deleted_forms if formset.can_delete else []
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for form in formset.forms:
            existing = form.instance.pk is not None and form in formset.initial_forms
            try:
                if form in deleted:
                    if existing:
                        self.delete_through_service(request, current(form.instance))
                        formset.deleted_objects.append(form.instance)
                elif existing and form.has_changed():
                    saved = self.update_through_service(request, current(form.instance), form)
                    formset.changed_objects.append((saved, form.changed_data))
                elif not existing and form.has_changed():
                    formset.new_objects.append(self.create_through_service(request, parent, form))
            except (ValidationError, PermissionDenied) as error:
                refusals[form.prefix] = error
        return refusals
