"""One-time form tokens: a payment, credit note or transition form posted twice acts once.

Each form carries a fresh UUID (`OnceFormMixin.form_token`). The view runs its service through
`run_once`: the token is claimed (a FormSubmission row, unique on the token) in the same transaction
as the write, so a post whose write failed leaves the token unspent and the corrected form can be
sent again. A repeated post of a spent token (a double click, a reload, a retry after a timeout)
writes nothing and is answered with the first post's result. Two posts at once queue on the unique
index; the second sees the first's row once it commits.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import FormSubmission, Order


class OnceFormMixin(forms.Form):
    """Adds the hidden one-time token, new each time the form is shown unbound."""

    form_token = forms.UUIDField(widget=forms.HiddenInput, required=False, initial=uuid4)


class Repeated(Exception):
    """The token was spent by an earlier post, whose answer this carries."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _claim(user: User, order: Order, token: UUID | None) -> FormSubmission | None:
    if token is None:  # a form from before tokens, or a script: it simply runs
        return None
    submission, created = FormSubmission.objects.get_or_create(
        token=token, defaults={"user": user, "order": order}
    )
    if not created:
        if submission.user_id != user.pk or submission.order_id != order.pk:
            raise PermissionDenied(_("This form was sent already."))
        raise Repeated(submission.message)
    return submission


def run_once(
    user: User, order: Order, token: UUID | None, action: Callable[[], Any], message: Callable[[Any], str]
) -> str:
    """Runs `action` (a service call) once for the token and returns `message(result)`; on a repeated
    post, writes nothing and returns the first post's message. The action's errors propagate, and
    leave the token unspent."""
    try:
        with transaction.atomic():
            submission = _claim(user, order, token)
            text = message(action())
            if submission is not None:
                submission.message = text[:500]
                submission.save(update_fields=["message"])
            return text
    except Repeated as repeated:
        return repeated.message


def prune(now: datetime | None = None) -> int:
    """Forgets the tokens spent more than settings.FORM_TOKEN_DAYS ago; returns how many. A form
    that old is long closed; were it posted again, it would run as a post without a token."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.FORM_TOKEN_DAYS)
    deleted, _kinds = FormSubmission.objects.filter(created_at__lt=cutoff).delete()
    return deleted
