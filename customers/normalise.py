"""Normal forms of contact values: phones in E.164 (default region CN), emails in lower case."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _

from customers.models import ContactMethod

DEFAULT_PHONE_REGION = "CN"


def normalise_phone(value, region=DEFAULT_PHONE_REGION):
    e164 = _e164(value, region)
    if e164 is None:
        message = _("Enter a valid phone number, e.g. 138 0013 8000 or +44 20 7946 0958.")
        raise ValidationError(message, code="invalid_phone")
    return e164


@lru_cache(maxsize=4096)
def _e164(value: str, region: str) -> str | None:
    """The number in E.164, or None when it is no valid number. Cached: an import parses each number
    twice (to match it against stored ones, then to save it), and parsing is the slow part."""
    number = _national_number(value, region)
    if number is None:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _national_number(value: str, region: str) -> phonenumbers.PhoneNumber | None:
    """What phonenumbers.parse makes of plain digits that can only be a national number of `region`
    (13800138000 in China): nothing to strip, no 0 or prefix to read as a trunk, carrier or
    international code, not led by the country's calling code. None for anything else, which
    phonenumbers.parse reads. An import's phone numbers are mostly such digits, and parsing them
    cost more than the rest of a row's work."""
    if not (value.isascii() and value.isdigit() and 2 <= len(value) <= 17) or value[0] == "0":
        return None
    plan = _region_plan(region)
    if plan is None:
        return None
    country_code, prefixes = plan
    if value.startswith(str(country_code)) or any(prefix.match(value) for prefix in prefixes):
        return None
    return phonenumbers.PhoneNumber(country_code=country_code, national_number=int(value))


@cache
def _region_plan(region: str) -> tuple[int, tuple[re.Pattern[str], ...]] | None:
    """The region's calling code and its prefixes compiled, once rather than for every number."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.country_code is None:
        return None
    prefixes = (metadata.national_prefix_for_parsing, metadata.international_prefix)
    return metadata.country_code, tuple(re.compile(prefix) for prefix in prefixes if prefix)


def normalise_email(value):
    value = value.strip().lower()
    if not _is_email(value):
        raise ValidationError(_("Enter a valid email address."), code="invalid_email")
    return value


@lru_cache(maxsize=4096)
def _is_email(value: str) -> bool:
    """Cached for the same reason as _e164: an import checks each address twice."""
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


# A scheme ("javascript:", "ftp:", "mailto:"), as opposed to a host and port ("example.com:8080").
SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*:(?!\d)", re.IGNORECASE)


def normalise_website(value):
    """An http(s) address; without a scheme, https:// is assumed. Any other scheme is refused: a website
    is rendered as a link."""
    if not re.match(r"^https?://", value, re.IGNORECASE):
        if SCHEME.match(value):
            raise ValidationError(
                _("A web address starts with http:// or https://, e.g. https://example.com."),
                code="invalid_website",
            )
        value = f"https://{value}"
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ValidationError(_("Enter a valid web address."), code="invalid_website") from None
    scheme, rest = value.split(":", 1)
    return f"{scheme.lower()}:{rest}"


def normalise_qq(value):
    if not re.fullmatch(r"[1-9]\d{4,11}", value):
        raise ValidationError(_("A QQ number has 5 to 12 digits."), code="invalid_qq")
    return value


NORMALISERS = {
    ContactMethod.Type.PHONE: normalise_phone,
    ContactMethod.Type.MOBILE: normalise_phone,
    ContactMethod.Type.EMAIL: normalise_email,
    ContactMethod.Type.WEBSITE: normalise_website,
    ContactMethod.Type.QQ: normalise_qq,
}


_remembered: ContextVar[dict[tuple[str, str], str] | None] = ContextVar("normalised_values", default=None)


@contextmanager
def remembering_values() -> Iterator[None]:
    """Inside, each valid contact value is normalised once and remembered until the block ends. An
    import reads all its rows (to look up the customers they match) before it saves any (which
    normalises them again), more values than the parsers' own caches keep."""
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


def normalise_contact_value(method_type, value):
    remembered = _remembered.get()
    if remembered is None:
        return _normalised_contact_value(method_type, value)
    key = (method_type, value)
    if key not in remembered:
        remembered[key] = _normalised_contact_value(method_type, value)
    return remembered[key]


def _normalised_contact_value(method_type, value):
    value = " ".join((value or "").split())
    if not value:
        raise ValidationError(_("Enter a value."), code="required")
    normaliser = NORMALISERS.get(method_type)
    return normaliser(value) if normaliser else value


def phone_search_digits(text):
    """The digits of a phone fragment typed into a search box ("138-0013" → "1380013"), or ""."""
    digits = re.sub(r"[\s\-().+]", "", text)
    return digits if digits.isdigit() and len(digits) >= 4 else ""
