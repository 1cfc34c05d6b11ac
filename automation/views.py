"""The automation pages: the outbox, rules, webhooks (managers), and everyone's notifications."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from automation import outbox, selectors
from automation.filters import EMAIL_ORDERING, OutgoingEmailFilter
from automation.models import OutgoingEmail
from crm.fields import parse_id
from crm.http import AuthenticatedRequest
from crm.import_views import managers_only
from crm.lists import keyset_page


def by_id(queryset: Any, pk: object) -> Any:
    """The row `pk` of `queryset`, or 404 (also for an id that is no id)."""
    return get_object_or_404(queryset, pk=parse_id(pk) or 0)


@require_GET
@managers_only
def outbox_list(request: AuthenticatedRequest) -> HttpResponse:
    filterset = OutgoingEmailFilter(request.GET, queryset=selectors.outbox())
    queryset = filterset.qs if filterset.is_valid() else filterset.qs.none()
    page = keyset_page(request, queryset, EMAIL_ORDERING)
    return render(request, "automation/outbox.html", {"filterset": filterset, "page": page})


@require_GET
@managers_only
def outbox_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    email = by_id(selectors.outbox(), pk)
    return render(request, "automation/outbox_detail.html", {"email": email})


@require_POST
@managers_only
def outbox_retry(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    email: OutgoingEmail = by_id(selectors.outbox(), pk)
    if outbox.retry_email(actor=request.user, email=email):
        messages.success(request, _("The e-mail to %(to)s is queued again.") % {"to": email.to})
    else:
        messages.info(request, _("Only a failed e-mail can be retried."))
    return redirect("automation:outbox_detail", pk=email.pk)
