"""The shapes of communications and follow-ups in the API."""

from django.contrib.auth.models import User
from rest_framework import serializers

from crm.api.fields import BoundedModelSerializer, DateField, LabelledModelSerializer, RecordField
from customers.models import ContactPerson, Customer
from followups.models import Communication, FollowUp
from opportunities.models import Opportunity
from orders.models import Order

LINKS = ["contact_person", "order", "opportunity"]


class CommunicationSerializer(LabelledModelSerializer):
    class Meta:
        model = Communication
        fields = [
            "id",
            "customer",
            *LINKS,
            "channel",
            "direction",
            "occurred_at",
            "subject",
            "content",
            "outcome",
            "staff",
            "created_at",
            "updated_at",
        ]


class FollowUpSerializer(LabelledModelSerializer):
    class Meta:
        model = FollowUp
        fields = [
            "id",
            "customer",
            *LINKS,
            "communication",
            "subject",
            "notes",
            "due_at",
            "assignee",
            "priority",
            "status",
            "result",
            "completed_at",
            "completed_by",
            "created_by",
            "created_at",
            "updated_at",
        ]


class CommunicationInput(BoundedModelSerializer):
    customer = RecordField(Customer)
    staff = RecordField(User, required=False, help_text="Managers only; default: you.")
    contact_person = RecordField(ContactPerson, required=False, allow_null=True)
    order = RecordField(Order, required=False, allow_null=True)
    opportunity = RecordField(Opportunity, required=False, allow_null=True)

    class Meta:
        model = Communication
        fields = [
            "customer",
            "staff",
            *LINKS,
            "channel",
            "direction",
            "occurred_at",
            "subject",
            "content",
            "outcome",
        ]


class CommunicationUpdateInput(BoundedModelSerializer):
    contact_person = RecordField(ContactPerson, required=False, allow_null=True)
    order = RecordField(Order, required=False, allow_null=True)
    opportunity = RecordField(Opportunity, required=False, allow_null=True)

    class Meta:
        model = Communication
        fields = [*LINKS, "channel", "direction", "occurred_at", "subject", "content", "outcome"]


class FollowUpInput(BoundedModelSerializer):
    customer = RecordField(Customer)
    assignee = RecordField(User, required=False, help_text="Default: you.")
    contact_person = RecordField(ContactPerson, required=False, allow_null=True)
    order = RecordField(Order, required=False, allow_null=True)
    opportunity = RecordField(Opportunity, required=False, allow_null=True)

    class Meta:
        model = FollowUp
        fields = ["customer", "assignee", *LINKS, "subject", "notes", "due_at", "priority"]


class FollowUpUpdateInput(BoundedModelSerializer):
    assignee = RecordField(User, required=False)
    contact_person = RecordField(ContactPerson, required=False, allow_null=True)
    order = RecordField(Order, required=False, allow_null=True)
    opportunity = RecordField(Opportunity, required=False, allow_null=True)

    class Meta:
        model = FollowUp
        fields = ["assignee", *LINKS, "subject", "notes", "due_at", "priority"]


class CompleteInput(serializers.Serializer):
    result = serializers.CharField(max_length=10000, help_text="What came of it.")


class PostponeInput(serializers.Serializer):
    day = DateField(help_text="The new day; the time of day stays.")


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=10000, required=False, allow_blank=True)
