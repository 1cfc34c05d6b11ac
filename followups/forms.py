from datetime import datetime, time, timedelta
from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.names import picker_label
from crm.fields import DateField, DateTimeField, IntegerField, ModelChoiceField, parse_id
from crm.forms import ModelForm, form_field
from customers.forms import PERSONS_CHANGED_EVENT, OwnIdsMixin, active_users
from followups import services
from followups.models import Communication, FollowUp

# A new follow-up is due the next morning unless the user says otherwise.
DEFAULT_DUE_TIME = time(9, 0)


def next_morning():
    return timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=1), DEFAULT_DUE_TIME))


# A link offers at most this many of the customer's records (newest first), and the one already chosen.
LINK_CHOICES_LIMIT = 50
NOT_THE_CUSTOMERS = _("Choose one of this customer's records.")


class OrderLinkField(ModelChoiceField):
    ordering = ("-created_at", "-id")

    def label_from_instance(self, order):
        return f"{order.number} · {order.get_status_display()}"


class OpportunityLinkField(ModelChoiceField):
    ordering = ("-created_at", "-id")

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset.select_related("stage"), **kwargs)

    def label_from_instance(self, opportunity):
        return f"{opportunity.title} · {opportunity.stage.name}"


LINK_FIELD_CLASSES = {"order": OrderLinkField, "opportunity": OpportunityLinkField}


class CustomerRecords:
    """The records of a customer that the links of a page's forms offer, each kind read once for
    all the forms (the customer page shows two), so the page's queries do not grow with its forms."""

    def __init__(self, customer, user):
        self.customer, self.user = customer, user
        self._read = {}
        self._choices = {}

    def share_choices(self, key, field):
        """A select whose options are the same in every form of the page (the assignee): read once."""
        if key not in self._choices:
            self._choices[key] = list(iter(field.choices))  # iter(): list() would count them first
        field.choices = self._choices[key]

    def queryset(self, field):
        """What the link may point at: the customer's records that the user sees."""
        records = field.queryset.filter(customer=self.customer)
        return records.visible_to(self.user) if hasattr(records, "visible_to") else records

    def offered(self, name, field, selected):
        """The records the link's select lists: the newest few (or the model's order), and the one
        `selected` (a pk) if it is the customer's but not among them."""
        queryset = field.queryset
        if name not in self._read:
            ordering = getattr(field, "ordering", None)
            ordered = queryset.order_by(*ordering) if ordering else queryset
            self._read[name] = list(ordered[:LINK_CHOICES_LIMIT])
        records = self._read[name]
        selected_pk = parse_id(selected)
        if selected_pk is not None and selected_pk not in {record.pk for record in records}:
            records = [*records, *queryset.filter(pk=selected_pk)]
        return records


class CustomerRecordsMixin(forms.ModelForm):
    """The optional links of the model (its LINK_FIELDS) offer only the customer's own records, those
    the user sees; `records` (a CustomerRecords) shares what was read with the page's other forms.

    Each link's choices are read once, so a template can ask whether there are any (a form shows
    no contact person field for a customer without contact persons).
    """

    def __init__(self, *args, customer, user, records=None, **kwargs):
        super().__init__(*args, **kwargs)
        records = records or CustomerRecords(customer, user)
        self.records = records
        for name in self.link_names():
            field = form_field(self, name, forms.ModelChoiceField)
            field.queryset = records.queryset(field)
            field.error_messages["invalid_choice"] = NOT_THE_CUSTOMERS
            offered = records.offered(name, field, self._chosen_pk(name))
            choices = [(record.pk, field.label_from_instance(record)) for record in offered]
            field.choices = [("", field.empty_label), *choices] if choices else []
        if "contact_person" in self.fields:
            self._refresh_on_new_people(customer)

    def _refresh_on_new_people(self, customer):
        """The contact person select reloads its options when one is added on the page (htmx)."""
        self.fields["contact_person"].widget.attrs.update(
            {
                "hx-get": reverse("followups:person_options", args=[customer.pk]),
                "hx-trigger": f"{PERSONS_CHANGED_EVENT} from:body",
                "hx-target": "this",
                "hx-swap": "innerHTML",
                "data-person-picker": "",
            }
        )

    def link_names(self):
        model = cast(type[Communication | FollowUp], self._meta.model)
        return [name for name in model.LINK_FIELDS if name in self.fields]

    def _chosen_pk(self, name):
        """The record the link holds: posted, or given as the initial value (e.g. from the page's address)."""
        value = self.data.get(self.add_prefix(name)) if self.is_bound else self.initial.get(name)
        return str(getattr(value, "pk", value) or "")

    def links(self):
        return {name: self.cleaned_data.get(name) for name in self.link_names()}


