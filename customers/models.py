from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from crm.fields import DATES_OUT_OF_RANGE, days_in_range, instants_in_range
from crm.models import TimeStampedModel, VisibleQuerySet


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="tag_name_not_empty")]

    def __str__(self):
        return self.name


class CustomerQuerySet(VisibleQuerySet):
    owner_path = "owner"


class Customer(TimeStampedModel):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ORGANISATION = "organisation", _("Organisation")

    class Lifecycle(models.TextChoices):
        LEAD = "lead", _("Lead")
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        LOST = "lost", _("Lost")

    class Source(models.TextChoices):
        REFERRAL = "referral", _("Referral")
        WEBSITE = "website", _("Website")
        EXHIBITION = "exhibition", _("Trade show")
        COLD_CALL = "cold_call", _("Cold call")
        ADVERTISING = "advertising", _("Advertising")
        PARTNER = "partner", _("Partner")
        SOCIAL = "social", _("Social media")
        OTHER = "other", _("Other")

    class Industry(models.TextChoices):
        MANUFACTURING = "manufacturing", _("Manufacturing")
        RETAIL = "retail", _("Retail and wholesale")
        SOFTWARE = "software", _("IT and software")
        FINANCE = "finance", _("Finance and insurance")
        HEALTHCARE = "healthcare", _("Healthcare")
        EDUCATION = "education", _("Education")
        CONSTRUCTION = "construction", _("Construction and real estate")
        LOGISTICS = "logistics", _("Logistics")
        ENERGY = "energy", _("Energy")
        GOVERNMENT = "government", _("Government and public sector")
        OTHER = "other", _("Other")

    class Size(models.TextChoices):
        MICRO = "1-9", _("1–9 employees")
        SMALL = "10-49", _("10–49 employees")
        MEDIUM = "50-249", _("50–249 employees")
        LARGE = "250-999", _("250–999 employees")
        ENTERPRISE = "1000+", _("1000+ employees")

    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ORGANISATION)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="customers", verbose_name=_("owner")
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=Lifecycle.choices, default=Lifecycle.LEAD
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True)
    size = models.CharField(_("size"), max_length=10, choices=Size.choices, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True, help_text=_("Province or city."))
    address = models.CharField(_("address"), max_length=300, blank=True)
    tax_number = models.CharField(
        _("tax number"),
        max_length=30,
        blank=True,
        help_text=_("The buyer's taxpayer identification number, printed on settlement statements."),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    notes = models.TextField(_("notes"), blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        help_text=_("The customer's id in another system: an import that gives it updates this customer."),
    )
    # The latest conversation, order event or opportunity event (the creation until there is one):
    # kept by customers/activity.py, never by editing the record.
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now, editable=False)

    history = HistoricalRecords(excluded_fields=["updated_at", "last_activity_at"])
    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="customer_name_not_empty"),
            models.CheckConstraint(
                condition=days_in_range("birth_date"),
                name="customer_birth_date_in_range",
                violation_error_message=DATES_OUT_OF_RANGE,
            ),
            models.CheckConstraint(
                condition=Q(kind="person") | (Q(gender="") & Q(birth_date__isnull=True)),
                name="customer_person_fields_only_for_people",
            ),
            # Also the index an import looks customers up by.
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="customer_external_id_unique",
                violation_error_message=_("Another customer has this external id."),
            ),
        ]
        # One index per sort order and filter the list page offers; the id breaks ties so
        # that keyset pagination walks each order without gaps.
        indexes = [
            models.Index(fields=["name", "id"], name="customer_name_idx"),
            models.Index(fields=["created_at", "id"], name="customer_created_idx"),
            models.Index(fields=["updated_at", "id"], name="customer_updated_idx"),
            models.Index(fields=["last_activity_at", "id"], name="customer_activity_idx"),
            models.Index(fields=["owner", "name", "id"], name="customer_owner_name_idx"),
            models.Index(fields=["lifecycle_stage", "name"], name="customer_stage_idx"),
            models.Index(fields=["source"], name="customer_source_idx"),
            models.Index(fields=["industry"], name="customer_industry_idx"),
            models.Index(fields=["region"], name="customer_region_idx"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        """Saving a customer already stored never writes its last activity: an event recorded since
        it was read (customers/activity.py) must not be undone by a copy read before."""
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.attname
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "last_activity_at"
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("customers:detail", args=[self.pk])

    @property
    def is_person(self):
        return self.kind == self.Kind.PERSON

    @property
    def age(self):
        if not self.birth_date:
            return None
        today = timezone.localdate()  # the site's day, not the server clock's
        before_birthday = (today.month, today.day) < (self.birth_date.month, self.birth_date.day)
        return today.year - self.birth_date.year - before_birthday


class CustomerPartQuerySet(VisibleQuerySet):
    """Records that hang off a customer are visible with their customer."""

    owner_path = "customer__owner"


class ContactMethod(models.Model):
    class Type(models.TextChoices):
        PHONE = "phone", _("Phone")
        MOBILE = "mobile", _("Mobile")
        EMAIL = "email", _("Email")
        WECHAT = "wechat", _("WeChat")
        QQ = "qq", _("QQ")
        ADDRESS = "address", _("Address")
        WEBSITE = "website", _("Website")
        OTHER = "other", _("Other")

    PHONE_TYPES = (Type.PHONE, Type.MOBILE)

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contact_methods", verbose_name=_("customer")
    )
    type = models.CharField(_("type"), max_length=10, choices=Type.choices)
    value = models.CharField(_("value"), max_length=300)
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    history = HistoricalRecords()
    objects = CustomerPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact method")
        verbose_name_plural = _("contact methods")
        ordering = ["type", "-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "type"], condition=Q(is_primary=True), name="one_primary_method_per_type"
            ),
            models.UniqueConstraint(fields=["customer", "type", "value"], name="contact_method_unique_value"),
            models.CheckConstraint(condition=~Q(value=""), name="contact_method_value_not_empty"),
        ]
        indexes = [models.Index(fields=["value"], name="contact_method_value_idx")]

    def __str__(self):
        return f"{self.get_type_display()}: {self.value}"

    @property
    def is_phone(self):
        return self.type in self.PHONE_TYPES

    @property
    def href(self):
        """What the value links to (rendered only through the link_to filter), or "" for none."""
        if self.is_phone:
            return f"tel:{self.value}"
        if self.type == self.Type.EMAIL:
            return f"mailto:{self.value}"
        return self.value if self.type == self.Type.WEBSITE else ""


