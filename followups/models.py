from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from crm.customer_owner_copy import customer_owner_field
from crm.fields import DATES_OUT_OF_RANGE, instants_in_range
from crm.models import TimeStampedModel, VisibleQuerySet
from customers.models import ContactPerson, Customer, Need


def record_link(to, verbose_name, related_name):
    """An optional link to an order or an opportunity of the same customer.

    SET_NULL: a communication or a follow-up belongs to its customer and stands on its own; the record
    it mentions is context. Deleting that record (a manager removing a duplicate opportunity in the
    admin; orders are never deleted) neither is blocked by the notes about it nor takes them along,
    and the field history still names it. No index of its own: the composite indexes below start with it.
    """
    return models.ForeignKey(
        to,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name=related_name,
        verbose_name=verbose_name,
        db_index=False,
    )


class CommunicationQuerySet(VisibleQuerySet):
    # The staff member who had the conversation, and the customer's owner.
    owner_path = ("staff", "customer__owner")


class Communication(TimeStampedModel):
    """A conversation with a customer (沟通记录): a call, an email, a meeting, a visit…"""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone call")
        EMAIL = "email", _("Email")
        MEETING = "meeting", _("Meeting")
        VISIT = "visit", _("Visit")
        WECHAT = "wechat", _("WeChat")
        MESSAGE = "message", _("Text message")
        OTHER = "other", _("Other")

    class Direction(models.TextChoices):
        OUT = "out", _("Outgoing")
        IN = "in", _("Incoming")

    # Optional links to other records of the same customer; services check that each belongs
    # to the customer (and that the user sees it), forms offer only the customer's records.
    LINK_FIELDS = ("contact_person", "order", "opportunity")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="communications", verbose_name=_("customer")
    )
    contact_person = models.ForeignKey(
        ContactPerson,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="communications",
        verbose_name=_("contact person"),
    )
    order = record_link("orders.Order", _("order"), "communications")
    opportunity = record_link("opportunities.Opportunity", _("opportunity"), "communications")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.OUT
    )
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    subject = models.CharField(_("subject"), max_length=200)
    content = models.TextField(_("content"))
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="communications",
        verbose_name=_("staff member"),
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = CommunicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("communication")
        verbose_name_plural = _("communications")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(subject=""), name="communication_subject_not_empty"),
            models.CheckConstraint(condition=~Q(content=""), name="communication_content_not_empty"),
            models.CheckConstraint(
                condition=instants_in_range("occurred_at"),
                name="communication_occurred_at_in_range",
                violation_error_message=DATES_OUT_OF_RANGE,
            ),
        ]
        # The customer's timeline, then one index per sort and filter of the list; the id breaks
        # ties for keyset pagination.
        indexes = [
            models.Index(fields=["customer", "occurred_at", "id"], name="communication_customer_idx"),
            models.Index(fields=["occurred_at", "id"], name="communication_occurred_idx"),
            models.Index(fields=["staff", "occurred_at", "id"], name="communication_staff_idx"),
            models.Index(fields=["channel", "occurred_at", "id"], name="communication_channel_idx"),
            # An order's or opportunity's page and the list filtered by one of them, newest first.
            models.Index(fields=["order", "occurred_at", "id"], name="communication_order_idx"),
            models.Index(fields=["opportunity", "occurred_at", "id"], name="communication_opportunity_idx"),
        ]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("followups:communication", args=[self.pk])


class FollowUpQuerySet(VisibleQuerySet):
    """Follow-ups are visible with their customer, and to the user they are assigned to (the customer's
    owner as the row keeps it, so that both are indexed columns of the row)."""

    owner_path = ("assignee", "customer_owner")

    def open(self):
        return self.filter(status=FollowUp.Status.OPEN)


