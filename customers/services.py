"""Every write to customers and what hangs off them.

Each function takes its arguments by keyword, the acting user as `actor`; `None` is the system
(automation, commands, imports run by operations), which acts with managers' rights and is named by
no history row. Who may change a customer is decided in customers/access.py.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ForeignObjectRel
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from crm import bulk
from crm.access import require, require_manager
from crm.history import change_reason, set_history_context
from crm.models import field_max_length
from crm.validation import text_fields_valid
from customers.access import can_change_customer, require_change_customer
from customers.activity import refresh_last_activity
from customers.models import ContactMethod, ContactPerson, Customer, Need, Tag
from customers.normalise import normalise_contact_value, normalise_email, normalise_phone
from summaries.upkeep import count_customers, uncount_customers

CUSTOMER_FIELDS = {
    "name",
    "kind",
    "lifecycle_stage",
    "source",
    "industry",
    "size",
    "region",
    "address",
    "tax_number",
    "notes",
    "gender",
    "birth_date",
    "external_id",
}


def clean_name(text: str | None) -> str:
    """A name (or region, address, tax number, external id) as stored: one space between words."""
    return " ".join((text or "").split())


def clean_customer_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Customer fields as the services store them (spaces tidied); TypeError for unknown ones."""
    unknown = set(fields) - CUSTOMER_FIELDS
    if unknown:
        raise TypeError(f"unknown customer fields: {sorted(unknown)}")
    cleaned = dict(fields)
    for key in ("name", "region", "address", "tax_number", "external_id"):
        if key in cleaned:
            cleaned[key] = clean_name(cleaned[key])
    return cleaned


def _validate_customer(customer: Customer, given: Iterable[str] | None = None) -> None:
    """Validates the customer's fields, or only the required ones and those `given` (a new customer's
    others hold their defaults, which are valid: checking them again made a large import slow)."""
    if customer.kind != Customer.Kind.PERSON:
        customer.gender, customer.birth_date = "", None
    exclude = ["tags", "owner"]
    if given is not None:
        checked = set(given) | {field.name for field in Customer._meta.concrete_fields if not field.blank}
        exclude += [field.name for field in Customer._meta.concrete_fields if field.name not in checked]
    customer.full_clean(exclude=exclude, validate_constraints=False)


def _external_ids_taken(external_ids: Iterable[str], *, besides: Customer | None = None) -> set[str]:
    """Which of the (non-empty) external ids another customer than `besides` has, whoever can see it."""
    external_ids = {external_id for external_id in external_ids if external_id}
    if not external_ids:
        return set()
    taken = Customer.objects.filter(external_id__in=external_ids)
    if besides is not None and besides.pk:
        taken = taken.exclude(pk=besides.pk)
    return set(taken.values_list("external_id", flat=True))


EXTERNAL_ID_TAKEN = gettext_lazy("Another customer has this external id.")


def _save_customer(
    actor: User | None, customer: Customer, reason: str | None = None, *, external_id_changed: bool = False
) -> None:
    _validate_customer(customer)
    if external_id_changed and _external_ids_taken([customer.external_id], besides=customer):
        raise ValidationError({"external_id": EXTERNAL_ID_TAKEN})
    set_history_context(customer, user=actor, reason=reason)
    customer.save()


def mark_active(*, actor: User | None, customer: Customer, reason: str) -> bool:
    """A customer who buys is Active: at its first won deal or confirmed order (`reason`, a change
    reason code), a customer in any other lifecycle stage becomes Active, and its history says why.
    Runs inside the caller's transaction; True when the stage changed."""
    if customer.lifecycle_stage == Customer.Lifecycle.ACTIVE:
        return False
    customer.lifecycle_stage = Customer.Lifecycle.ACTIVE
    set_history_context(customer, user=actor, reason=change_reason(reason))
    customer.save(update_fields=["lifecycle_stage", "updated_at"])
    return True


