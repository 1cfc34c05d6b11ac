"""The pipeline admin for managers: stages, opportunities' details and the scoring weights, each saved
through opportunities.services with its refusals at the fields (crm/service_admin.py)."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.admin_site import BoundedFieldsAdmin, HistoryAdmin, LargeTableAdmin
from crm.service_admin import ServiceAdmin, actor, changed_fields
from opportunities import services
from opportunities.models import Opportunity, OpportunityEvent, OpportunityLine, ScoringWeights, Stage
from opportunities.selectors import search_opportunities


@admin.register(Stage)
class StageAdmin(ServiceAdmin):
    list_display = ["code", "position", "name_en", "name_zh_hans", "probability", "kind"]
    list_editable = ["position", "name_en", "name_zh_hans", "probability"]
    ordering = ["position", "id"]

    def get_readonly_fields(self, request, obj=None):
        return sorted(services.FIXED_ONCE_USED) if obj is not None and services.stage_in_use(obj) else []

    def create_through_service(self, request, form):
        fields = {name: value for name, value in form.cleaned_data.items() if name in services.STAGE_FIELDS}
        return services.create_stage(actor=actor(request), **fields)

    def update_through_service(self, request, obj, form):
        return services.update_stage(
            actor=actor(request), stage=obj, **changed_fields(form, services.STAGE_FIELDS)
        )


class ReadOnlyInline(BoundedFieldsAdmin, admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LineInline(ReadOnlyInline):
    model = OpportunityLine
    fields = ["position", "product", "quantity", "unit_price"]


class EventInline(ReadOnlyInline):
    model = OpportunityEvent
    fields = ["at", "what_happened", "actor", "note"]
    readonly_fields = ["what_happened"]
    ordering = ["at", "id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OpportunityEvent]:
        return super().get_queryset(request).select_related("actor", "from_stage", "to_stage")

    @admin.display(description=_("What happened"))
    def what_happened(self, event: OpportunityEvent) -> str:
        return event.summary


@admin.register(Opportunity)
class OpportunityAdmin(LargeTableAdmin, ServiceAdmin, HistoryAdmin):
    """Details can be corrected here; stage changes, winning and the product lines happen on the
    opportunity's page, where they record their events and make the order."""

    list_display = [
        "title",
        "customer",
        "owner",
        "stage",
        "amount",
        "probability",
        "value_score",
        "expected_close_date",
    ]
    list_filter = ["stage", "owner", "source", "expected_close_date"]
    search_fields = ["title", "customer__name"]
    search_help_text = _("A fragment of the title or of the customer's name, as in the opportunity list.")
    list_select_related = ["customer", "owner", "stage"]
    raw_id_fields = ["owner"]
    inlines = [LineInline, EventInline]
    readonly_fields = [
        "customer",
        "stage",
        "stage_entered_at",
        "value_score",
        "won_at",
        "lost_at",
        "lost_reason",
        "order",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False

    def search(self, queryset, text):
        return search_opportunities(queryset, text)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.stage.is_open:
            return [field.name for field in Opportunity._meta.fields]
        return self.readonly_fields

    def view_on_site(self, obj):
        return obj.get_absolute_url()

    def update_through_service(self, request, obj, form):
        owner = form.cleaned_data["owner"] if "owner" in form.changed_data else None
        return services.update_opportunity(
            actor=actor(request),
            opportunity=obj,
            owner=owner,
            **changed_fields(form, services.OPPORTUNITY_FIELDS),
        )


@admin.register(ScoringWeights)
class ScoringWeightsAdmin(ServiceAdmin, HistoryAdmin):
    """One row; the model's constraints refuse weights outside 0–1 or not adding up to 1."""

    fieldsets = [
        (
            None,
            {
                "fields": list(Opportunity.SCORE_FACTORS),
                "description": _(
                    "Value score V = w_s·S + w_c·C + w_l·L + w_r·R. The four weights must add up to "
                    "exactly 1; saving recalculates every opportunity's value score."
                ),
            },
        )
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        weights = ScoringWeights.current()
        return redirect(reverse("admin:opportunities_scoringweights_change", args=[weights.pk]))

    def update_through_service(self, request, obj, form):
        return services.update_scoring_weights(actor=actor(request), **form.cleaned_data)
