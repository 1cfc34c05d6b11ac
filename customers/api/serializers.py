"""The shapes of customers, contact methods, contact persons and needs in the API."""

from django.contrib.auth.models import User
from rest_framework import serializers

from crm.api.fields import BoundedModelSerializer, LabelledModelSerializer, RecordField, many
from customers.models import ContactMethod, ContactPerson, Customer, Need, Tag

MAX_CONTACT_METHODS = 50


class ContactMethodSerializer(LabelledModelSerializer):
    class Meta:
        model = ContactMethod
        fields = ["id", "customer", "type", "value", "note", "is_primary"]


class ContactPersonSerializer(LabelledModelSerializer):
    class Meta:
        model = ContactPerson
        fields = ["id", "customer", "name", "title", "phone", "email"]


class NeedSerializer(LabelledModelSerializer):
    class Meta:
        model = Need
        fields = [
            "id",
            "customer",
            "type",
            "description",
            "priority",
            "status",
            "raised_at",
            "resolved_at",
            "raised_by",
            "created_at",
            "updated_at",
        ]


CUSTOMER_FIELDS = [
    "external_id",
    "name",
    "kind",
    "lifecycle_stage",
    "source",
    "industry",
    "size",
    "region",
    "address",
    "notes",
    "gender",
    "birth_date",
]


class CustomerSerializer(LabelledModelSerializer):
    tags = serializers.SlugRelatedField[Tag](slug_field="name", many=True, read_only=True)
    contact_methods = ContactMethodSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = ["id", "owner", *CUSTOMER_FIELDS, "tags", "contact_methods", "created_at", "updated_at"]


# Input


class ContactMethodInput(BoundedModelSerializer):
    class Meta:
        model = ContactMethod
        fields = ["type", "value", "note", "is_primary"]


class CustomerInput(BoundedModelSerializer):
    owner = RecordField(User, required=False, help_text="Managers only; default: you.")
    tags = RecordField(Tag, many=True, required=False)
    contact_methods = many(ContactMethodInput(), max_length=MAX_CONTACT_METHODS, required=False)

    class Meta:
        model = Customer
        fields = ["owner", *CUSTOMER_FIELDS, "tags", "contact_methods"]


class CustomerUpdateInput(BoundedModelSerializer):
    tags = RecordField(Tag, many=True, required=False, help_text="Replace the tags.")

    class Meta:
        model = Customer
        fields = [*CUSTOMER_FIELDS, "tags"]


class ContactPersonInput(BoundedModelSerializer):
    class Meta:
        model = ContactPerson
        fields = ["name", "title", "phone", "email"]


class NeedInput(BoundedModelSerializer):
    class Meta:
        model = Need
        fields = ["type", "description", "priority", "raised_at"]


class NeedUpdateInput(BoundedModelSerializer):
    class Meta:
        model = Need
        fields = ["type", "description", "priority", "status"]