def _new_customer(
    actor: User | None,
    *,
    owner: User | None = None,
    contact_methods: Sequence[Mapping[str, Any]] = (),
    **fields: Any,
) -> tuple[Customer, list[ContactMethod]]:
    """An unsaved customer and its unsaved contact methods, validated as create_customer saves them.

    Raises PermissionDenied for sales staff creating for someone else, and ValidationError keyed by
    field, or by contact_methods-<index> for the contact methods.
    """
    owner = owner or actor
    if owner is None:
        raise ValidationError({"owner": _("Choose who owns the customer.")})
    if actor is None or owner.pk != actor.pk:
        require_manager(actor)
    fields = clean_customer_fields(fields)
    customer = Customer(owner=owner, **fields)
    _validate_customer(customer, fields)
    methods, errors = _new_contact_methods(customer, contact_methods)
    if errors:
        raise ValidationError(errors)
    return customer, methods


@transaction.atomic
def create_customer(
    *,
    actor: User | None,
    owner: User | None = None,
    tags: Iterable[Tag] = (),
    contact_methods: Sequence[Mapping[str, Any]] = (),
    **fields: Any,
) -> Customer:
    """Create a customer owned by `owner` (default: the acting user) with its first contact methods.

    `contact_methods` is a sequence of dicts with type, value and optionally note and is_primary.
    The system (no actor) names the owner.
    """
    customer, methods = _new_customer(actor, owner=owner, contact_methods=contact_methods, **fields)
    if _external_ids_taken([customer.external_id]):
        raise ValidationError({"external_id": EXTERNAL_ID_TAKEN})
    set_history_context(customer, user=actor)
    customer.save()
    if tags:
        customer.tags.add(*tags)
    bulk_create_with_history(methods, ContactMethod, default_user=actor)
    return customer


@dataclass
class _NewCustomer:
    """A validated customer waiting to be inserted: its columns, its contact methods' and its tags."""

    row: dict[str, Any]
    methods: list[dict[str, Any]]
    tags: list[Tag]


def bulk_create_customers(
    *, actor: User | None, specs: Sequence[Mapping[str, Any]]
) -> list[Customer | ValidationError]:
    """Create a customer for each spec, a dict of create_customer's keyword arguments, as it would.

    Returns, for each spec in order, the customer created or the ValidationError that refused it.
    Raises PermissionDenied, creating nothing, when a spec's owner is someone the user may not
    create customers for. The valid specs are inserted together; should the database refuse
    that (a constraint the validation does not see, or a concurrent change), they are created
    one by one instead, and the spec the database refuses is reported with its error.
    """
    results: dict[int, Customer | ValidationError] = {}
    valid: dict[int, _NewCustomer] = {}
    for index, spec in enumerate(specs):
        try:
            valid[index] = _new_customer_rows(actor, spec)
        except ValidationError as error:
            results[index] = error
    taken = _external_ids_taken(new.row["external_id"] for new in valid.values())
    for index, new in list(valid.items()):
        if new.row["external_id"] in taken:
            results[index] = ValidationError({"external_id": EXTERNAL_ID_TAKEN})
            del valid[index]
        elif new.row["external_id"]:
            taken.add(new.row["external_id"])  # a later spec with the same one is refused
    # One savepoint, around the inserts, is all this needs inside a caller's transaction: the import
    # calls it for every few hundred rows of one transaction, and PostgreSQL slows down with many.
    with transaction.atomic(savepoint=False):
        inserted = False
        if valid and connection.features.can_return_rows_from_bulk_insert:  # methods need the new ids
            try:
                with transaction.atomic():
                    results.update(zip(valid, _insert_customers(actor, list(valid.values())), strict=True))
                inserted = True
            except IntegrityError:
                pass
        for index in [] if inserted else valid:
            try:
                results[index] = create_customer(actor=actor, **specs[index])
            except IntegrityError as error:
                reason = str(error).splitlines()[0]
                results[index] = ValidationError(
                    _("The database refused this customer: %(error)s") % {"error": reason}
                )
    return [results[index] for index in range(len(specs))]


def _new_customer_rows(actor: User | None, spec: Mapping[str, Any]) -> _NewCustomer:
    """A spec of bulk_create_customers validated as _new_customer does it, as rows to insert.

    Text fields and contact methods given by type and value are checked from their fields' rules
    (crm/validation.py); whatever those cannot vouch for goes through _new_customer, which raises
    the ValidationError that says why, or builds the instances the rows are then read from.
    """
    fields = dict(spec)
    tags = list(fields.pop("tags", ()))
    new = _checked_rows(actor, **fields)
    if new is None:
        customer, methods = _new_customer(actor, **fields)
        new = _NewCustomer(_columns(customer), [_columns(method) for method in methods], [])
    new.tags = tags
    return new