class AssigneeField(ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(queryset=active_users(), **kwargs)

    def label_from_instance(self, user):
        return picker_label(user)


def read_choices_once(field):
    """A select's options as a list: the widget asks for them more than once, each time a query."""
    field.choices = list(iter(field.choices))  # iter(): list() would count them first, another query


def last_channel(user):
    """The channel of the user's latest logged conversation (the form starts with it), if any."""
    return (
        Communication.objects.filter(staff=user)
        .order_by("-occurred_at", "-id")
        .values_list("channel", flat=True)
        .first()
    )


def this_minute():
    return timezone.now().replace(second=0, microsecond=0)


class CommunicationForm(OwnIdsMixin, CustomerRecordsMixin, ModelForm):
    """A conversation to log, and optionally the follow-up it calls for."""

    id_prefix = "communication"

    schedule_followup = forms.BooleanField(required=False, label=_("Schedule a follow-up"))
    followup_subject = forms.CharField(
        required=False,
        max_length=FollowUp._meta.get_field("subject").max_length,
        label=_("Follow-up"),
        help_text=_("What is to be done next; leave empty to reuse the subject above."),
    )
    followup_due_at = DateTimeField(required=False, label=_("Due"))
    followup_assignee = AssigneeField(required=False, label=_("Assignee"), empty_label=None)
    followup_priority = forms.ChoiceField(
        choices=FollowUp.Priority.choices,
        initial=FollowUp.Priority.NORMAL,
        label=_("Priority"),
        required=False,
    )

    class Meta:
        model = Communication
        fields = [
            "channel",
            "direction",
            "occurred_at",
            "contact_person",
            "subject",
            "content",
            "outcome",
            "order",
            "opportunity",
        ]
        widgets = {"content": forms.Textarea(attrs={"rows": 3})}
        labels = {"occurred_at": _("When")}
        field_classes = LINK_FIELD_CLASSES

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        # "When" shows the minute the page was loaded; left as it is, it means "when I press Log"
        # (the hidden initial tells whether the user changed it).
        self.fields["occurred_at"].initial = this_minute
        self.fields["occurred_at"].show_hidden_initial = True
        if not self.is_bound and "channel" not in self.initial:
            self.fields["channel"].initial = last_channel(user) or self.fields["channel"].initial
        self.fields["followup_due_at"].initial = next_morning
        self.fields["followup_assignee"].initial = user.pk
        self.records.share_choices("assignee", self.fields["followup_assignee"])
        # The follow-up's fields fold out when the box is ticked.
        self.followup_part_id = str(self.auto_id) % "followup-part"
        self.fields["schedule_followup"].widget.attrs.update(
            {"data-bs-toggle": "collapse", "data-bs-target": f"#{self.followup_part_id}"}
        )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if "occurred_at" in cleaned and "occurred_at" not in self.changed_data:
            cleaned["occurred_at"] = timezone.now()
        if cleaned.get("schedule_followup") and "followup_due_at" in cleaned:
            for name, messages in services.due_errors(cleaned["followup_due_at"]).items():
                self.add_error(f"followup_{name}", messages)
        return cleaned

    def service_fields(self):
        """The cleaned data in the shape services.log_communication takes."""
        data = self.cleaned_data
        fields = {name: data[name] for name in ("channel", "direction", "occurred_at", "subject", "content")}
        fields.update(outcome=data["outcome"], **self.links())
        if data["schedule_followup"]:
            fields["followup"] = {
                "subject": data["followup_subject"],
                "due_at": data["followup_due_at"],
                "assignee": data["followup_assignee"],
                "priority": data["followup_priority"] or FollowUp.Priority.NORMAL,
            }
        return fields


class FollowUpForm(OwnIdsMixin, CustomerRecordsMixin, ModelForm):
    id_prefix = "followup"

    assignee = AssigneeField(label=_("Assignee"), empty_label=None)

    class Meta:
        model = FollowUp
        fields = [
            "subject",
            "due_at",
            "assignee",
            "priority",
            "contact_person",
            "order",
            "opportunity",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
        field_classes = LINK_FIELD_CLASSES

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["due_at"].initial = next_morning
        self.fields["assignee"].initial = user.pk
        self.records.share_choices("assignee", self.fields["assignee"])

    def clean_due_at(self):
        due_at = self.cleaned_data["due_at"]
        for messages in services.due_errors(due_at).values():
            raise ValidationError(messages)
        return due_at

    def service_fields(self):
        data = self.cleaned_data
        return {
            name: data[name] for name in ("subject", "due_at", "assignee", "priority", "notes")
        } | self.links()


class CompleteForm(forms.Form):
    result = forms.CharField(
        label=_("Result"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write down the result.")},
    )


class PostponeForm(forms.Form):
    """Postpone to tomorrow, to Monday next week, or to a day the user picks."""

    TOMORROW, NEXT_WEEK, DAY = "tomorrow", "next_week", "day"
    to = forms.ChoiceField(
        choices=[(TOMORROW, _("Tomorrow")), (NEXT_WEEK, _("Next week")), (DAY, _("Pick a day"))]
    )
    day = DateField(required=False, label=_("Day"))

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("to") == self.DAY and not cleaned.get("day"):
            self.add_error("day", ValidationError(_("Pick a day."), code="required"))
        return cleaned

    def target_day(self):
        if self.cleaned_data["to"] == self.DAY:
            return self.cleaned_data["day"]
        return postpone_days()[self.cleaned_data["to"]]


def postpone_days():
    """The days the quick postpone buttons move a follow-up to: tomorrow, and Monday next week."""
    today = timezone.localdate()
    return {
        PostponeForm.TOMORROW: today + timedelta(days=1),
        PostponeForm.NEXT_WEEK: today + timedelta(days=7 - today.weekday()),
    }


class WeekForm(forms.Form):
    """The calendar's week, by any day of it; today's week when none (or no valid day) is given."""

    week = DateField(required=False, label=_("Week"))

    def day(self):
        return (self.is_valid() and self.cleaned_data["week"]) or timezone.localdate()


class MoreRowsForm(forms.Form):
    """After which row a part of My day goes on ("Show more"): the due time and id of the last row
    shown (rows done or moved meanwhile shift nothing); from the first when not (validly) given."""

    after_due = DateTimeField(required=False)
    after_id = IntegerField(required=False, min_value=0)

    def after(self) -> tuple[datetime, int] | None:
        if not self.is_valid():
            return None
        due, pk = self.cleaned_data["after_due"], self.cleaned_data["after_id"]
        return None if due is None or pk is None else (due, pk)


class RescheduleForm(forms.Form):
    due_at = DateTimeField(label=_("New due time"))


class ReassignForm(forms.Form):
    assignee = AssigneeField(label=_("New assignee"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        read_choices_once(self.fields["assignee"])


class CancelForm(forms.Form):
    reason = forms.CharField(required=False, label=_("Why (optional)"), max_length=500)


def quick_add_context(
    user, customer, *, active_tab="communication", communication_form=None, followup_form=None, records=None
):
    """What the customer page's quick-add area shows: a form to log a communication and one to
    schedule a follow-up, fresh unless given (with their errors), and which of them is open.
    `records`: a CustomerRecords holding what the page has already read."""
    records = records or CustomerRecords(customer, user)
    return {
        "customer": customer,
        "communication_form": communication_form
        or CommunicationForm(customer=customer, user=user, records=records),
        "followup_form": followup_form or FollowUpForm(customer=customer, user=user, records=records),
        "active_tab": active_tab,
    }
