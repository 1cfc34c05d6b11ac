"""Reads of customers and what hangs off them, with visibility and the joins each page needs."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from crm.access import can_see
from crm.search import is_short, matching_ids
from customers.models import ContactMethod, ContactPerson, Customer, Need, Tag
from customers.normalise import phone_search_digits

SIMILAR_NAME_THRESHOLD = 0.5


def _primary_value(types: Sequence[str]) -> Subquery:
    methods = ContactMethod.objects.filter(customer=OuterRef("pk"), type__in=types)
    return Subquery(methods.order_by("-is_primary", "id").values("value")[:1])


def open_needs_count() -> Coalesce:
    needs = Need.objects.filter(customer=OuterRef("pk"), status__in=Need.OPEN_STATUSES)
    counted = needs.order_by().values("customer").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def customers_for_list(user: User) -> QuerySet[Customer]:
    """Visible customers with what a list row shows: owner, primary phone and email, tags, open needs."""
    return (
        Customer.objects.visible_to(user)
        .select_related("owner")
        .annotate(
            primary_phone=_primary_value(ContactMethod.PHONE_TYPES),
            primary_email=_primary_value([ContactMethod.Type.EMAIL]),
            open_needs=open_needs_count(),
        )
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
    )


def search_customers(
    queryset: QuerySet[Customer], text: str, *, limit: int | None = None
) -> QuerySet[Customer]:
    """Customers of `queryset` whose name, contact value or contact person contains `text`; with a
    `limit`, at most limit + 1 of them, the first each index finds (crm/search.py)."""
    text = text.strip()
    if not text:
        return queryset
    # A union of id sets lets each part use its own index; an OR across the three tables would
    # scan every customer. Each part is taken from `queryset`, so that a bounded search stops at
    # the first matches the user may see, not at the first of all.
    person = Q(name__fragment=text)
    parts = [queryset.filter(name__fragment=text)]
    if not is_short(text):
        # Contact values are stored normalised (lower-case emails, E.164 phones), so a plain
        # case-sensitive match can use the trigram index on the value. Two characters of a phone
        # number or an address match nearly everyone: they are searched from three.
        value = Q(value__contains=text.lower())
        person |= Q(email__contains=text.lower())
        digits = phone_search_digits(text)
        if digits:
            value |= Q(value__contains=digits)
            person |= Q(phone__contains=digits)
        parts.append(queryset.filter(pk__in=ContactMethod.objects.filter(value).values("customer_id")))
    parts.append(queryset.filter(pk__in=ContactPerson.objects.filter(person).values("customer_id")))
    return queryset.filter(pk__in=matching_ids(parts, limit))


def customer_detail(customer: Customer) -> dict[str, Any]:
    """What the customer's page shows (the customer from customers.access.access_customer)."""
    return {
        "customer": customer,
        "tags": list(customer.tags.order_by("name")),
        "contact_methods": list(customer.contact_methods.all()),
        "contact_persons": list(customer.contact_persons.all()),
        "open_needs": list(customer.needs.filter(status__in=Need.OPEN_STATUSES).select_related("raised_by")),
        "closed_needs_count": customer.needs.filter(status__in=Need.CLOSED_STATUSES).count(),
    }


def customer_card(user: User | None, customer: Customer) -> dict[str, Any]:
    """What the read-only card shows (customers.access.access_customer_card): the customer's name and how
    to reach them, and the reader's own records on it, never the customer's other deals."""
    from opportunities.models import Opportunity
    from orders.models import Order

    return {
        "customer": customer,
        "contact_methods": list(customer.contact_methods.all()),
        "contact_persons": list(customer.contact_persons.all()),
        "can_edit": False,
        "my_opportunities": list(
            Opportunity.objects.visible_to(user).filter(customer=customer).select_related("stage", "owner")
        ),
        "my_orders": list(Order.objects.visible_to(user).filter(customer=customer).select_related("owner")),
    }


def find_duplicates(
    name: str = "",
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    exclude_pk: int | None = None,
    limit: int = 10,
) -> list[tuple[Customer, list[str]]]:
    """Customers that look like the one being entered: same phone or email, or a very similar name.

    Looks across all customers, not only those the user sees: the caller decides what to reveal.
    Returns (customer, reasons) pairs.
    """
    found: dict[int, tuple[Customer, list[str]]] = {}

    def note(queryset: QuerySet[Customer], reason: str) -> None:
        for customer in queryset.select_related("owner")[:limit]:
            found.setdefault(customer.pk, (customer, []))[1].append(reason)

    values = [v for v in (*phones, *emails) if v]
    if values:
        same_contact = Customer.objects.filter(contact_methods__value__in=values).distinct()
        note(_exclude(same_contact, exclude_pk), "contact")
    name = " ".join((name or "").split())
    if name:
        note(_exclude(_similar_names(name), exclude_pk), "name")
    return list(found.values())[:limit]


