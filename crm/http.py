"""Requests as the views see them."""

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedRequest(HttpRequest):
    """A request to a view that needs a signed-in user: every view but those marked
    `login_not_required` (LoginRequiredMiddleware turns everyone else away)."""

    user: User
