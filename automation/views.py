"""The automation pages: the outbox, rules, webhooks (managers), and everyone's notifications."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from automation import outbox, rules, selectors, services
from automation.filters import EMAIL_ORDERING, OutgoingEmailFilter
from automation.forms import RuleForm
from automation.models import AutomationRule, OutgoingEmail
from crm.fields import parse_id
from crm.forms import apply_errors
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


@require_GET
@managers_only
def rule_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "automation/rule_list.html", {"rules": selectors.rules_for_list()})


def _rule_form(request: AuthenticatedRequest, rule: AutomationRule | None) -> HttpResponse:
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_rule(actor=request.user, rule=rule, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Rule “%(rule)s” saved.") % {"rule": saved})
            return redirect("automation:rule", pk=saved.pk)
    if rule is not None:
        rule.refresh_from_db()  # the preview shows the saved rule, not the form's unsaved input
    return render(request, "automation/rule_form.html", {"form": form, "rule": rule, **_preview(rule)})


PREVIEW_ROWS = 10


def _preview(rule: AutomationRule | None) -> dict[str, Any]:
    """What the saved rule would act on now, and its message for the first of them, in both languages."""
    if rule is None:
        return {}
    matches = rules.pending_matches(rule)
    first = matches[0] if matches else None
    return {
        "matched": len(matches),
        "matches": matches[:PREVIEW_ROWS],
        "messages": [
            (code, name, *rules.message(rule, first, code)) for code, name in AutomationRule.Language.choices
        ],
        "variables": [f"{{{name}}}" for name in rules.VARIABLES],
    }


@managers_only
def rule_create(request: AuthenticatedRequest) -> HttpResponse:
    return _rule_form(request, None)


@managers_only
def rule_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _rule_form(request, by_id(selectors.rules(), pk))


@require_POST
@managers_only
def rule_enable(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    rule = by_id(selectors.rules(), pk)
    enabled = request.POST.get("enabled") == "1"
    services.set_rule_enabled(actor=request.user, rule=rule, enabled=enabled)
    if enabled:
        messages.success(request, _("Rule “%(rule)s” is enabled.") % {"rule": rule})
    else:
        messages.info(request, _("Rule “%(rule)s” is disabled.") % {"rule": rule})
    return redirect("automation:rules")
