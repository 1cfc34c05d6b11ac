from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import CommandError
from django.utils.translation import gettext as _


def active_user(username: str) -> User:
    """The active user a command acts as; CommandError when there is none by that name."""
    try:
        return get_user_model().objects.get(username=username, is_active=True)
    except get_user_model().DoesNotExist:
        raise CommandError(_("There is no active user “%(username)s”.") % {"username": username}) from None