def _checked_rows(
    actor: User | None,
    *,
    owner: User | None = None,
    contact_methods: Sequence[Mapping[str, Any]] = (),
    **fields: Any,
) -> _NewCustomer | None:
    """_new_customer's checks on rows instead of instances, or None when they cannot vouch for them."""
    owner = owner or actor
    if owner is None:
        return None
    if actor is None or owner.pk != actor.pk:
        require_manager(actor)
    fields = clean_customer_fields(fields)
    if fields.get("kind", Customer._meta.get_field("kind").get_default()) != Customer.Kind.PERSON:
        fields.pop("gender", None)  # a person's fields only
        fields.pop("birth_date", None)
    if not text_fields_valid(Customer, fields):
        return None
    methods: list[dict[str, Any]] = []
    for method in contact_methods:
        if set(method) != {"type", "value"}:  # a note or a primary flag: the instances decide
            return None
        try:
            value = normalise_contact_value(method["type"], method["value"])
        except ValidationError:
            return None
        row = {"type": method["type"], "value": value}
        if row in methods or not text_fields_valid(ContactMethod, row):
            return None
        methods.append(row)
    types: set[str] = set()
    for method in methods:  # the first of each type is its primary, as _new_contact_methods decides
        method["is_primary"] = method["type"] not in types
        types.add(method["type"])
    return _NewCustomer({"owner_id": owner.pk, "external_id": "", **fields}, methods, [])


def _columns(instance: Customer | ContactMethod) -> dict[str, Any]:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def _insert_customers(actor: User | None, new: list[_NewCustomer]) -> list[Customer]:
    """Insert validated customers with their history, tags and contact methods (with theirs)."""
    rows = bulk.insert(Customer, [customer.row for customer in new])
    bulk.insert_history(Customer, rows, user=actor)
    Through = Customer.tags.through
    Through.objects.bulk_create(
        [Through(customer_id=customer.row["id"], tag_id=tag.pk) for customer in new for tag in customer.tags],
        ignore_conflicts=True,
    )
    for customer in new:
        for method in customer.methods:
            method["customer_id"] = customer.row["id"]
    methods = bulk.insert(ContactMethod, [method for customer in new for method in customer.methods])
    bulk.insert_history(ContactMethod, methods, user=actor)
    return bulk.instances(Customer, rows)


def _normalised_value(method_type: str, value: str) -> str:
    try:
        return normalise_contact_value(method_type, value)
    except ValidationError as error:
        raise ValidationError({"value": error.messages}) from None


def _prepared_method(
    customer: Customer, *, type: str, value: str, note: str = "", is_primary: bool = False
) -> ContactMethod:
    value = _normalised_value(type, value)
    method = ContactMethod(
        customer=customer, type=type, value=value, note=note.strip(), is_primary=is_primary
    )
    method.full_clean(exclude=["customer"], validate_constraints=False)
    return method


def _new_contact_methods(
    customer: Customer, contact_methods: Sequence[Mapping[str, Any]]
) -> tuple[list[ContactMethod], dict[str, list[str]]]:
    """A new customer's contact methods, validated and unsaved, as add_contact_method would leave them."""
    methods: list[ContactMethod] = []
    errors: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for index, fields in enumerate(contact_methods):
        try:
            method = _prepared_method(customer, **fields)
            if (method.type, method.value) in seen:
                raise ValidationError({"value": _("This customer already has this contact method.")})
        except ValidationError as error:
            errors[f"contact_methods-{index}"] = error.messages
            continue
        seen.add((method.type, method.value))
        methods.append(method)
    for method_type in {method.type for method in methods}:
        of_type = [method for method in methods if method.type == method_type]
        flagged = [method for method in of_type if method.is_primary]
        primary = flagged[-1] if flagged else of_type[0]
        for method in of_type:
            method.is_primary = method is primary
    return methods, errors


