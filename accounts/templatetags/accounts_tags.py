from typing import Any

from django import template

from accounts.forms import ROLE_CHOICES
from accounts.services import role_of

register = template.Library()
LABELS = dict(ROLE_CHOICES)


@register.filter
def role_label(user: Any) -> str:
    """The user's role in the reader's language (from their groups; prefetch them for a list)."""
    return str(LABELS[role_of(user)])
