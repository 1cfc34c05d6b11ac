"""The form renderer: Django's widget templates, except that a select box is written here.

Django's select template includes a template for each option, and a list page's filter form spends
about half its time in them (five selects of ten to twenty options: 7 ms of a 53 ms page on the
benchmark machine). A select whose options are plain (the default option template, text labels) is
written here instead, character for character as the templates write it (tests/test_form_renderer.py
compares the two); anything else goes to the templates.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.forms.widgets import Select
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe


class FormRenderer(DjangoTemplates):
    def render(self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None) -> str:
        widget = context.get("widget")
        if template_name == Select.template_name and widget is not None and _plain(widget):
            return select_html(widget)
        return super().render(template_name, context, request)


def _is_text(value: object) -> bool:
    """Text the templates would print as it is (a number or a date they would localise)."""
    return isinstance(value, str | Promise)


def _plain(widget: dict[str, Any]) -> bool:
    return all(
        (not group_name or _is_text(group_name))
        and all(
            option["template_name"] == Select.option_template_name and _is_text(option["label"])
            for option in options
        )
        for group_name, options, _index in widget["optgroups"]
    )


def _attrs(attrs: dict[str, Any]) -> str:
    """As django/forms/widgets/attrs.html: ` name="value"`, a bare ` name` for True, nothing for False."""
    written = []
    for name, value in attrs.items():
        if value is False:
            continue
        written.append(f" {conditional_escape(name)}")
        if value is not True:
            written.append(f'="{conditional_escape(value)}"')
    return "".join(written)


def _option(option: dict[str, Any]) -> str:
    return (
        f'<option value="{conditional_escape(option["value"])}"{_attrs(option["attrs"])}>'
        f"{conditional_escape(option['label'])}</option>\n"
    )


def select_html(widget: dict[str, Any]) -> SafeString:
    """django/forms/widgets/select.html with its plain options, as that template renders it."""
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        parts.extend(f"\n  {_option(option)}" for option in options)
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # every value above is escaped
