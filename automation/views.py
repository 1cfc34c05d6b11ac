"""The automation pages: the outbox, rules, webhooks (managers), and everyone's notifications."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from automation import access, exports, notifications, outbox, rules, selectors, services, webhooks
from automation.filters import EMAIL_ORDERING, OutgoingEmailFilter, WebhookDeliveryFilter
from automation.forms import RuleForm, WebhookEndpointForm
from automation.models import AutomationRule, BackgroundExport, WebhookEndpoint
from crm.exports import CSV_TYPE, XLSX_TYPE
from crm.forms import apply_errors
from crm.http import AuthenticatedRequest
from crm.import_views import managers_only
from crm.lists import keyset_page


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
    email = access.access_email(request.user, pk)
    return render(request, "automation/outbox_detail.html", {"email": email})


@require_POST
@managers_only
def outbox_retry(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    email = access.access_email(request.user, pk)
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
        "previews": [
            (code, name, *rules.message(rule, first, code)) for code, name in AutomationRule.Language.choices
        ],
        "variables": [f"{{{name}}}" for name in rules.VARIABLES],
    }


@managers_only
def rule_create(request: AuthenticatedRequest) -> HttpResponse:
    return _rule_form(request, None)


@managers_only
def rule_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _rule_form(request, access.access_rule(request.user, pk))


@require_POST
@managers_only
def rule_enable(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    rule = access.access_rule(request.user, pk)
    enabled = request.POST.get("enabled") == "1"
    services.set_rule_enabled(actor=request.user, rule=rule, enabled=enabled)
    if enabled:
        messages.success(request, _("Rule “%(rule)s” is enabled.") % {"rule": rule})
    else:
        messages.info(request, _("Rule “%(rule)s” is disabled.") % {"rule": rule})
    return redirect("automation:rules")


NOTIFICATION_ORDERING = ["-created_at", "-id"]


@require_GET
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    page = keyset_page(request, notifications.for_user(request.user), NOTIFICATION_ORDERING)
    wants_email = notifications.wants_email(request.user)
    return render(request, "automation/notifications.html", {"page": page, "wants_email": wants_email})


@require_POST
def notification_preference(request: AuthenticatedRequest) -> HttpResponse:
    notifications.set_email_preference(actor=request.user, email=request.POST.get("email") == "1")
    messages.success(request, _("Your notification settings are saved."))
    return redirect("notifications")


@require_GET
def notification_badge(request: AuthenticatedRequest) -> HttpResponse:
    """The header bell's count of unread notifications (loaded by htmx, so pages pay no query for it)."""
    count = notifications.unread_count(request.user)
    return render(request, "automation/partials/notification_badge.html", {"unread": count})


@require_POST
def notification_read(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Marks one of the user's notifications read and opens what it is about."""
    notification = access.access_notification(request.user, pk)
    notifications.mark_read(actor=request.user, notification_id=notification.pk)
    safe = url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()})
    return redirect(notification.url if notification.url and safe else "notifications")


@require_POST
def notification_read_all(request: AuthenticatedRequest) -> HttpResponse:
    notifications.mark_read(actor=request.user)
    return redirect("notifications")


EXPORT_ORDERING = ["-created_at", "-id"]  # the index export_user_idx, after the user


@require_GET
def export_list(request: AuthenticatedRequest) -> HttpResponse:
    """The user's background exports, newest first: what each holds, where it stands, its download.
    While one is still being written the list refreshes itself."""
    page = keyset_page(request, exports.for_user(request.user), EXPORT_ORDERING)
    writing = {BackgroundExport.Status.PENDING, BackgroundExport.Status.RUNNING}
    context = {
        "page": page,
        "writing": any(export.status in writing for export in page.items),
        "keep_hours": settings.EXPORT_KEEP_HOURS,
    }
    return render(request, "automation/export_list.html", context)


@require_GET
def export_download(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """The file of one of the user's background exports (anyone else's: 404), once it is written."""
    export = access.access_export(request.user, pk)
    if export.status == BackgroundExport.Status.EXPIRED:
        return exports.response_for_expired(request)
    if export.status != BackgroundExport.Status.READY:
        raise Http404
    kind = XLSX_TYPE if export.format == BackgroundExport.Format.XLSX else CSV_TYPE
    name = exports.download_name(export)
    return FileResponse(exports.download(export), as_attachment=True, filename=name, content_type=kind)


@require_GET
@managers_only
def webhook_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "automation/webhook_list.html", {"endpoints": selectors.endpoints()})


def _webhook_form(request: AuthenticatedRequest, endpoint: WebhookEndpoint | None) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_endpoint(actor=request.user, endpoint=endpoint, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Webhook “%(endpoint)s” saved.") % {"endpoint": saved})
            return redirect("automation:webhook", pk=saved.pk)
    context: dict[str, Any] = {"form": form, "endpoint": endpoint}
    if endpoint is not None:
        endpoint.refresh_from_db()
        filterset = WebhookDeliveryFilter(request.GET, queryset=selectors.deliveries(endpoint))
        queryset = filterset.qs if filterset.is_valid() else filterset.qs.none()
        context |= {"filterset": filterset, "page": keyset_page(request, queryset, EMAIL_ORDERING)}
    return render(request, "automation/webhook_form.html", context)


@managers_only
def webhook_create(request: AuthenticatedRequest) -> HttpResponse:
    return _webhook_form(request, None)


@managers_only
def webhook_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _webhook_form(request, access.access_endpoint(request.user, pk))


@require_POST
@managers_only
def webhook_resume(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    endpoint = access.access_endpoint(request.user, pk)
    count = webhooks.resume(actor=request.user, endpoint=endpoint)
    messages.success(request, _("Resumed; %(count)s waiting deliveries go out again.") % {"count": count})
    return redirect("automation:webhook", pk=endpoint.pk)


@require_POST
@managers_only
def delivery_resend(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    row = access.access_delivery(request.user, pk)
    webhooks.resend(actor=request.user, row=row)
    messages.success(request, _("The delivery is queued again."))
    return redirect("automation:webhook", pk=row.endpoint_id)
