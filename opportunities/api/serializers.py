"""The shapes of stages, opportunities, their lines and events in the API."""

from django.contrib.auth.models import User
from rest_framework import serializers

from crm.api.fields import (
    BoundedModelSerializer,
    IntegerField,
    LabelledModelSerializer,
    RecordField,
    many,
    money,
)
from customers.models import Customer
from opportunities.models import Opportunity, OpportunityEvent, OpportunityLine, Stage
from opportunities.services import BANT_FIELDS, SCORE_FIELDS
from orders.models import Product

MAX_LINES = 200


class StageSerializer(LabelledModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "code", "name_en", "name_zh_hans", "position", "probability", "kind"]


class OpportunityLineSerializer(LabelledModelSerializer):
    class Meta:
        model = OpportunityLine
        fields = ["id", "position", "product", "quantity", "unit_price"]


class OpportunityEventSerializer(LabelledModelSerializer):
    summary = serializers.CharField(read_only=True, help_text="What happened, in the request's language.")

    class Meta:
        model = OpportunityEvent
        fields = ["id", "type", "at", "actor", "from_stage", "to_stage", "parameters", "note", "summary"]


EDITABLE = ["title", "amount", "probability", "expected_close_date", "source", "description"]
SCORES_AND_BANT = sorted(SCORE_FIELDS | BANT_FIELDS)


class OpportunitySerializer(LabelledModelSerializer):
    lines = OpportunityLineSerializer(many=True, read_only=True)

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "customer",
            "owner",
            "stage",
            "stage_entered_at",
            *EDITABLE,
            *SCORES_AND_BANT,
            "value_score",
            "won_at",
            "lost_at",
            "lost_reason",
            "order",
            "external_id",
            "lines",
            "created_at",
            "updated_at",
        ]


# Input


class OpportunityLineInput(serializers.Serializer):
    product = RecordField(Product)
    quantity = IntegerField(min_value=1)
    unit_price = money(not_negative=True, required=False, help_text="Default: the product's.")


class OpportunityInput(BoundedModelSerializer):
    customer = RecordField(Customer)
    owner = RecordField(User, required=False, help_text="Managers only; default: the customer's owner.")
    stage = RecordField(Stage, required=False, help_text="An open stage; default: the first.")
    lines = many(OpportunityLineInput(), max_length=MAX_LINES, required=False)

    class Meta:
        model = Opportunity
        fields = ["customer", "owner", "stage", *EDITABLE, *SCORES_AND_BANT, "lines"]


class OpportunityUpdateInput(BoundedModelSerializer):
    owner = RecordField(User, required=False, help_text="Managers only.")
    lines = many(OpportunityLineInput(), max_length=MAX_LINES, required=False, help_text="Replace the lines.")

    class Meta:
        model = Opportunity
        fields = ["owner", *EDITABLE, *SCORES_AND_BANT, "lines"]


class StageChangeInput(serializers.Serializer):
    from_stage = RecordField(
        Stage, required=False, help_text="The stage you saw: when it has moved since, nothing is done (409)."
    )


class MoveInput(StageChangeInput):
    stage = RecordField(Stage)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class WinInput(StageChangeInput):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class LoseInput(StageChangeInput):
    reason = serializers.CharField(max_length=300)


class ReopenInput(serializers.Serializer):
    stage = RecordField(Stage, required=False, help_text="An open stage; default: the one it left.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
