"""Automation: the e-mail outbox, rules and their firings, in-app notifications, webhooks.

Every outgoing message (an e-mail, a webhook delivery) is a row written in the transaction of the
change that caused it and delivered by a worker afterwards; the row's status moves
pending → sending → sent (or failed after OUTBOX_MAX_ATTEMPTS), and only the worker whose
conditional UPDATE moved it to sending may send it (automation/delivery.py).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from crm.models import TimeStampedModel
from orders.models import Status


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("delivery status", "Pending")
    SENDING = "sending", pgettext_lazy("delivery status", "Sending")
    SENT = "sent", pgettext_lazy("delivery status", "Sent")
    FAILED = "failed", pgettext_lazy("delivery status", "Failed")


class Delivery(TimeStampedModel):
    """What an e-mail and a webhook delivery share: status, attempts and the schedule of retries."""

    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        abstract = True


class OutgoingEmail(Delivery):
    """One e-mail in the outbox. A customer e-mail (`customer` set) is logged as an outgoing
    communication on the customer's timeline once the mail server accepted it."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("Customer e-mail")
        NOTIFICATION = "notification", _("Notification")
        DIGEST = "digest", _("Reminder digest")
        PASSWORD_LINK = "password_link", _("Password link")

    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    html_body = models.TextField(_("HTML body"), blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("account"),
        help_text=_("A password link's user: the link is made when the e-mail is sent and is never stored."),
    )
    rule = models.ForeignKey(
        "AutomationRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=_("automation rule"),
    )
    communication = models.ForeignKey(
        "followups.Communication",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("communication"),
    )

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outgoingemail_due_idx"),
            models.Index(fields=["created_at", "id"], name="outgoingemail_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


class Trigger(models.TextChoices):
    ORDER_STUCK = "order_stuck", _("Order in a status longer than N hours")
    CUSTOMER_SILENT = "customer_silent", _("Active customer with no communication for N days")
    OPPORTUNITY_OVERDUE = "opportunity_overdue", _("Opportunity past its expected close date")
    FOLLOWUP_OVERDUE = "followup_overdue", _("Follow-up overdue by N days")
    ORDER_TRANSITION = "order_transition", _("Order reaches a status")
    OPPORTUNITY_WON = "opportunity_won", _("Opportunity won")
    OPPORTUNITY_LOST = "opportunity_lost", _("Opportunity lost")
    APPROVAL_REQUESTED = "approval_requested", _("Approval of an order requested")


class Action(models.TextChoices):
    FOLLOWUP = "followup", _("Create a follow-up")
    EMAIL = "email", _("E-mail the customer")
    NOTIFY = "notify", _("Notify a user")
    WEBHOOK = "webhook", _("Call a webhook")


class AutomationRule(TimeStampedModel):
    """When `trigger` matches a record (and the conditions hold), do `action`, once per occurrence."""

    class Assignee(models.TextChoices):
        OWNER = "owner", _("The record's owner")
        USER = "user", _("A named user")
        TEAM_LEAD = "team_lead", _("The owner's team lead")

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    name = models.CharField(_("name"), max_length=100)
    enabled = models.BooleanField(_("enabled"), default=True)
    trigger = models.CharField(_("trigger"), max_length=30, choices=Trigger.choices)
    status = models.CharField(
        _("order status"), max_length=20, blank=True, help_text=_("For the order triggers.")
    )
    threshold = models.PositiveIntegerField(
        _("N (hours or days)"), null=True, blank=True, help_text=_("Hours for orders, days for the others.")
    )
    # Conditions
    min_amount = models.DecimalField(
        _("minimum amount"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Only orders and opportunities of at least this amount."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only records of"),
    )
    # Action
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    assignee = models.CharField(
        _("who"), max_length=10, choices=Assignee.choices, default=Assignee.OWNER, blank=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("named user"),
    )
    due_in_days = models.PositiveSmallIntegerField(_("follow-up due in days"), default=1)
    language = models.CharField(
        _("e-mail language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=200, blank=True)
    body_zh = models.TextField(_("body (Chinese)"), blank=True)
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("body (English)"), blank=True)
    webhook = models.ForeignKey(
        "WebhookEndpoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("webhook endpoint"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)

    class Meta:
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        ordering = ["name", "id"]
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="automationrule_name_not_empty")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("automation:rule", args=[self.pk])

    @property
    def status_label(self) -> str:
        """The order status the rule names, in the reader's language."""
        return str(Status(self.status).label) if self.status in Status.values else ""


class RuleFiring(models.Model):
    """A rule acted on a record for one occurrence (e.g. the order's entry into a status, an event).

    The unique key is what makes every run idempotent: a second run, or another worker at the same
    time, cannot insert the same firing, and the action is written in the same transaction."""

    rule = models.ForeignKey(AutomationRule, on_delete=models.CASCADE, related_name="firings")
    record_type = models.CharField(_("record type"), max_length=20)
    record_id = models.BigIntegerField(_("record id"))
    occurrence = models.CharField(_("occurrence"), max_length=100)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    fired_at = models.DateTimeField(_("fired at"), default=timezone.now)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    # What the action made: {"followup": id}, {"email": id}, {"notification": id}, {"delivery": id}.
    outcome = models.JSONField(_("outcome"), default=dict)

    class Meta:
        verbose_name = _("rule firing")
        verbose_name_plural = _("rule firings")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "record_type", "record_id", "occurrence"], name="one_firing_per_occurrence"
            )
        ]
        indexes = [models.Index(fields=["customer", "fired_at", "id"], name="rulefiring_customer_idx")]

    def __str__(self) -> str:
        return f"{self.rule} · {self.record_type} {self.record_id} · {self.occurrence}"


