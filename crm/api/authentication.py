"""Token authentication (django-rest-knox: tokens stored hashed, with an expiry, revocable)."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions

# A token is the prefix and 64 hexadecimal characters; anything else is refused before it reaches a query.
MAX_TOKEN_LENGTH = CONSTANTS.MAXIMUM_TOKEN_PREFIX_LENGTH + knox_settings.AUTH_TOKEN_CHARACTER_LENGTH


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's, refusing a malformed token (not ASCII, a NUL, too long) with 401 instead of a 500."""

    def authenticate_credentials(self, token: bytes) -> Any:
        if len(token) > MAX_TOKEN_LENGTH or not (token.isascii() and token.replace(b"_", b"").isalnum()):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(token)
