"""Summary rows the dashboard reads instead of the facts: per day the orders booked and finished and the
deals won and lost; and the figures of the moment, the balances due and the open pipeline. Each row is
keyed by the two users a fact is visible through — its own owner and its customer's owner — so
`visible_to` filters summary rows exactly as it filters the facts (managers all, a team lead the team, a
salesperson their own).

summaries/upkeep.py is the only writer: the services that change a fact take its old contribution out and
put its new one in within their transaction, and `manage.py rebuild_summaries` recomputes every row from
the facts with the same queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import VisibleQuerySet

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class SummaryQuerySet(VisibleQuerySet):
    owner_path = ("owner", "customer_owner")


def _user(verbose_name: StrOrPromise) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=verbose_name,
    )


def _sum_field(verbose_name: StrOrPromise) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=20, decimal_places=2)


class OrderDay(models.Model):
    """The orders confirmed ("booked") or finished ("revenue") on a local day, at their net total
    (total − credit notes), per order owner, customer owner and currency."""

    class Kind(models.TextChoices):
        BOOKED = "booked", _("Booked")
        REVENUE = "revenue", _("Revenue")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    day = models.DateField(_("day"))
    owner = _user(_("order owner"))
    customer_owner = _user(_("customer owner"))
    currency = models.CharField(_("currency"), max_length=3)
    amount = _sum_field(_("net amount"))
    orders = models.IntegerField(_("orders"))

    objects = SummaryQuerySet.as_manager()

    class Meta:
        verbose_name = _("orders of a day")
        verbose_name_plural = _("orders of a day")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "kind", "owner", "customer_owner", "currency"], name="order_day_key"
            )
        ]
        indexes = [
            models.Index(fields=["owner", "day"], name="order_day_owner_idx"),
            models.Index(fields=["customer_owner", "day"], name="order_day_cust_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.currency} {self.amount} ({self.orders})"


class DealDay(models.Model):
    """The deals won or lost on a local day, per deal owner and customer owner: how many, their
    amount and the days from creation to the outcome added up (the average sales cycle's numerator)."""

    class Kind(models.TextChoices):
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    day = models.DateField(_("day"))
    owner = _user(_("deal owner"))
    customer_owner = _user(_("customer owner"))
    deals = models.IntegerField(_("deals"))
    amount = _sum_field(_("amount"))
    cycle_days = models.FloatField(_("days from creation to outcome, added up"))

    objects = SummaryQuerySet.as_manager()

    class Meta:
        verbose_name = _("deals of a day")
        verbose_name_plural = _("deals of a day")
        constraints = [
            models.UniqueConstraint(fields=["day", "kind", "owner", "customer_owner"], name="deal_day_key")
        ]
        indexes = [
            models.Index(fields=["owner", "day"], name="deal_day_owner_idx"),
            models.Index(fields=["customer_owner", "day"], name="deal_day_cust_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.amount} ({self.deals})"


class BalanceDue(models.Model):
    """The money still to collect now (orders.selectors.balance_due: confirmed, processing or finished
    orders with a positive balance), per order owner, customer owner and currency: how many, how much."""

    owner = _user(_("order owner"))
    customer_owner = _user(_("customer owner"))
    currency = models.CharField(_("currency"), max_length=3)
    orders = models.IntegerField(_("orders"))
    amount = _sum_field(_("balance due"))

    objects = SummaryQuerySet.as_manager()

    class Meta:
        verbose_name = _("balance due")
        verbose_name_plural = _("balances due")
        constraints = [
            models.UniqueConstraint(fields=["owner", "customer_owner", "currency"], name="balance_due_key")
        ]
        indexes = [models.Index(fields=["customer_owner"], name="balance_customer_owner_idx")]

    def __str__(self) -> str:
        return f"{self.currency} {self.amount} ({self.orders})"


class OpenPipeline(models.Model):
    """The open deals now, per deal owner and customer owner: how many, their amount and Σ amount ×
    probability (percent-amounts; the weighted pipeline is that / 100)."""

    owner = _user(_("deal owner"))
    customer_owner = _user(_("customer owner"))
    deals = models.IntegerField(_("deals"))
    amount = _sum_field(_("amount"))
    percent_amount = models.DecimalField(_("amount × probability"), max_digits=24, decimal_places=2)

    objects = SummaryQuerySet.as_manager()

    class Meta:
        verbose_name = _("open pipeline")
        verbose_name_plural = _("open pipeline")
        constraints = [models.UniqueConstraint(fields=["owner", "customer_owner"], name="open_pipeline_key")]
        indexes = [models.Index(fields=["customer_owner"], name="pipeline_customer_owner_idx")]

    def __str__(self) -> str:
        return f"{self.amount} ({self.deals})"
