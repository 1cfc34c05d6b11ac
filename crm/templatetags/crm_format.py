import phonenumbers
from django import template
from django.contrib.auth.base_user import AbstractBaseUser

from crm.history import actor_name

register = template.Library()


@register.filter
def phone(value):
    """An E.164 number as people read it: +86 138 0013 8000."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def actor(user: AbstractBaseUser | None) -> str:
    """Who did something: a person by their full name, nobody (automation, commands) as the system."""
    return actor_name(user)
