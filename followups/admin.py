"""The communications and follow-ups admin for managers: adding and changing go through
followups.services, which refuse a link to another customer's record at the field (crm/service_admin.py)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from crm.admin_site import BoundedFieldsAdmin, HistoryAdmin, LargeTableAdmin
from crm.service_admin import ServiceAdmin, actor, changed_fields
from followups import services
from followups.models import Communication, FollowUp, ReminderDigest
from followups.selectors import of_customers_matching

COMMUNICATION_FIELDS = services.COMMUNICATION_FIELDS | set(Communication.LINK_FIELDS)
FOLLOWUP_FIELDS = services.FOLLOWUP_FIELDS | set(FollowUp.LINK_FIELDS)
CUSTOMER_SEARCH_HELP = _("The customer: a fragment of a name, phone number, email or contact person.")


def _filled(form, names):
    """The form's values among `names`, leaving out what the user left empty (the service's default)."""
    return {
        name: value for name, value in form.cleaned_data.items() if name in names and value not in (None, "")
    }


@admin.register(Communication)
class CommunicationAdmin(LargeTableAdmin, ServiceAdmin, HistoryAdmin):
    list_display = ["subject", "customer", "channel", "direction", "occurred_at", "staff"]
    list_filter = ["channel", "direction", "occurred_at", "staff"]
    search_fields = ["customer__name"]
    search_help_text = CUSTOMER_SEARCH_HELP
    list_select_related = ["customer", "staff"]
    autocomplete_fields = ["customer"]
    # Ids, not selects of every order and opportunity there is.
    raw_id_fields = ["contact_person", "staff", "order", "opportunity"]

    def search(self, queryset, text):
        return of_customers_matching(queryset, text)

    def get_readonly_fields(self, request, obj=None):
        # A communication stays with its customer and with who had it.
        return ["customer", "staff", "created_at", "updated_at"] if obj else ["created_at", "updated_at"]

    def create_through_service(self, request, form):
        return services.log_communication(
            actor=actor(request),
            customer=form.cleaned_data["customer"],
            staff=form.cleaned_data["staff"],
            **_filled(form, COMMUNICATION_FIELDS),
        )

    def update_through_service(self, request, obj, form):
        return services.update_communication(
            actor=actor(request), communication=obj, **changed_fields(form, COMMUNICATION_FIELDS)
        )


@admin.register(FollowUp)
class FollowUpAdmin(LargeTableAdmin, ServiceAdmin, HistoryAdmin):
    list_display = ["subject", "customer", "due_at", "assignee", "priority", "status", "completed_at"]
    list_filter = ["status", "priority", "due_at", "assignee"]
    search_fields = ["customer__name"]
    search_help_text = CUSTOMER_SEARCH_HELP
    list_select_related = ["customer", "assignee"]
    autocomplete_fields = ["customer"]
    raw_id_fields = ["contact_person", "order", "opportunity", "assignee"]
    actions = ["cancel_followups"]
    # Completing and cancelling are done on the follow-up's page or by the action below.
    always_read_only = [
        "communication",
        "status",
        "result",
        "completed_at",
        "completed_by",
        "created_by",
        "created_at",
        "updated_at",
    ]

    def search(self, queryset, text):
        return of_customers_matching(queryset, text)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.always_read_only
        if not obj.is_open:
            return [field.name for field in FollowUp._meta.fields]
        return ["customer", *self.always_read_only]

    def create_through_service(self, request, form):
        return services.schedule_followup(
            actor=actor(request), customer=form.cleaned_data["customer"], **_filled(form, FOLLOWUP_FIELDS)
        )

    def update_through_service(self, request, obj, form):
        return services.update_followup(
            actor=actor(request), followup=obj, **changed_fields(form, FOLLOWUP_FIELDS)
        )

    @admin.action(description=_("Cancel the selected open follow-ups"))
    def cancel_followups(self, request, queryset):
        cancelled = 0
        for followup in queryset.open().select_related("customer"):
            try:
                services.cancel_followup(
                    actor=request.user, followup=followup, reason=gettext("Cancelled in the admin")
                )
            except (ValidationError, PermissionDenied) as error:
                reason = " ".join(getattr(error, "messages", [str(error)]))
                self.message_user(request, f"{followup}: {reason}", level="error")
            else:
                cancelled += 1
        self.message_user(
            request,
            ngettext("Cancelled %(count)s follow-up.", "Cancelled %(count)s follow-ups.", cancelled)
            % {"count": cancelled},
        )


@admin.register(ReminderDigest)
class ReminderDigestAdmin(BoundedFieldsAdmin, admin.ModelAdmin):
    list_display = ["user", "date", "email", "overdue", "due_today"]
    list_filter = ["date"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user", "email"]
    date_hierarchy = "date"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