class Notification(models.Model):
    """An in-app message to a user: an approval, an assignment, a rule's action."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    # In English (or as a user wrote it, e.g. a rule's subject), and in Chinese when the CRM wrote it.
    message = models.CharField(_("message"), max_length=300)
    message_zh_hans = models.CharField(_("message (Simplified Chinese)"), max_length=300, blank=True)
    url = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at", "id"], name="notification_user_idx"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """The message in the reader's language."""
        chinese = (get_language() or "").startswith("zh") and self.message_zh_hans
        return self.message_zh_hans if chinese else self.message


class BackgroundExport(models.Model):
    """A list export too large for the request, written by a worker (automation/exports.py).

    It keeps what is needed to run the page's export again as its user: the export view's name, the
    filters (the query string) and the language; the file lives in the private "exports" storage
    until `expires_at`."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("export status", "Waiting")
        RUNNING = "running", pgettext_lazy("export status", "Being written")
        READY = "ready", pgettext_lazy("export status", "Ready")
        FAILED = "failed", pgettext_lazy("export status", "Failed")
        EXPIRED = "expired", pgettext_lazy("export status", "Expired")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="background_exports",
        verbose_name=_("user"),
    )
    view_name = models.CharField(_("export view"), max_length=100)
    query = models.TextField(_("filters"), blank=True)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    language = models.CharField(_("language"), max_length=10)
    filename = models.CharField(_("file name"), max_length=100)
    title = models.CharField(_("export title"), max_length=100)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.CharField(_("stored file"), max_length=200, blank=True)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    size = models.PositiveBigIntegerField(_("file size (bytes)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("background export")
        verbose_name_plural = _("background exports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at", "id"], name="export_user_idx"),
            models.Index(fields=["expires_at"], condition=Q(status="ready"), name="export_expiring_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.format})"


class NotificationPreference(models.Model):
    """How a user wants to hear of their notifications besides the app."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("user"),
    )
    email = models.BooleanField(_("also by e-mail"), default=False)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)


class WebhookEvent(models.TextChoices):
    CUSTOMER_CREATED = "customer.created", _("Customer created")
    CUSTOMER_UPDATED = "customer.updated", _("Customer updated")
    ORDER_STATUS_CHANGED = "order.status_changed", _("Order status changed")
    PAYMENT_RECORDED = "payment.recorded", _("Payment recorded")
    OPPORTUNITY_WON = "opportunity.won", _("Opportunity won")
    OPPORTUNITY_LOST = "opportunity.lost", _("Opportunity lost")
    RULE_FIRED = "automation.rule_fired", _("Automation rule fired")


class WebhookEndpoint(TimeStampedModel):
    """A URL that receives signed JSON for the event types it subscribes to."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(_("secret"), max_length=100)
    event_types = models.JSONField(_("event types"), default=list)
    active = models.BooleanField(_("active"), default=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["url", "id"]

    def __str__(self) -> str:
        return self.description or self.url


class WebhookDelivery(Delivery):
    """One signed POST of one event to one endpoint, with its last answer."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    event_type = models.CharField(_("event type"), max_length=40)
    payload = models.JSONField(_("payload"))
    response_code = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    response_ms = models.PositiveIntegerField(_("response time (ms)"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due_idx"),
            models.Index(fields=["endpoint", "created_at", "id"], name="webhookdelivery_endpoint_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint}"