class ContactPerson(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contact_persons", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)

    history = HistoricalRecords()
    objects = CustomerPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["name", "id"]
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="contact_person_name_not_empty")]
        indexes = [
            models.Index(fields=["phone"], name="contact_person_phone_idx"),
            models.Index(fields=["email"], name="contact_person_email_idx"),
        ]

    def __str__(self):
        return self.name

    @property
    def phone_href(self):
        return f"tel:{self.phone}" if self.phone else ""

    @property
    def email_href(self):
        return f"mailto:{self.email}" if self.email else ""


class Need(TimeStampedModel):
    class Type(models.TextChoices):
        PRODUCT = "product", _("Product")
        SERVICE = "service", _("Service")
        PRICE = "price", _("Price and terms")
        DELIVERY = "delivery", _("Delivery")
        SUPPORT = "support", _("Support")
        CUSTOMISATION = "customisation", _("Customisation")
        OTHER = "other", _("Other")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("need status", "Open")
        IN_PROGRESS = "in_progress", _("In progress")
        MET = "met", _("Met")
        DROPPED = "dropped", _("Dropped")

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)
    CLOSED_STATUSES = (Status.MET, Status.DROPPED)

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="needs", verbose_name=_("customer")
    )
    type = models.CharField(_("type"), max_length=20, choices=Type.choices, default=Type.PRODUCT)
    description = models.TextField(_("description"))
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.OPEN)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("raised by"),
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = CustomerPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(description=""), name="need_description_not_empty"),
            models.CheckConstraint(
                condition=instants_in_range("raised_at", "resolved_at"),
                name="need_dates_in_range",
                violation_error_message=DATES_OUT_OF_RANGE,
            ),
            models.CheckConstraint(
                condition=Q(status__in=["met", "dropped"], resolved_at__isnull=False)
                | Q(status__in=["open", "in_progress"], resolved_at__isnull=True),
                name="need_resolved_at_matches_status",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status"], name="need_customer_status_idx"),
            models.Index(fields=["raised_at"], name="need_raised_idx"),
            models.Index(fields=["status", "priority"], name="need_status_priority_idx"),
            # The customer's timeline: needs raised and resolved, newest first.
            models.Index(fields=["customer", "raised_at", "id"], name="need_customer_raised_idx"),
            models.Index(fields=["customer", "resolved_at", "id"], name="need_customer_resolved_idx"),
        ]

    def __str__(self):
        return f"{self.get_type_display()}: {self.description[:60]}"

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES


