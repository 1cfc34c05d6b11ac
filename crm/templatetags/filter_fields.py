"""`{% filter_field form.owner %}`: a list page's filter field in crispy-forms' Bootstrap 5 markup (label,
control, errors, help), written in Python. A filter form renders ten such fields on every request of
its list, and crispy's field template cost more than the widgets it wraps. A field of another kind (a
list of checkboxes, a single checkbox) is left to crispy; tests/test_filter_fields.py compares the two.
"""

from __future__ import annotations

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms, template
from django.forms.boundfield import BoundField
from django.forms.widgets import Input
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _control_class(widget: forms.Widget) -> str | None:
    """Bootstrap's class for the widget's control, or None for a widget crispy lays out itself."""
    if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect | forms.CheckboxInput):
        return None
    if isinstance(widget, forms.Select):
        return "form-select"
    if isinstance(widget, Input) and widget.input_type not in ("file", "hidden"):
        return "form-control"
    return None


@register.simple_tag
def filter_field(field: BoundField) -> SafeString:
    widget = field.field.widget
    control = _control_class(widget)
    if control is None:
        return as_crispy_field(field)
    classes = [widget.attrs.get("class", ""), type(widget).__name__.lower(), control]
    attrs: dict[str, str | bool] = {}
    if field.errors:
        classes.append("is-invalid")
        attrs = {"aria-invalid": "true", "aria-describedby": f"{field.auto_id}_error"}
    attrs["class"] = " ".join(name for name in classes if name)
    return format_html(
        '<div id="div_{}" class="mb-3">{}{}{}{}</div>',
        field.auto_id,
        _label(field),
        field.as_widget(attrs=attrs),
        _errors(field),
        _help(field),
    )


def _label(field: BoundField) -> SafeString:
    if not field.label:
        return mark_safe("")
    required = field.field.required
    return format_html(
        '<label for="{}" class="form-label{}">{}{}</label>',
        field.id_for_label,
        " requiredField" if required else "",
        field.label,
        mark_safe('<span class="asteriskField">*</span>') if required else "",
    )


def _help(field: BoundField) -> SafeString:
    if not field.help_text:
        return mark_safe("")
    # A help text is the developers' HTML, as in Django's and crispy's templates.
    help_text = mark_safe(field.help_text)
    return format_html('<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, help_text)


def _errors(field: BoundField) -> SafeString:
    if not field.errors:
        return mark_safe("")
    messages = format_html_join(
        "",
        '<p id="error_{}_{}"><strong>{}</strong></p>',
        ((number, field.auto_id, error) for number, error in enumerate(field.errors, 1)),
    )
    return format_html('<div id="{}_error" class="invalid-feedback">{}</div>', field.auto_id, messages)
