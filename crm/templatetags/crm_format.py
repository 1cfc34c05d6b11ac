import phonenumbers
from django import template

register = template.Library()


@register.filter
def phone(value: str | None) -> str:
    """An E.164 number as people read it: +86 138 0013 8000."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