def _exclude(queryset: QuerySet[Customer], pk: int | None) -> QuerySet[Customer]:
    return queryset.exclude(pk=pk) if pk else queryset


def _similar_names(name: str) -> QuerySet[Customer]:
    if connection.vendor == "postgresql":
        # The % operator uses the trigram index; the similarity cut keeps only close matches.
        return (
            Customer.objects.filter(name__trigram_similar=name)
            .annotate(similarity=TrigramSimilarity("name", name))
            .filter(similarity__gte=SIMILAR_NAME_THRESHOLD)
            .order_by("-similarity")
        )
    return Customer.objects.filter(name__iexact=name)


def needs_report(user: User, months: int = 12) -> dict[str, Any]:
    """Needs of visible customers: totals by type, priority and status, and per month raised."""
    needs = Need.objects.visible_to(user)
    since = (timezone.now() - timedelta(days=31 * (months - 1))).replace(day=1, hour=0, minute=0, second=0)
    by_month = (
        needs.filter(raised_at__gte=since)
        .annotate(month=TruncMonth("raised_at"))
        .values("month", "status")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    return {
        "by_type": _counts(needs, "type", Need.Type),
        "by_priority": _counts(needs, "priority", Need.Priority),
        "by_status": _counts(needs, "status", Need.Status),
        "by_month": _monthly(by_month),
        "total": needs.count(),
    }


def _counts(needs: QuerySet[Need], field: str, choices: Any) -> list[dict[str, Any]]:
    counted = dict(needs.order_by().values_list(field).annotate(n=Count("pk")))
    return [
        {"key": value, "label": label, "count": counted.get(value, 0)} for value, label in choices.choices
    ]


def _monthly(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    months: dict[datetime, dict[str, Any]] = {}
    for row in rows:
        month = months.setdefault(row["month"], {"month": row["month"], "raised": 0, "resolved": 0})
        month["raised"] += row["n"]
        if row["status"] in Need.CLOSED_STATUSES:
            month["resolved"] += row["n"]
    return list(months.values())


def has_open_needs() -> Exists:
    return Exists(Need.objects.filter(customer=OuterRef("pk"), status__in=Need.OPEN_STATUSES))


def duplicate_warnings(
    user: User, name: str = "", contact_values: Iterable[str] = (), exclude_pk: int | None = None
) -> list[dict[str, Any]]:
    """Likely duplicates as the form shows them: those the user may not open come without a link."""
    warnings = []
    for customer, reasons in find_duplicates(name, contact_values, (), exclude_pk):
        warnings.append({"customer": customer, "reasons": reasons, "visible": can_see(user, customer)})
    return warnings


MERGE_CANDIDATES_LIMIT = 10


def merge_candidates(user: User, survivor: Customer, text: str) -> list[Customer]:
    """The customers the user could merge into `survivor`, found by a fragment of the name, a phone,
    an email or a contact person, or by the customer's number ("123" or "#123"): the first
    MERGE_CANDIDATES_LIMIT by name, with their owner."""
    text = text.strip()
    if not text:
        return []
    visible = Customer.objects.visible_to(user).exclude(pk=survivor.pk)
    found = search_customers(visible, text)
    number = text.lstrip("#")
    if number.isdigit() and len(number) <= 18:
        found = visible.filter(Q(pk__in=found.values("pk")) | Q(pk=int(number)))
    return list(found.select_related("owner").order_by("name", "id")[:MERGE_CANDIDATES_LIMIT])


def merge_preview(survivor: Customer, merged: Customer) -> list[dict[str, Any]]:
    """What a merge moves, side by side: for each kind of record linked to a customer, how many the
    survivor has and how many come over from the merged one (kinds neither has are left out), then
    the merged customer's contact methods the survivor already has (dropped, not copied)."""
    rows = []
    for relation in Customer._meta.related_objects:
        if not relation.one_to_many:
            continue
        model, name = relation.related_model, relation.field.name
        counts = dict(
            model._base_manager.filter(**{f"{name}__in": [survivor.pk, merged.pk]})
            .order_by()
            .values_list(name)
            .annotate(n=Count("pk"))
        )
        if counts:
            rows.append(
                {
                    "label": model._meta.verbose_name_plural,
                    "stays": counts.get(survivor.pk, 0),
                    "moves": counts.get(merged.pk, 0),
                }
            )
    return rows


def duplicate_contact_methods(survivor: Customer, merged: Customer) -> list[ContactMethod]:
    """The merged customer's contact methods the survivor already has: a merge drops them."""
    same = ContactMethod.objects.filter(customer=survivor, type=OuterRef("type"), value=OuterRef("value"))
    return list(merged.contact_methods.filter(Exists(same)))
