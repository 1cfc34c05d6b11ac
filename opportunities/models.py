"""The sales pipeline: configurable stages, opportunities with their products of interest, scoring,
and the event log of stage changes that makes the time spent in each stage measurable.

Writes go through services.py: it keeps the stored value score, the amount (the lines' total when
there are lines) and the stage-change events in step with the fields they derive from.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.customer_owner_copy import customer_owner_field
from crm.fields import DATES_OUT_OF_RANGE, days_in_range, instants_in_range, integer_in_range
from crm.models import TimeStampedModel, VisibleQuerySet
from customers.models import Customer
from orders.models import ZERO, equals_to_the_cent, money_field


def percent_field(verbose_name, **kwargs):
    return models.PositiveSmallIntegerField(
        verbose_name, validators=[MinValueValidator(0), MaxValueValidator(100)], **kwargs
    )


class StageQuerySet(models.QuerySet):
    def open(self):
        return self.filter(kind=Stage.Kind.OPEN)


class Stage(models.Model):
    """A step of the sales process. Managers rename, reorder and add stages in the admin."""

    class Kind(models.TextChoices):
        OPEN = "open", pgettext_lazy("stage kind", "Open")
        WON = "won", pgettext_lazy("stage kind", "Won")
        LOST = "lost", pgettext_lazy("stage kind", "Lost")

    code = models.SlugField(
        _("code"), max_length=40, unique=True, help_text=_("A stable name for integrations and reports.")
    )
    name_en = models.CharField(_("name (English)"), max_length=60)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=60)
    position = models.PositiveSmallIntegerField(
        _("position"), default=0, help_text=_("Stages run in this order.")
    )
    probability = percent_field(
        _("default win probability (%)"),
        default=0,
        help_text=_("An opportunity entering this stage takes this probability; its owner may change it."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OPEN)

    objects = StageQuerySet.as_manager()

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_at_most_100"),
            models.CheckConstraint(
                condition=Q(kind="open") | Q(kind="won", probability=100) | Q(kind="lost", probability=0),
                name="stage_closed_probability",
                # Django formats the message with the constraint's name: a percent sign is written %%.
                violation_error_message=_("A won stage has a probability of 100%%, a lost stage 0%%."),
            ),
            models.CheckConstraint(condition=Q(kind__in=["open", "won", "lost"]), name="stage_kind_known"),
            models.CheckConstraint(condition=~Q(name_en="") & ~Q(name_zh_hans=""), name="stage_named"),
            # Winning and losing each need exactly one place to go.
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind__in=["won", "lost"]),
                name="one_won_and_one_lost_stage",
                violation_error_message=_(
                    "There is already a stage of this kind: one won and one lost stage."
                ),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self):
        """The name in the active language."""
        return self.name_zh_hans if (get_language() or "").startswith("zh") else self.name_en

    @property
    def is_open(self):
        return self.kind == self.Kind.OPEN


class OpportunityQuerySet(VisibleQuerySet):
    # Its owner works it, even on someone else's customer; the customer's owner sees what is sold to them
    # (the customer's owner as the row keeps it, so that both are indexed columns of the row).
    owner_path = ("owner", "customer_owner")

    def open(self):
        return self.filter(stage__kind=Stage.Kind.OPEN)


class Opportunity(TimeStampedModel):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("customer")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="opportunities",
        verbose_name=_("owner"),
    )
    customer_owner = customer_owner_field()  # crm/customer_owner_copy.py
    title = models.CharField(_("title"), max_length=200)
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("stage")
    )
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now, editable=False)
    amount = money_field(
        _("amount"),
        default=ZERO,
        help_text=_("The expected deal value; the lines' total when there are lines."),
    )
    probability = percent_field(
        _("win probability (%)"), default=0, help_text=_("Set from the stage; change it if you know better.")
    )
    expected_close_date = models.DateField(_("expected close date"))
    source = models.CharField(_("source"), max_length=20, choices=Customer.Source.choices, blank=True)
    description = models.TextField(_("description"), blank=True)
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        help_text=_("Its id in the system it was imported from: importing it again updates it."),
    )

    # Value score: each factor 0–100, weighted by ScoringWeights.
    score_segmentation = percent_field(
        _("segmentation"), default=0, help_text=_("How well the customer fits the target segments.")
    )
    score_characteristics = percent_field(
        _("operating characteristics"),
        default=0,
        help_text=_("The customer's size, growth and financial health."),
    )
    score_relationship = percent_field(
        _("relationship"), default=0, help_text=_("How close and trusted the relationship is.")
    )
    score_resources = percent_field(
        _("account resources"),
        default=0,
        help_text=_("What it takes to win and serve the account (higher: less effort)."),
    )
    value_score = models.DecimalField(
        _("value score"), max_digits=5, decimal_places=2, default=ZERO, editable=False
    )

    # BANT qualification.
    budget_confirmed = models.BooleanField(_("budget"), default=False)
    budget_note = models.CharField(_("budget note"), max_length=300, blank=True)
    authority_confirmed = models.BooleanField(_("authority"), default=False)
    authority_note = models.CharField(_("authority note"), max_length=300, blank=True)
    need_confirmed = models.BooleanField(_("need"), default=False)
    need_note = models.CharField(_("need note"), max_length=300, blank=True)
    timing_confirmed = models.BooleanField(_("timing"), default=False)
    timing_note = models.CharField(_("timing note"), max_length=300, blank=True)

    won_at = models.DateTimeField(_("won at"), null=True, blank=True, editable=False)
    lost_at = models.DateTimeField(_("lost at"), null=True, blank=True, editable=False)
    lost_reason = models.CharField(_("reason lost"), max_length=300, blank=True, editable=False)
    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="source_opportunity",
        verbose_name=_("order"),
        editable=False,
    )

    history = HistoricalRecords(
        excluded_fields=["updated_at", "value_score", "stage_entered_at", "customer_owner"]
    )
    objects = OpportunityQuerySet.as_manager()

    BANT = ("budget", "authority", "need", "timing")
    SCORE_FACTORS = ("segmentation", "characteristics", "relationship", "resources")

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["expected_close_date", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="opportunity_title_not_empty"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_not_negative"),
            models.CheckConstraint(
                condition=days_in_range("expected_close_date")
                & instants_in_range("stage_entered_at", "won_at", "lost_at"),
                name="opportunity_dates_in_range",
                violation_error_message=DATES_OUT_OF_RANGE,
            ),
            models.CheckConstraint(
                condition=Q(
                    probability__lte=100,
                    score_segmentation__lte=100,
                    score_characteristics__lte=100,
                    score_relationship__lte=100,
                    score_resources__lte=100,
                    value_score__gte=0,
                    value_score__lte=100,
                ),
                name="opportunity_percentages_in_range",
            ),
            models.CheckConstraint(
                condition=Q(won_at__isnull=True) | Q(lost_at__isnull=True),
                name="opportunity_not_won_and_lost",
            ),
            models.CheckConstraint(
                condition=Q(lost_at__isnull=False, lost_reason__gt="")
                | Q(lost_at__isnull=True, lost_reason=""),
                name="opportunity_lost_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(order__isnull=True) | Q(won_at__isnull=False),
                name="opportunity_order_only_when_won",
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="opportunity_external_id_unique"
            ),
        ]
        # One index per filter and sort of the list and board; the id breaks ties for keyset pagination.
        indexes = [
            models.Index(fields=["expected_close_date", "id"], name="opportunity_close_idx"),
            models.Index(fields=["amount", "id"], name="opportunity_amount_idx"),
            models.Index(fields=["value_score", "id"], name="opportunity_score_idx"),
            models.Index(fields=["created_at", "id"], name="opportunity_created_idx"),
            models.Index(fields=["updated_at", "id"], name="opportunity_updated_idx"),
            models.Index(fields=["title", "id"], name="opportunity_title_idx"),
            models.Index(fields=["owner", "expected_close_date"], name="opportunity_owner_idx"),
            models.Index(fields=["stage", "expected_close_date"], name="opportunity_stage_idx"),
            models.Index(fields=["customer", "stage"], name="opportunity_customer_idx"),
            models.Index(fields=["won_at"], name="opportunity_won_idx"),
            models.Index(fields=["lost_at"], name="opportunity_lost_idx"),
            # The open pipeline's sums (opportunities.reports.open_pipeline) read this index alone, one
            # range per open stage, never the table (PostgreSQL; a plain index elsewhere).
            models.Index(
                fields=["stage"], include=["id", "amount", "probability"], name="opportunity_pipeline_idx"
            ),
            # The board of one owner (a manager's or a team lead's landing board, the owner filter) numbers
            # and sums each stage from this index alone, in the order it shows the cards (PostgreSQL).
            models.Index(
                fields=["owner", "stage", "expected_close_date", "id"],
                include=["customer", "amount", "probability", "won_at", "lost_at"],
                name="opportunity_board_idx",
            ),
            # The same for the deals on a user's customers that someone else owns (the board's second part).
            models.Index(
                fields=["customer_owner", "stage", "expected_close_date", "id"],
                include=["owner", "customer", "amount", "probability", "won_at", "lost_at"],
                name="opportunity_board_cust_idx",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("opportunities:detail", args=[self.pk])

    @property
    def expected_value(self):
        """amount × win probability: what the opportunity adds to the weighted pipeline."""
        return (self.amount * self.probability / 100).quantize(Decimal("0.01"))

    @property
    def qualification_score(self):
        """BANT: 25 points for each of budget, authority, need and timing confirmed."""
        return 25 * sum(getattr(self, f"{item}_confirmed") for item in self.BANT)

    @property
    def is_open(self):
        return self.stage.is_open

    @property
    def closed_at(self):
        return self.won_at or self.lost_at

    def days_in_stage(self, now=None):
        return ((now or timezone.now()) - self.stage_entered_at).days


class OpportunityLine(models.Model):
    """A product of interest: what the order will contain when the opportunity is won."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="lines", verbose_name=_("opportunity")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        "orders.Product",
        on_delete=models.PROTECT,
        related_name="opportunity_lines",
        verbose_name=_("product"),
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = money_field(_("unit price"))

    class Meta:
        verbose_name = _("opportunity line")
        verbose_name_plural = _("opportunity lines")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="opportunity_line_quantity_positive"),
            models.CheckConstraint(
                condition=integer_in_range("quantity", models.PositiveIntegerField),
                name="opportunity_line_quantity_in_range",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="opportunity_line_price_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["product", "opportunity"], name="opportunity_line_product_idx")]

    def __str__(self):
        return f"{self.quantity} × {self.product.name}"

    @property
    def total(self):
        return self.quantity * self.unit_price


class OpportunityEventQuerySet(VisibleQuerySet):
    visible_with = "opportunity"


class OpportunityEventType(models.TextChoices):
    CREATED = "created", _("Opportunity created")
    STAGE_MOVED = "stage_moved", _("Opportunity moved")
    WON = "won", _("Opportunity won")
    LOST = "lost", _("Opportunity lost")
    REOPENED = "reopened", _("Opportunity reopened")
    OWNER_CHANGED = "owner_changed", _("Owner changed")


# The events that put the opportunity into a stage.
STAGE_EVENT_TYPES = [
    OpportunityEventType.CREATED,
    OpportunityEventType.STAGE_MOVED,
    OpportunityEventType.WON,
    OpportunityEventType.LOST,
    OpportunityEventType.REOPENED,
]


class OpportunityEvent(models.Model):
    """One fact of an opportunity's life: its type, who, when, and the facts it needs (`parameters`).

    opportunities/events.py writes them, one function per type. The creation and each stage change
    (a move, winning, losing, reopening) fill from_stage and to_stage (no from_stage for the creation):
    the time spent in each stage and the funnel are measured from them; other events leave both
    empty. `note` is what the user typed, shown as typed; `summary` renders the rest in the reader's
    language.
    """

    Type = OpportunityEventType
    STAGE_TYPES = STAGE_EVENT_TYPES

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="events", verbose_name=_("opportunity")
    )
    type = models.CharField(_("type"), max_length=30, choices=OpportunityEventType.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    from_stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("from")
    )
    to_stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("to")
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = OpportunityEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity event")
        verbose_name_plural = _("opportunity events")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=OpportunityEventType.values), name="opportunity_event_type_known"
            ),
            models.CheckConstraint(
                condition=Q(type__in=STAGE_EVENT_TYPES, to_stage__isnull=False)
                | (~Q(type__in=STAGE_EVENT_TYPES) & Q(to_stage__isnull=True)),
                name="opportunity_event_stage_change_has_stage",
            ),
        ]
        indexes = [
            models.Index(fields=["opportunity", "at"], name="opportunity_event_opp_at_idx"),
            models.Index(fields=["at"], name="opportunity_event_at_idx"),
            models.Index(fields=["type", "at"], name="opportunity_event_type_at_idx"),
        ]

    def __str__(self):
        return f"{self.opportunity}: {self.get_type_display()}"

    @property
    def is_stage_change(self) -> bool:
        return self.type in self.STAGE_TYPES

    @property
    def summary(self) -> str:
        """What happened, as a sentence in the active language, from the type, stages and parameters."""
        facts = self.parameters
        if self.type == self.Type.CREATED:
            return gettext("Created in %(stage)s") % {"stage": _stage_name(self.to_stage)}
        if self.type == self.Type.STAGE_MOVED:
            return gettext("Moved from %(from)s to %(to)s") % {
                "from": _stage_name(self.from_stage),
                "to": _stage_name(self.to_stage),
            }
        if self.type == self.Type.WON:
            if facts.get("order_number"):
                return gettext("Won: order %(order_number)s") % facts
            return pgettext("stage kind", "Won")
        if self.type == self.Type.LOST:
            return (
                gettext("Lost: %(reason)s") % facts if facts.get("reason") else pgettext("stage kind", "Lost")
            )
        if self.type == self.Type.REOPENED:
            text = gettext("Reopened in %(stage)s") % {"stage": _stage_name(self.to_stage)}
            if facts.get("unlinked_order_number"):
                text = gettext("%(reopened)s; order %(order_number)s unlinked") % {
                    "reopened": text,
                    "order_number": facts["unlinked_order_number"],
                }
            return text
        if self.type == self.Type.OWNER_CHANGED and "new_owner" in facts:
            return gettext("Owner changed: %(old)s → %(new)s") % {
                "old": facts.get("old_owner") or "—",
                "new": facts["new_owner"],
            }
        return self.get_type_display()


