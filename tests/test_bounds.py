"""Every form and filter of the project is bounded (crm/fields.py): a new field cannot forget it.

The test walks every Form, ModelForm and FilterSet class defined in the project's packages, and
every form of the admin, and feeds each field values an attacker would send: a date in year 1 or
9999, an integer past its column, a decimal past its digits, a NUL byte, an id of twenty digits or
one written with a superscript. Each must be refused with a ValidationError (the field's message);
anything else (accepted, or another exception on the way to the database) fails the test. A field
of a kind the test does not know fails too: add a probe for it here.
"""

import importlib
import pkgutil

import django_filters
import pytest
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from crm import fields

PROJECT_PACKAGES = ["crm", "customers", "orders", "opportunities", "followups", "accounts"]
HUGE = "99999999999999999999"
# Probes by field kind, most specific first; each value must be refused.
PROBES: list[tuple[type[forms.Field], list[object]]] = [
    (forms.ModelMultipleChoiceField, [[HUGE], ["²"], ["-1"]]),
    (forms.ModelChoiceField, [HUGE, "²", "-1", "1\x00"]),
    (forms.SplitDateTimeField, [["0001-01-01", "00:00"], ["9999-12-31", "23:59"]]),
    (forms.DateTimeField, ["0001-01-01T00:00", "9999-12-31T23:59", "1899-12-31T23:59"]),
    (forms.DateField, ["0001-01-01", "0001-01-07", "9999-12-31", "3000-01-01"]),
    (forms.DecimalField, ["1e30", HUGE + ".99", "NaN", "Infinity"]),
    (forms.IntegerField, [str(2**63), "-" + str(2**63 + 1), HUGE]),
    (forms.MultipleChoiceField, [["\x00"]]),
    (forms.ChoiceField, ["\x00", HUGE]),
    (forms.CharField, ["a\x00b"]),
]
# Kinds that hold nothing unbounded: a yes/no, or an upload checked by its form (size, table).
HARMLESS = (forms.BooleanField, forms.NullBooleanField, forms.FileField)
# Integer fields whose column is 32-bit: the probe past it.
INTEGER_COLUMN_PROBE = str(fields.INTEGER_MAX + 1)


def _import_project():
    for package_name in PROJECT_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)


def _subclasses(base):
    found, pending = set(), [base]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass not in found:
                found.add(subclass)
                pending.append(subclass)
    return sorted(
        (cls for cls in found if cls.__module__.split(".")[0] in PROJECT_PACKAGES),
        key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
    )


def _project_forms():
    _import_project()
    for form_class in _subclasses(forms.BaseForm):
        for name, field in form_class.base_fields.items():
            yield f"{form_class.__module__}.{form_class.__qualname__}.{name}", field


def _project_filters():
    _import_project()
    for filterset_class in _subclasses(django_filters.FilterSet):
        for name, filter_ in filterset_class.base_filters.items():
            filter_.model = filterset_class._meta.model
            yield f"{filterset_class.__module__}.{filterset_class.__qualname__}.{name}", filter_.field


def _admin_forms(superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        label = f"admin {model._meta.label}"
        for name, field in model_admin.get_form(request).base_fields.items():
            yield f"{label}.{name}", field
        for inline in model_admin.get_inline_instances(request):
            for name, field in inline.get_formset(request).form.base_fields.items():
                yield f"{label} inline {inline.model._meta.label}.{name}", field


def unbounded(field):
    """Why the field is not bounded, or None."""
    if isinstance(field, HARMLESS):
        return None
    for kind, values in PROBES:
        if isinstance(field, kind):
            probes: list[object] = list(values)
            if isinstance(field, forms.IntegerField) and not isinstance(
                field, (fields.IdField, forms.DecimalField)
            ):
                probes.append(INTEGER_COLUMN_PROBE)
            return next(filter(None, (_accepts(field, value) for value in probes)), None)
    return f"no probe for a {type(field).__name__}: add one to tests/test_bounds.py"


def _accepts(field, value):
    try:
        field.clean(value)
    except ValidationError:
        return None
    except Exception as error:
        return f"{value!r} raised {type(error).__name__}: {error}"
    return f"accepts {value!r}"


def _problems(named_fields):
    return [f"{name}: {problem}" for name, field in named_fields if (problem := unbounded(field))]


@pytest.mark.django_db
def test_every_form_field_of_the_project_is_bounded():
    named = list(_project_forms())
    assert len(named) > 80  # the walk found the forms
    assert _problems(named) == []


@pytest.mark.django_db
def test_every_filter_of_the_project_is_bounded():
    named = list(_project_filters())
    assert len(named) > 40
    assert _problems(named) == []


@pytest.mark.django_db
def test_every_admin_form_field_is_bounded(django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    named = list(_admin_forms(superuser))
    assert len(named) > 30
    assert _problems(named) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field",
    [forms.DateField(), forms.DateTimeField(), forms.IntegerField(), forms.DecimalField()],
    ids=lambda field: type(field).__name__,
)
def test_the_walk_catches_django_fields_without_bounds(field):
    assert unbounded(field) is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("0", None),
        ("-1", None),
        ("²", None),
        ("١٢", None),
        (HUGE, None),
        (str(2**63 - 1), 2**63 - 1),
    ],
)
def test_parse_id_takes_ascii_digits_within_a_bigint(text, expected):
    assert fields.parse_id(text) == expected
