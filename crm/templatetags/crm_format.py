import functools

import phonenumbers
from django import template
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

from accounts.names import display_name as user_display_name
from crm import formatting
from crm.history import actor_name

register = template.Library()

LINK_SCHEMES = {"http", "https", "mailto", "tel"}
WEB_SCHEMES = {"http", "https"}


@register.filter
def phone(value: str | None) -> str:
    """An E.164 number as people read it: +86 138 0013 8000."""
    if not value:
        return ""
    return _international(value)


@functools.lru_cache(maxsize=65536)  # parsing costs about 0.1 ms a number; a list shows 50 at a time
def _international(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def link_to(label: str, href: object) -> SafeString:
    """`label` as a link to `href`, the one way a stored value becomes a link.

    Only http(s), mailto and tel addresses are linked; anything else (a javascript: address, a
    relative or malformed one) leaves `label` as plain text. Web addresses open in a new tab that
    gets no handle on this page.
    """
    href = str(href or "")
    scheme, colon, rest = href.partition(":")
    if not (colon and rest and scheme in LINK_SCHEMES) or any(
        char.isspace() or ord(char) < 32 for char in href
    ):
        return conditional_escape(label)
    if scheme in WEB_SCHEMES:
        if not rest.startswith("//"):
            return conditional_escape(label)
        return format_html('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', href, label)
    return format_html('<a href="{}">{}</a>', href, label)


@register.filter
def money(value: object) -> str:
    """An amount as people read it, the same in every language: 45,400.00."""
    return formatting.money(value)


@register.filter
def actor(user: AbstractBaseUser | None) -> str:
    """Who did something: a person by their full name, nobody (automation, commands) as the system."""
    return actor_name(user)


@register.filter
def display_name(user: AbstractBaseUser | None) -> str:
    """A user as pages show them: the full name, the username only when no name is known."""
    return user_display_name(user)