@transaction.atomic
def update_customer(
    *, actor: User | None, customer: Customer, tags: Iterable[Tag] | None = None, **fields: Any
) -> Customer:
    """Change a customer's fields and, when `tags` is given, its tags: the history names the tags
    added and removed."""
    require_change_customer(actor, customer)
    old_external_id = customer.external_id
    for name, value in clean_customer_fields(fields).items():
        setattr(customer, name, value)
    reason = None
    if tags is not None:
        tags = list(tags)
        old, new = set(customer.tags.values_list("name", flat=True)), {tag.name for tag in tags}
        if old != new:
            reason = change_reason(
                "tags_changed", tags_added=sorted(new - old), tags_removed=sorted(old - new)
            )
    _save_customer(actor, customer, reason, external_id_changed=customer.external_id != old_external_id)
    if tags is not None:
        customer.tags.set(tags)
    return customer


@transaction.atomic
def reassign_owner(*, actor: User | None, customers: Iterable[Customer], new_owner: User) -> int:
    """Give customers to another user (managers only); returns how many changed."""
    require_manager(actor)
    changed = [c for c in customers if c.owner_id != new_owner.pk]
    uncount_customers(c.pk for c in changed)
    for customer in changed:
        customer.owner = new_owner
        customer.updated_at = timezone.now()
        set_history_context(customer, user=actor, reason=change_reason("owner_reassigned"))
    bulk_update_with_history(changed, Customer, ["owner", "updated_at"], default_user=actor)
    count_customers(c.pk for c in changed)
    return len(changed)


def clean_tag_name(tag_name: str) -> str:
    """A tag name as add_tag stores it; raises ValidationError when it cannot be one."""
    tag_name = " ".join((tag_name or "").split())
    if not tag_name:
        raise ValidationError({"tag": _("Enter a tag.")})
    if len(tag_name) > field_max_length(Tag, "name"):
        raise ValidationError({"tag": _("A tag has at most 50 characters.")})
    return tag_name


@transaction.atomic
def add_tag(*, actor: User | None, customers: Iterable[Customer], tag_name: str) -> Tag:
    """Tag customers (managers only); returns the tag."""
    require_manager(actor)
    tag_name = clean_tag_name(tag_name)
    tag = Tag.objects.filter(name__iexact=tag_name).first() or Tag.objects.create(name=tag_name)
    Through = Customer.tags.through
    customers = list(customers)
    tagged = set(
        Through.objects.filter(tag=tag, customer_id__in=[c.pk for c in customers]).values_list(
            "customer_id", flat=True
        )
    )
    untagged = [customer for customer in customers if customer.pk not in tagged]
    Through.objects.bulk_create(
        [Through(customer_id=c.pk, tag_id=tag.pk) for c in untagged], ignore_conflicts=True
    )
    Customer.history.bulk_history_create(
        untagged,
        update=True,
        default_user=actor,
        default_change_reason=change_reason("tags_changed", tags_added=[tag.name]),
    )
    return tag


def _named_tag(tag: Tag, name: str) -> Tag:
    """`tag` renamed to `name`, validated: a tag name is unique whatever its case."""
    try:
        tag.name = clean_tag_name(name)
    except ValidationError as error:
        raise ValidationError({"name": error.messages}) from None
    if Tag.objects.filter(name__iexact=tag.name).exclude(pk=tag.pk).exists():
        raise ValidationError({"name": _("There is already a tag “%(tag)s”.") % {"tag": tag.name}})
    tag.save()
    return tag


@transaction.atomic
def create_tag(*, actor: User | None, name: str) -> Tag:
    """A new tag (managers only)."""
    require_manager(actor)
    return _named_tag(Tag(), name)


@transaction.atomic
def rename_tag(*, actor: User | None, tag: Tag, name: str) -> Tag:
    """Rename a tag (managers only); its customers keep it."""
    require_manager(actor)
    return _named_tag(tag, name)


def _demote_primary(actor: User | None, method: ContactMethod) -> None:
    """The customer's other primary method of the method's type is primary no more (with its history)."""
    others = ContactMethod.objects.filter(
        customer_id=method.customer_id, type=method.type, is_primary=True
    ).exclude(pk=method.pk)
    demoted = list(others)
    for other in demoted:
        other.is_primary = False
    if demoted:
        bulk_update_with_history(demoted, ContactMethod, ["is_primary"], default_user=actor)