class Segment(models.TextChoices):
    """RFM segments; customers/segmentation.py maps the scores to them."""

    CHAMPIONS = "champions", pgettext_lazy("RFM segment", "Champions")
    LOYAL = "loyal", pgettext_lazy("RFM segment", "Loyal")
    POTENTIAL = "potential", pgettext_lazy("RFM segment", "Potential")
    NEW = "new", pgettext_lazy("RFM segment", "New")
    AT_RISK = "at_risk", pgettext_lazy("RFM segment", "At risk")
    CANT_LOSE = "cant_lose", pgettext_lazy("RFM segment", "Can't lose")
    HIBERNATING = "hibernating", pgettext_lazy("RFM segment", "Hibernating")
    LOST = "lost", pgettext_lazy("RFM segment", "Lost")


def score_field(verbose_name):
    return models.PositiveSmallIntegerField(verbose_name)


class RFMScore(models.Model):
    """A customer's recency, frequency and monetary value on the day they were computed, scored 1–5
    by quintile among all customers with finished orders, and the segment the scores map to.

    Written only by customers.segmentation.compute_rfm, which keeps the latest two computations.
    """

    Segment = Segment

    # No reverse accessor: the scores are derived from the orders and recomputed every night, so a
    # merge leaves them behind (merge_customers moves only the relations a customer shows).
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer"), db_index=False
    )  # rfm_score_once_a_day starts with it
    computed_on = models.DateField(_("computed on"))
    recency_days = models.PositiveIntegerField(_("days since the last finished order"))
    frequency = models.PositiveIntegerField(_("finished orders in the last 365 days"))
    monetary = models.DecimalField(_("net revenue in the last 365 days"), max_digits=16, decimal_places=2)
    recency_score = score_field(_("R"))
    frequency_score = score_field(_("F"))
    monetary_score = score_field(_("M"))
    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices)

    objects = CustomerPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("RFM score")
        verbose_name_plural = _("RFM scores")
        constraints = [
            models.UniqueConstraint(fields=["customer", "computed_on"], name="rfm_score_once_a_day"),
            models.CheckConstraint(
                condition=Q(
                    recency_score__gte=1,
                    recency_score__lte=5,
                    frequency_score__gte=1,
                    frequency_score__lte=5,
                    monetary_score__gte=1,
                    monetary_score__lte=5,
                ),
                name="rfm_scores_one_to_five",
            ),
            models.CheckConstraint(condition=Q(segment__in=Segment.values), name="rfm_segment_known"),
        ]
        indexes = [models.Index(fields=["computed_on", "segment", "customer"], name="rfm_score_segment_idx")]

    def __str__(self):
        return f"{self.customer_id} {self.computed_on}: {self.segment}"
