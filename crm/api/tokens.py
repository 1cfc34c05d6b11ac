"""API tokens: created by a user for themselves (or by operations for an integration), revoked by them.

django-rest-knox stores only a hash of each token; the token itself is shown once, when it is made. A
token expires after the days chosen (at most settings.API_TOKEN_MAX_DAYS); a revoked one is deleted.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import AuthToken
from knox.settings import CONSTANTS

from crm.access import require

MAX_KEY_LENGTH = CONSTANTS.MAXIMUM_TOKEN_PREFIX_LENGTH + CONSTANTS.TOKEN_KEY_LENGTH


def tokens_of(user: User) -> QuerySet[AuthToken]:
    """The user's tokens that still work, newest first."""
    now = timezone.now()
    return AuthToken.objects.filter(user=user, expiry__gt=now).order_by("-created")


@transaction.atomic
def create_api_token(*, actor: User | None, user: User, days: int | None = None) -> tuple[AuthToken, str]:
    """A new token of `user`, valid `days` days (default settings.API_TOKEN_DAYS); returns the stored
    token and the token itself, which is not stored and cannot be shown again. Users make their own;
    the system (a command) makes one for anyone."""
    require(actor is None or actor.pk == user.pk, _("You may only create your own API tokens."))
    days = settings.API_TOKEN_DAYS if days is None else days
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ValidationError(
            {"days": _("Choose between 1 and %(max)s days.") % {"max": settings.API_TOKEN_MAX_DAYS}}
        )
    if not user.is_active:
        raise ValidationError(_("The user is not active."))
    return AuthToken.objects.create(user=user, expiry=timedelta(days=days))


@transaction.atomic
def revoke_api_token(*, actor: User | None, user: User, token_key: str) -> None:
    """Revoke one of the user's tokens, by the key shown on the tokens page (404 for anyone else's)."""
    require(actor is None or actor.pk == user.pk, _("You may only revoke your own API tokens."))
    if not (
        len(token_key) <= MAX_KEY_LENGTH and token_key.isascii() and token_key.replace("_", "").isalnum()
    ):
        raise Http404  # no key looks like this: it never reaches a query
    deleted, _kinds = AuthToken.objects.filter(user=user, token_key=token_key).delete()
    if not deleted:
        raise Http404