def _check_method_unique(method: ContactMethod) -> None:
    clash = ContactMethod.objects.filter(customer_id=method.customer_id, type=method.type, value=method.value)
    if clash.exclude(pk=method.pk).exists():
        raise ValidationError({"value": _("This customer already has this contact method.")})


@transaction.atomic
def add_contact_method(
    *,
    actor: User | None,
    customer: Customer,
    type: str,
    value: str,
    note: str = "",
    is_primary: bool = False,
) -> ContactMethod:
    require_change_customer(actor, customer)
    method = _prepared_method(customer, type=type, value=value, note=note, is_primary=is_primary)
    _check_method_unique(method)
    first_of_type = not ContactMethod.objects.filter(customer=customer, type=type).exists()
    method.is_primary = is_primary or first_of_type
    if method.is_primary:
        _demote_primary(actor, method)
    set_history_context(method, user=actor)
    method.save()
    touch_customer(customer)
    return method


@transaction.atomic
def update_contact_method(
    *,
    actor: User | None,
    method: ContactMethod,
    type: str,
    value: str,
    note: str = "",
    is_primary: bool = False,
) -> ContactMethod:
    require_change_customer(actor, method.customer)
    value = _normalised_value(type, value)
    old_type, was_primary = method.type, method.is_primary
    method.type, method.value, method.note, method.is_primary = type, value, note.strip(), is_primary
    _check_method_unique(method)
    method.full_clean(validate_constraints=False)
    if is_primary:
        _demote_primary(actor, method)
    set_history_context(method, user=actor)
    method.save()
    if was_primary and (old_type != type or not is_primary):
        _promote_next_primary(actor, method.customer_id, old_type)
    touch_customer(method.customer)
    return method


@transaction.atomic
def remove_contact_method(*, actor: User | None, method: ContactMethod) -> None:
    require_change_customer(actor, method.customer)
    set_history_context(method, user=actor)
    method.delete()
    if method.is_primary:
        _promote_next_primary(actor, method.customer_id, method.type)
    touch_customer(method.customer)


def _promote_next_primary(actor: User | None, customer_id: int, method_type: str) -> None:
    siblings = ContactMethod.objects.filter(customer_id=customer_id, type=method_type)
    if not siblings.filter(is_primary=True).exists():
        successor = siblings.order_by("id").first()
        if successor:
            successor.is_primary = True
            set_history_context(successor, user=actor)
            successor.save(update_fields=["is_primary"])


def _clean_person(fields: Mapping[str, Any]) -> dict[str, str]:
    cleaned = {key: " ".join((fields.get(key) or "").split()) for key in ("name", "title", "phone", "email")}
    errors = {}
    if cleaned["phone"]:
        try:
            cleaned["phone"] = normalise_phone(cleaned["phone"])
        except ValidationError as error:
            errors["phone"] = error.messages
    if cleaned["email"]:
        try:
            cleaned["email"] = normalise_email(cleaned["email"])
        except ValidationError as error:
            errors["email"] = error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def add_contact_person(*, actor: User | None, customer: Customer, **fields: Any) -> ContactPerson:
    require_change_customer(actor, customer)
    person = ContactPerson(customer=customer, **_clean_person(fields))
    person.full_clean()
    set_history_context(person, user=actor)
    person.save()
    touch_customer(customer)
    return person


@transaction.atomic
def update_contact_person(*, actor: User | None, person: ContactPerson, **fields: Any) -> ContactPerson:
    require_change_customer(actor, person.customer)
    for name, value in _clean_person(fields).items():
        setattr(person, name, value)
    person.full_clean()
    set_history_context(person, user=actor)
    person.save()
    return person


@transaction.atomic
def remove_contact_person(*, actor: User | None, person: ContactPerson) -> None:
    require_change_customer(actor, person.customer)
    set_history_context(person, user=actor)
    person.delete()


@transaction.atomic
def raise_need(
    *,
    actor: User | None,
    customer: Customer,
    description: str,
    type: str = Need.Type.PRODUCT,
    priority: str = Need.Priority.NORMAL,
    raised_at: datetime | None = None,
) -> Need:
    require_change_customer(actor, customer)
    need = Need(
        customer=customer,
        type=type,
        description=(description or "").strip(),
        priority=priority,
        raised_at=raised_at or timezone.now(),
        raised_by=actor,
    )
    need.full_clean()
    need.save()
    touch_customer(customer)
    return need


