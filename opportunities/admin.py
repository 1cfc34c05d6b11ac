from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.fields import BoundedFieldsAdmin
from opportunities import services
from opportunities.models import Opportunity, OpportunityEvent, OpportunityLine, ScoringWeights, Stage


@admin.register(Stage)
class StageAdmin(BoundedFieldsAdmin, admin.ModelAdmin):
    list_display = ["code", "position", "name_en", "name_zh_hans", "probability", "kind"]
    list_editable = ["position", "name_en", "name_zh_hans", "probability"]
    ordering = ["position", "id"]

    def get_readonly_fields(self, request, obj=None):
        # Opportunities in a stage rely on its kind (open, won, lost) and integrations on its code.
        in_use = obj is not None and (
            obj.opportunities.exists() or OpportunityEvent.objects.filter(to_stage=obj).exists()
        )
        return ["code", "kind"] if in_use else []


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
    fields = ["at", "from_stage", "to_stage", "actor", "note"]
    ordering = ["at", "id"]


@admin.register(Opportunity)
class OpportunityAdmin(BoundedFieldsAdmin, SimpleHistoryAdmin):
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
    list_select_related = ["customer", "owner", "stage"]
    raw_id_fields = ["owner"]
    date_hierarchy = "expected_close_date"
    show_full_result_count = False
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

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.stage.is_open:
            return [field.name for field in Opportunity._meta.fields]
        return self.readonly_fields

    def view_on_site(self, obj):
        return obj.get_absolute_url()

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name] for name in form.changed_data if name in services.OPPORTUNITY_FIELDS
        }
        owner = form.cleaned_data.get("owner") if "owner" in form.changed_data else None
        services.update_opportunity(request.user, obj, owner=owner, **fields)


@admin.register(ScoringWeights)
class ScoringWeightsAdmin(BoundedFieldsAdmin, SimpleHistoryAdmin):
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

    def save_model(self, request, obj, form, change):
        services.update_scoring_weights(request.user, **form.cleaned_data)