def _stage_name(stage: Stage | None) -> str:
    return stage.name if stage else "—"


DEFAULT_WEIGHTS = {
    "segmentation": Decimal("0.30"),
    "characteristics": Decimal("0.20"),
    "relationship": Decimal("0.30"),
    "resources": Decimal("0.20"),
}


def weight_field(verbose_name, factor):
    return models.DecimalField(
        verbose_name,
        max_digits=3,
        decimal_places=2,
        default=DEFAULT_WEIGHTS[factor],
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )


class ScoringWeights(models.Model):
    """The weights of the value score V = w_s·S + w_c·C + w_l·L + w_r·R: one row, edited by managers."""

    SINGLETON_ID = 1

    segmentation = weight_field(_("segmentation weight (w_s)"), "segmentation")
    characteristics = weight_field(_("operating characteristics weight (w_c)"), "characteristics")
    relationship = weight_field(_("relationship weight (w_l)"), "relationship")
    resources = weight_field(_("account resources weight (w_r)"), "resources")

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("scoring weights")
        verbose_name_plural = _("scoring weights")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="scoring_weights_single_row"),
            models.CheckConstraint(
                condition=Q(
                    segmentation__gte=0, characteristics__gte=0, relationship__gte=0, resources__gte=0
                ),
                name="scoring_weights_not_negative",
                violation_error_message=_("A weight cannot be negative."),
            ),
            models.CheckConstraint(
                condition=equals_to_the_cent(
                    F("segmentation") + F("characteristics") + F("relationship") + F("resources"), Value(1)
                ),
                name="scoring_weights_sum_to_one",
                violation_error_message=_(
                    "The four weights must add up to exactly 1, for example 0.30 + 0.20 + 0.30 + 0.20."
                ),
            ),
        ]

    def __str__(self):
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls):
        weights, _created = cls.objects.get_or_create(pk=cls.SINGLETON_ID)
        return weights

    def as_dict(self):
        return {factor: getattr(self, factor) for factor in Opportunity.SCORE_FACTORS}
