from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Person
from crm.fields import IdField, ModelChoiceField, ModelMultipleChoiceField
from crm.forms import ModelForm, form_field, formset_class
from customers.models import ContactMethod, ContactPerson, Customer, Need, Tag
from customers.normalise import normalise_contact_value, normalise_email, normalise_phone

# The event (HX-Trigger) the customer page's contact person section sends when people change: the
# pickers of contact persons in the page's other forms reload their options.
PERSONS_CHANGED_EVENT = "contact-persons-changed"


def active_users() -> QuerySet[Person]:
    """The people who may be picked as owner or assignee: active users, by full name."""
    return Person.objects.filter(is_active=True)


class CustomerForm(ModelForm):
    save_anyway = forms.BooleanField(
        required=False, label=_("I checked the likely duplicates above: save this customer anyway")
    )

    class Meta:
        model = Customer
        fields = [
            "name",
            "kind",
            "owner",
            "lifecycle_stage",
            "source",
            "industry",
            "size",
            "region",
            "address",
            "tax_number",
            "gender",
            "birth_date",
            "tags",
            "notes",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "tags": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, user_is_manager=False, **kwargs):
        super().__init__(*args, **kwargs)
        form_field(self, "tags", forms.ModelMultipleChoiceField).queryset = Tag.objects.order_by("name")
        if user_is_manager:
            form_field(self, "owner", forms.ModelChoiceField).queryset = active_users()
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Leave empty to own it yourself.")
        else:
            del self.fields["owner"]

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError(_("Enter the customer's name."), code="required")
        return name

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("kind") != Customer.Kind.PERSON:
            for field in ("gender", "birth_date"):
                if cleaned.get(field):
                    self.add_error(field, _("Only people have a gender and a birth date."))
        return cleaned

    def service_fields(self):
        """The cleaned data in the shape the customer services take."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("save_anyway", "owner")}
        if self.cleaned_data.get("owner"):
            data["owner"] = self.cleaned_data["owner"]
        return data


class OwnIdsMixin:
    """Several forms share the customer page: each gets its own element ids, so labels point at its inputs."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class ContactMethodForm(OwnIdsMixin, ModelForm):
    id_prefix = "method"

    class Meta:
        model = ContactMethod
        fields = ["type", "value", "note", "is_primary"]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("type") and "value" in cleaned:
            try:
                cleaned["value"] = normalise_contact_value(cleaned["type"], cleaned["value"])
            except ValidationError as error:
                self.add_error("value", error)
        return cleaned


STARTING_METHOD_TYPES = [ContactMethod.Type.MOBILE, ContactMethod.Type.EMAIL, ContactMethod.Type.WECHAT]


class BaseContactMethodFormSet(forms.BaseFormSet):
    """The create form's contact rows: a mobile, an email and a WeChat ID to start with."""

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if index is not None and index < len(STARTING_METHOD_TYPES):
            kwargs["initial"] = {"type": STARTING_METHOD_TYPES[index]}
        return kwargs

    def clean(self):
        seen = set()
        for form in self.forms:
            if not form.has_changed() or not form.is_valid():
                continue
            key = (form.cleaned_data["type"], form.cleaned_data["value"])
            if key in seen:
                form.add_error("value", _("This contact method is entered twice."))
            seen.add(key)

    def methods(self):
        return [
            {k: form.cleaned_data[k] for k in ("type", "value", "note", "is_primary")}
            for form in self.forms
            if form.has_changed() and form.cleaned_data.get("value")
        ]


class NewContactMethodForm(ContactMethodForm):
    """A row of the create form: blank rows are ignored."""

    use_required_attribute = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].required = False

    def has_changed(self):
        return bool((self.data.get(self.add_prefix("value")) or "").strip())


ContactMethodFormSet = formset_class(
    BaseContactMethodFormSet, NewContactMethodForm, extra=len(STARTING_METHOD_TYPES), max_num=10
)


class ContactPersonForm(OwnIdsMixin, ModelForm):
    id_prefix = "person"

    class Meta:
        model = ContactPerson
        fields = ["name", "title", "phone", "email"]

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        return normalise_phone(phone) if phone else ""

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        return normalise_email(email) if email else ""


class NeedForm(OwnIdsMixin, ModelForm):
    id_prefix = "need"

    class Meta:
        model = Need
        fields = ["type", "priority", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def clean_description(self):
        description = self.cleaned_data["description"].strip()
        if not description:
            raise ValidationError(_("Describe the need."), code="required")
        return description


class NeedStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Need.Status.choices)


class MergeForm(OwnIdsMixin, forms.Form):
    id_prefix = "merge"

    other = IdField(
        label=_("Customer number to merge into this one"),
        help_text=_("The other customer's number (shown as # on its page). It will be removed."),
    )


class BulkActionForm(forms.Form):
    REASSIGN, ADD_TAG = "reassign", "add_tag"
    action = forms.ChoiceField(choices=[(REASSIGN, _("Reassign owner")), (ADD_TAG, _("Add tag"))])
    customers = ModelMultipleChoiceField(queryset=Customer.objects.none(), label=_("Customers"))
    owner = ModelChoiceField(queryset=get_user_model().objects.none(), required=False, label=_("New owner"))
    tag = forms.CharField(max_length=50, required=False, label=_("Tag"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        form_field(self, "owner", forms.ModelChoiceField).queryset = active_users()
        form_field(self, "customers", forms.ModelMultipleChoiceField).queryset = Customer.objects.visible_to(
            user
        )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("action") == self.REASSIGN and not cleaned.get("owner"):
            self.add_error("owner", _("Choose the new owner."))
        if cleaned.get("action") == self.ADD_TAG and not (cleaned.get("tag") or "").strip():
            self.add_error("tag", _("Enter a tag."))
        return cleaned
