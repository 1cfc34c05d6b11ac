from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.fields import BoundedFieldsAdmin
from customers import services
from customers.models import ContactMethod, ContactPerson, Customer, Need, Tag


class ContactMethodInline(BoundedFieldsAdmin, admin.TabularInline):
    model = ContactMethod
    extra = 0
    fields = ["type", "value", "note", "is_primary"]


class ContactPersonInline(BoundedFieldsAdmin, admin.TabularInline):
    model = ContactPerson
    extra = 0


class NeedInline(BoundedFieldsAdmin, admin.TabularInline):
    model = Need
    extra = 0
    fields = ["type", "priority", "status", "description", "raised_at", "resolved_at"]
    readonly_fields = ["raised_at", "resolved_at"]
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(BoundedFieldsAdmin, SimpleHistoryAdmin):
    list_display = ["name", "kind", "owner", "lifecycle_stage", "source", "industry", "region", "created_at"]
    list_filter = ["lifecycle_stage", "kind", "source", "industry", "size", "tags", "owner", "created_at"]
    search_fields = ["name", "contact_methods__value", "contact_persons__name", "region"]
    list_select_related = ["owner"]
    autocomplete_fields = ["tags"]
    raw_id_fields = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ContactMethodInline, ContactPersonInline, NeedInline]
    show_full_result_count = False
    actions = ["merge_into_first"]

    @admin.action(description=_("Merge the selected customers into the oldest one"))
    def merge_into_first(self, request, queryset):
        survivor, *others = queryset.order_by("created_at", "pk")
        try:
            for other in others:
                services.merge_customers(request.user, survivor, other)
        except (ValidationError, PermissionDenied) as error:
            self.message_user(request, str(error), level="error")
            return
        self.message_user(
            request,
            _("Merged %(count)s customers into “%(name)s”.")
            % {
                "count": len(others),
                "name": survivor.name,
            },
        )


@admin.register(Need)
class NeedAdmin(BoundedFieldsAdmin, SimpleHistoryAdmin):
    list_display = ["customer", "type", "priority", "status", "raised_at", "resolved_at"]
    list_filter = ["status", "priority", "type", "raised_at"]
    search_fields = ["description", "customer__name"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer", "raised_by"]
    date_hierarchy = "raised_at"


@admin.register(Tag)
class TagAdmin(BoundedFieldsAdmin, admin.ModelAdmin):
    search_fields = ["name"]
