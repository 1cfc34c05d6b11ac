from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.fields import BoundedFieldsAdmin
from followups import services
from followups.models import Communication, FollowUp, ReminderDigest


@admin.register(Communication)
class CommunicationAdmin(BoundedFieldsAdmin, SimpleHistoryAdmin):
    list_display = ["subject", "customer", "channel", "direction", "occurred_at", "staff"]
    list_filter = ["channel", "direction", "occurred_at", "staff"]
    search_fields = ["subject", "content", "customer__name"]
    list_select_related = ["customer", "staff"]
    autocomplete_fields = ["customer"]
    # Ids, not selects of every order and opportunity there is.
    raw_id_fields = ["contact_person", "staff", "order", "opportunity"]
    date_hierarchy = "occurred_at"
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False


@admin.register(FollowUp)
class FollowUpAdmin(BoundedFieldsAdmin, SimpleHistoryAdmin):
    list_display = ["subject", "customer", "due_at", "assignee", "priority", "status", "completed_at"]
    list_filter = ["status", "priority", "due_at", "assignee"]
    search_fields = ["subject", "notes", "result", "customer__name"]
    list_select_related = ["customer", "assignee"]
    autocomplete_fields = ["customer"]
    raw_id_fields = [
        "contact_person",
        "communication",
        "order",
        "opportunity",
        "assignee",
        "completed_by",
        "created_by",
    ]
    date_hierarchy = "due_at"
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False
    actions = ["cancel_followups"]

    @admin.action(description=_("Cancel the selected open follow-ups"))
    def cancel_followups(self, request, queryset):
        cancelled = 0
        for followup in queryset.open().select_related("customer"):
            try:
                services.cancel_followup(request.user, followup, reason=_("Cancelled in the admin"))
            except (ValidationError, PermissionDenied) as error:
                reason = " ".join(getattr(error, "messages", [str(error)]))
                self.message_user(request, f"{followup}: {reason}", level="error")
            else:
                cancelled += 1
        self.message_user(request, _("Cancelled %(count)s follow-ups.") % {"count": cancelled})


@admin.register(ReminderDigest)
class ReminderDigestAdmin(BoundedFieldsAdmin, admin.ModelAdmin):
    list_display = ["user", "date", "sent_at", "overdue", "due_today"]
    list_filter = ["date"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "date"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