@transaction.atomic
def update_need(*, actor: User | None, need: Need, **fields: Any) -> Need:
    """Change a need; moving it to met or dropped stamps resolved_at, reopening clears it."""
    require_change_customer(actor, need.customer)
    if "description" in fields:
        fields["description"] = (fields["description"] or "").strip()
    for name in ("type", "description", "priority", "status"):
        if name in fields:
            setattr(need, name, fields[name])
    if need.status in Need.CLOSED_STATUSES:
        need.resolved_at = need.resolved_at or timezone.now()
    else:
        need.resolved_at = None
    need.full_clean()
    need.save()
    return need


def resolve_need(*, actor: User | None, need: Need, status: str = Need.Status.MET) -> Need:
    if status not in Need.CLOSED_STATUSES:
        raise ValidationError({"status": _("A need is resolved as met or dropped.")})
    return update_need(actor=actor, need=need, status=status)


def touch_customer(customer: Customer) -> None:
    """Contact details, needs and conversations are activity on the customer (the list's "last updated")."""
    Customer.objects.filter(pk=customer.pk).update(updated_at=timezone.now())


def _move_records(
    actor: User | None, relation: ForeignObjectRel, merged: Customer, survivor: Customer, reason: str
) -> None:
    """Moves the records of one relation from `merged` to `survivor` in one UPDATE; a model with a
    history records the move of each (who, when, from which customer to which) in one INSERT."""
    field = relation.field
    records = relation.related_model._base_manager.filter(**{field.name: merged})
    history = getattr(relation.related_model, "history", None)
    if history is None:
        records.update(**{field.name: survivor})
        return
    moving = list(records)
    records.update(**{field.name: survivor})
    for record in moving:
        setattr(record, field.attname, survivor.pk)
    history.bulk_history_create(moving, update=True, default_user=actor, default_change_reason=reason)


def _customer_foreign_keys() -> Iterator[ForeignObjectRel]:
    """Every one-to-many relation into Customer, including those later apps add (orders, …)."""
    for relation in Customer._meta.related_objects:
        if relation.one_to_many:
            yield relation


@transaction.atomic
def merge_customers(*, actor: User | None, survivor: Customer, merged: Customer) -> Customer:
    """Move everything from `merged` onto `survivor`, then delete `merged`.

    Allowed to managers and to the owner of both. Contact methods the survivor already has are
    dropped; tags are united; both customers' history records the merge.
    """
    if survivor.pk == merged.pk:
        raise ValidationError(_("A customer cannot be merged into itself."))
    require(
        can_change_customer(actor, survivor) and can_change_customer(actor, merged),
        _("Only managers or the owner of both customers may merge them."),
    )
    moved = change_reason("moved_by_merge", customer=merged.pk, name=merged.name)
    uncount_customers([survivor.pk, merged.pk])
    kept = set(ContactMethod.objects.filter(customer=survivor).values_list("type", "value"))
    primary_types = set(
        ContactMethod.objects.filter(customer=survivor, is_primary=True).values_list("type", flat=True)
    )
    for method in ContactMethod.objects.filter(customer=merged):
        set_history_context(method, user=actor, reason=moved)
        if (method.type, method.value) in kept:
            method.delete()
        else:
            method.customer = survivor
            method.is_primary = method.is_primary and method.type not in primary_types
            primary_types |= {method.type} if method.is_primary else set()
            method.save()
    for relation in _customer_foreign_keys():
        if relation.related_model is not ContactMethod:
            _move_records(actor, relation, merged, survivor, moved)
    added = merged.tags.exclude(pk__in=survivor.tags.values("pk"))
    added_names = sorted(added.values_list("name", flat=True))
    survivor.tags.add(*added)
    reason = {"customer": merged.pk, "name": merged.name}
    if added_names:
        reason["tags_added"] = added_names
    _save_customer(actor, survivor, change_reason("merged_from", **reason))
    set_history_context(merged, user=actor, reason=change_reason("merged_into", customer=survivor.pk))
    merged.delete()
    count_customers([survivor.pk])
    refresh_last_activity(Customer.objects.filter(pk=survivor.pk))
    return survivor
