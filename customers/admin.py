"""The customer admin for managers: every save goes through customers.services (crm/service_admin.py),
so what the pages normalise and refuse, the admin normalises and refuses too, at the field."""

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.admin_site import HistoryAdmin, LargeTableAdmin
from crm.service_admin import ServiceAdmin, ServiceInline, actor, changed_fields
from customers import services
from customers.models import ContactMethod, ContactPerson, Customer, Need, Tag
from customers.selectors import search_customers

METHOD_FIELDS = ("type", "value", "note", "is_primary")
PERSON_FIELDS = ("name", "title", "phone", "email")
NEED_FIELDS = {"type", "description", "priority", "status"}


def _values(form, names):
    return {name: form.cleaned_data[name] for name in names}


class ContactMethodInline(ServiceInline):
    model = ContactMethod
    fields = METHOD_FIELDS

    def create_through_service(self, request, parent, form):
        return services.add_contact_method(
            actor=actor(request), customer=parent, **_values(form, METHOD_FIELDS)
        )

    def update_through_service(self, request, obj, form):
        return services.update_contact_method(
            actor=actor(request), method=obj, **_values(form, METHOD_FIELDS)
        )

    def delete_through_service(self, request, obj):
        services.remove_contact_method(actor=actor(request), method=obj)


class ContactPersonInline(ServiceInline):
    model = ContactPerson
    fields = PERSON_FIELDS

    def create_through_service(self, request, parent, form):
        return services.add_contact_person(
            actor=actor(request), customer=parent, **_values(form, PERSON_FIELDS)
        )

    def update_through_service(self, request, obj, form):
        return services.update_contact_person(
            actor=actor(request), person=obj, **_values(form, PERSON_FIELDS)
        )

    def delete_through_service(self, request, obj):
        services.remove_contact_person(actor=actor(request), person=obj)


def _raise_need(request, customer, form):
    """A need raised in the admin, in the status chosen there."""
    need = services.raise_need(
        actor=actor(request),
        customer=customer,
        **_values(form, ["type", "description", "priority"]),
        **({"raised_at": form.cleaned_data["raised_at"]} if form.cleaned_data.get("raised_at") else {}),
    )
    if form.cleaned_data["status"] != need.status:
        need = services.update_need(actor=actor(request), need=need, status=form.cleaned_data["status"])
    return need


class NeedInline(ServiceInline):
    model = Need
    fields = ["type", "priority", "status", "description", "raised_at", "resolved_at"]
    readonly_fields = ["raised_at", "resolved_at"]
    show_change_link = True
    can_delete = False  # a need is met or dropped, never deleted

    def create_through_service(self, request, parent, form):
        return _raise_need(request, parent, form)

    def update_through_service(self, request, obj, form):
        return services.update_need(actor=actor(request), need=obj, **changed_fields(form, NEED_FIELDS))


@admin.register(Customer)
class CustomerAdmin(LargeTableAdmin, ServiceAdmin, HistoryAdmin):
    list_display = ["name", "kind", "owner", "lifecycle_stage", "source", "industry", "region", "created_at"]
    list_filter = ["lifecycle_stage", "kind", "source", "industry", "size", "tags", "owner", "created_at"]
    search_fields = ["name"]
    search_help_text = _("A fragment of a name, phone number, email or contact person, as in the list.")
    list_select_related = ["owner"]
    autocomplete_fields = ["tags"]
    raw_id_fields = ["owner"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ContactMethodInline, ContactPersonInline, NeedInline]
    actions = ["merge_into_first"]

    def search(self, queryset, text):
        return search_customers(queryset, text, limit=settings.SEARCH_MATCH_LIMIT)

    def create_through_service(self, request, form):
        return services.create_customer(
            actor=actor(request),
            owner=form.cleaned_data["owner"],
            tags=form.cleaned_data["tags"],
            **_values(form, services.CUSTOMER_FIELDS & set(form.cleaned_data)),
        )

    def update_through_service(self, request, obj, form):
        tags = form.cleaned_data["tags"] if "tags" in form.changed_data else None
        customer = services.update_customer(
            actor=actor(request), customer=obj, tags=tags, **changed_fields(form, services.CUSTOMER_FIELDS)
        )
        if "owner" in form.changed_data:
            services.reassign_owner(
                actor=actor(request), customers=[customer], new_owner=form.cleaned_data["owner"]
            )
        return customer

    @admin.action(description=_("Merge the selected customers into the oldest one"))
    def merge_into_first(self, request, queryset):
        survivor, *others = queryset.order_by("created_at", "pk")
        try:
            for other in others:
                services.merge_customers(actor=request.user, survivor=survivor, merged=other)
        except (ValidationError, PermissionDenied) as error:
            self.message_user(request, str(error), level="error")
            return
        self.message_user(
            request,
            ngettext(
                "Merged %(count)s customer into “%(name)s”.",
                "Merged %(count)s customers into “%(name)s”.",
                len(others),
            )
            % {
                "count": len(others),
                "name": survivor.name,
            },
        )


@admin.register(Need)
class NeedAdmin(ServiceAdmin, HistoryAdmin):
    list_display = ["customer", "type", "priority", "status", "raised_at", "resolved_at"]
    list_filter = ["status", "priority", "type", "raised_at"]
    search_fields = ["description", "customer__name"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    date_hierarchy = "raised_at"
    fields = [
        "customer",
        "type",
        "priority",
        "status",
        "description",
        "raised_at",
        "resolved_at",
        "raised_by",
    ]

    def get_readonly_fields(self, request, obj=None):
        # The customer and the time raised are the need's facts; the service keeps resolved_at.
        return ["customer", "raised_at", "resolved_at", "raised_by"] if obj else ["resolved_at", "raised_by"]

    def has_delete_permission(self, request, obj=None):
        return False  # a need is met or dropped, never deleted

    def create_through_service(self, request, form):
        return _raise_need(request, form.cleaned_data["customer"], form)

    def update_through_service(self, request, obj, form):
        return services.update_need(actor=actor(request), need=obj, **changed_fields(form, NEED_FIELDS))


@admin.register(Tag)
class TagAdmin(ServiceAdmin):
    search_fields = ["name"]

    def create_through_service(self, request, form):
        return services.create_tag(actor=actor(request), name=form.cleaned_data["name"])

    def update_through_service(self, request, obj, form):
        return services.rename_tag(actor=actor(request), tag=obj, name=form.cleaned_data["name"])