class FollowUp(TimeStampedModel):
    """What to do next with a customer (跟进), by whom and by when."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("follow-up status", "Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    Priority = Need.Priority
    LINK_FIELDS = ("contact_person", "order", "opportunity")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="followups", verbose_name=_("customer")
    )
    customer_owner = customer_owner_field()  # crm/customer_owner_copy.py
    contact_person = models.ForeignKey(
        ContactPerson,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followups",
        verbose_name=_("contact person"),
    )
    communication = models.ForeignKey(
        Communication,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followups",
        verbose_name=_("from communication"),
    )
    order = record_link("orders.Order", _("order"), "followups")
    opportunity = record_link("opportunities.Opportunity", _("opportunity"), "followups")
    subject = models.CharField(_("subject"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    due_at = models.DateTimeField(_("due"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="followups",
        verbose_name=_("assignee"),
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    result = models.TextField(
        _("result"), blank=True, help_text=_("What came of it; for a cancelled one, why.")
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("completed by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    history = HistoricalRecords(excluded_fields=["updated_at", "customer_owner"])
    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(subject=""), name="followup_subject_not_empty"),
            models.CheckConstraint(
                condition=instants_in_range("due_at", "completed_at"),
                name="followup_dates_in_range",
                violation_error_message=DATES_OUT_OF_RANGE,
            ),
            models.CheckConstraint(
                condition=Q(status="open", completed_at__isnull=True, result="")
                | (Q(status="done", completed_at__isnull=False) & ~Q(result=""))
                | Q(status="cancelled", completed_at__isnull=True),
                name="followup_result_matches_status",
            ),
        ]
        indexes = [
            # My day, the reminders and the dashboard: a user's open follow-ups by due time.
            models.Index(fields=["assignee", "status", "due_at", "id"], name="followup_assignee_due_idx"),
            models.Index(fields=["status", "due_at", "id"], name="followup_status_due_idx"),
            # The same for the follow-ups of a user's customers (the other half of what they see).
            models.Index(
                fields=["customer_owner", "status", "due_at", "id"], name="followup_cust_owner_due_idx"
            ),
            # The dashboard's counts of the open follow-ups due by today, whoever may see them (assignee,
            # customer's owner), from this index alone: no visit to the table's pages however many there are.
            models.Index(
                fields=["due_at"],
                include=["id", "assignee", "customer_owner"],
                condition=Q(status="open"),
                name="followup_open_due_idx",
            ),
            models.Index(fields=["due_at", "id"], name="followup_due_idx"),
            models.Index(fields=["created_at", "id"], name="followup_created_idx"),
            # The customer's timeline: scheduled and completed follow-ups.
            models.Index(fields=["customer", "created_at", "id"], name="followup_customer_created_idx"),
            models.Index(fields=["customer", "completed_at", "id"], name="followup_customer_done_idx"),
            # An order's or opportunity's page and the list filtered by one of them, newest first.
            models.Index(fields=["order", "created_at", "id"], name="followup_order_idx"),
            models.Index(fields=["opportunity", "created_at", "id"], name="followup_opportunity_idx"),
        ]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("followups:detail", args=[self.pk])

    @property
    def is_open(self):
        return self.status == self.Status.OPEN

    @property
    def is_overdue(self):
        return self.is_open and self.due_at < timezone.now()


class ReminderDigest(models.Model):
    """A user's reminder email for a day, at most one: written with its e-mail in the outbox, which sends
    it (and retries it) like every other e-mail."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    date = models.DateField(_("date"))
    email = models.OneToOneField(
        "automation.OutgoingEmail",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("e-mail"),
    )
    overdue = models.PositiveIntegerField(_("overdue"))
    due_today = models.PositiveIntegerField(_("due today"))

    class Meta:
        verbose_name = _("reminder digest")
        verbose_name_plural = _("reminder digests")
        constraints = [models.UniqueConstraint(fields=["user", "date"], name="one_reminder_digest_per_day")]

    def __str__(self):
        return f"{self.user} · {self.date}"
