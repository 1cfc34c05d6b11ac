"""Every write to customers and what hangs off them. Each function takes the acting user."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from crm.models import field_max_length
from crm.roles import is_manager
from customers.models import ContactMethod, ContactPerson, Customer, Need, Tag
from customers.normalise import normalise_contact_value, normalise_email, normalise_phone

CUSTOMER_FIELDS = {
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
}


def can_edit_customer(user, customer):
    return is_manager(user) or customer.owner_id == user.pk


def _require_edit(user, customer):
    if not can_edit_customer(user, customer):
        raise PermissionDenied(_("You may not change this customer."))


def _require_manager(user):
    if not is_manager(user):
        raise PermissionDenied(_("Only managers may do this."))


def _clean_customer_fields(fields):
    unknown = set(fields) - CUSTOMER_FIELDS
    if unknown:
        raise TypeError(f"unknown customer fields: {sorted(unknown)}")
    cleaned = dict(fields)
    for key in ("name", "region", "address"):
        if key in cleaned:
            cleaned[key] = " ".join((cleaned[key] or "").split())
    return cleaned


def _validate_customer(customer):
    if customer.kind != Customer.Kind.PERSON:
        customer.gender, customer.birth_date = "", None
    customer.full_clean(exclude=["tags", "owner"], validate_constraints=False)


def _save_customer(customer):
    _validate_customer(customer)
    customer._change_reason = None  # not the reason of an earlier change to this instance
    customer.save()


def _new_customer(user, *, owner=None, contact_methods=(), **fields):
    """An unsaved customer and its unsaved contact methods, validated as create_customer saves them.

    Raises PermissionDenied for sales staff creating for someone else, and ValidationError keyed by
    field, or by contact_methods-<index> for the contact methods.
    """
    owner = owner or user
    if owner.pk != user.pk:
        _require_manager(user)
    customer = Customer(owner=owner, **_clean_customer_fields(fields))
    _validate_customer(customer)
    methods, errors = _new_contact_methods(customer, contact_methods)
    if errors:
        raise ValidationError(errors)
    return customer, methods


@transaction.atomic
def create_customer(user, *, owner=None, tags=(), contact_methods=(), **fields):
    """Create a customer owned by `owner` (default: the acting user) with its first contact methods.

    `contact_methods` is a sequence of dicts with type, value and optionally note and is_primary.
    """
    customer, methods = _new_customer(user, owner=owner, contact_methods=contact_methods, **fields)
    customer.save()
    if tags:
        customer.tags.add(*tags)
    ContactMethod.objects.bulk_create(methods)
    return customer


def bulk_create_customers(user, specs):
    """Create a customer for each spec, a dict of create_customer's keyword arguments, as it would.

    Returns, for each spec in order, the customer created or the ValidationError that refused it.
    Raises PermissionDenied, creating nothing, when a spec's owner is someone the user may not
    create customers for. The valid specs are inserted together; should the database refuse
    that (a constraint the validation does not see, or a concurrent change), they are created
    one by one instead, and the spec the database refuses is reported with its error.
    """
    results, valid = [], {}
    for index, spec in enumerate(specs):
        fields = dict(spec)
        tags = fields.pop("tags", ())
        try:
            customer, methods = _new_customer(user, **fields)
        except ValidationError as error:
            results.append(error)
        else:
            results.append(customer)
            valid[index] = (customer, methods, tags)
    # One savepoint, around the inserts, is all this needs inside a caller's transaction: the import
    # calls it for every few hundred rows of one transaction, and PostgreSQL slows down with many.
    with transaction.atomic(savepoint=False):
        if valid and connection.features.can_return_rows_from_bulk_insert:  # methods need the new ids
            try:
                with transaction.atomic():
                    _insert_customers(user, list(valid.values()))
                return results
            except IntegrityError:
                pass
        for index in valid:
            try:
                results[index] = create_customer(user, **specs[index])
            except IntegrityError as error:
                reason = str(error).splitlines()[0]
                results[index] = ValidationError(
                    _("The database refused this customer: %(error)s") % {"error": reason}
                )
    return results


def _insert_customers(user, new):
    """Insert validated customers, each (customer, methods, tags), with their history, tags and methods."""
    customers = Customer.objects.bulk_create([customer for customer, _methods, _tags in new])
    Customer.history.bulk_history_create(customers, default_user=user, default_change_reason=None)
    Through = Customer.tags.through
    Through.objects.bulk_create(
        [Through(customer_id=customer.pk, tag_id=tag.pk) for customer, _methods, tags in new for tag in tags],
        ignore_conflicts=True,
    )
    ContactMethod.objects.bulk_create([method for _customer, methods, _tags in new for method in methods])


def _normalised_value(method_type, value):
    try:
        return normalise_contact_value(method_type, value)
    except ValidationError as error:
        raise ValidationError({"value": error.messages}) from None


def _prepared_method(customer, *, type, value, note="", is_primary=False):
    value = _normalised_value(type, value)
    method = ContactMethod(
        customer=customer, type=type, value=value, note=note.strip(), is_primary=is_primary
    )
    method.full_clean(exclude=["customer"], validate_constraints=False)
    return method


def _new_contact_methods(customer, contact_methods):
    """A new customer's contact methods, validated and unsaved, as add_contact_method would leave them."""
    methods, errors, seen = [], {}, set()
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
def update_customer(user, customer, *, tags=None, **fields):
    _require_edit(user, customer)
    for name, value in _clean_customer_fields(fields).items():
        setattr(customer, name, value)
    _save_customer(customer)
    if tags is not None:
        customer.tags.set(tags)
    return customer


@transaction.atomic
def reassign_owner(user, customers, new_owner):
    """Give customers to another user (managers only); returns how many changed."""
    _require_manager(user)
    changed = [c for c in customers if c.owner_id != new_owner.pk]
    for customer in changed:
        customer.owner = new_owner
        customer.updated_at = timezone.now()
        customer._change_reason = _("Owner reassigned")
    bulk_update_with_history(
        changed,
        Customer,
        ["owner", "updated_at"],
        default_user=user,
        default_change_reason=_("Owner reassigned"),
    )
    return len(changed)


def clean_tag_name(tag_name):
    """A tag name as add_tag stores it; raises ValidationError when it cannot be one."""
    tag_name = " ".join((tag_name or "").split())
    if not tag_name:
        raise ValidationError({"tag": _("Enter a tag.")})
    if len(tag_name) > field_max_length(Tag, "name"):
        raise ValidationError({"tag": _("A tag has at most 50 characters.")})
    return tag_name


@transaction.atomic
def add_tag(user, customers, tag_name):
    """Tag customers (managers only); returns the tag."""
    _require_manager(user)
    tag_name = clean_tag_name(tag_name)
    tag = Tag.objects.filter(name__iexact=tag_name).first() or Tag.objects.create(name=tag_name)
    Through = Customer.tags.through
    Through.objects.bulk_create(
        [Through(customer_id=c.pk, tag_id=tag.pk) for c in customers], ignore_conflicts=True
    )
    return tag


def _make_primary(method):
    ContactMethod.objects.filter(customer_id=method.customer_id, type=method.type, is_primary=True).exclude(
        pk=method.pk
    ).update(is_primary=False)


def _check_method_unique(method):
    clash = ContactMethod.objects.filter(customer_id=method.customer_id, type=method.type, value=method.value)
    if clash.exclude(pk=method.pk).exists():
        raise ValidationError({"value": _("This customer already has this contact method.")})


@transaction.atomic
def add_contact_method(user, customer, *, type, value, note="", is_primary=False):
    _require_edit(user, customer)
    method = _prepared_method(customer, type=type, value=value, note=note, is_primary=is_primary)
    _check_method_unique(method)
    first_of_type = not ContactMethod.objects.filter(customer=customer, type=type).exists()
    method.is_primary = is_primary or first_of_type
    if method.is_primary:
        ContactMethod.objects.filter(customer=customer, type=type, is_primary=True).update(is_primary=False)
    method.save()
    touch_customer(customer)
    return method


@transaction.atomic
def update_contact_method(user, method, *, type, value, note="", is_primary=False):
    _require_edit(user, method.customer)
    value = _normalised_value(type, value)
    old_type, was_primary = method.type, method.is_primary
    method.type, method.value, method.note, method.is_primary = type, value, note.strip(), is_primary
    _check_method_unique(method)
    method.full_clean(validate_constraints=False)
    if is_primary:
        _make_primary(method)
    method.save()
    if was_primary and (old_type != type or not is_primary):
        _promote_next_primary(method.customer_id, old_type)
    touch_customer(method.customer)
    return method


@transaction.atomic
def remove_contact_method(user, method):
    _require_edit(user, method.customer)
    method.delete()
    if method.is_primary:
        _promote_next_primary(method.customer_id, method.type)
    touch_customer(method.customer)


def _promote_next_primary(customer_id, method_type):
    siblings = ContactMethod.objects.filter(customer_id=customer_id, type=method_type)
    if not siblings.filter(is_primary=True).exists():
        successor = siblings.order_by("id").first()
        if successor:
            successor.is_primary = True
            successor.save(update_fields=["is_primary"])


def _clean_person(fields):
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
def add_contact_person(user, customer, **fields):
    _require_edit(user, customer)
    person = ContactPerson(customer=customer, **_clean_person(fields))
    person.full_clean()
    person.save()
    touch_customer(customer)
    return person


@transaction.atomic
def update_contact_person(user, person, **fields):
    _require_edit(user, person.customer)
    for name, value in _clean_person(fields).items():
        setattr(person, name, value)
    person.full_clean()
    person.save()
    return person


@transaction.atomic
def remove_contact_person(user, person):
    _require_edit(user, person.customer)
    person.delete()


@transaction.atomic
def raise_need(
    user, customer, *, description, type=Need.Type.PRODUCT, priority=Need.Priority.NORMAL, raised_at=None
):
    _require_edit(user, customer)
    need = Need(
        customer=customer,
        type=type,
        description=(description or "").strip(),
        priority=priority,
        raised_at=raised_at or timezone.now(),
        raised_by=user,
    )
    need.full_clean()
    need.save()
    touch_customer(customer)
    return need


@transaction.atomic
def update_need(user, need, **fields):
    """Change a need; moving it to met or dropped stamps resolved_at, reopening clears it."""
    _require_edit(user, need.customer)
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


def resolve_need(user, need, status=Need.Status.MET):
    if status not in Need.CLOSED_STATUSES:
        raise ValidationError({"status": _("A need is resolved as met or dropped.")})
    return update_need(user, need, status=status)


def touch_customer(customer):
    """Contact details, needs and conversations are activity on the customer (the list's "last updated")."""
    Customer.objects.filter(pk=customer.pk).update(updated_at=timezone.now())


def _customer_foreign_keys():
    """Every one-to-many relation into Customer, including those later apps add (orders, …)."""
    for relation in Customer._meta.related_objects:
        if relation.one_to_many:
            yield relation


@transaction.atomic
def merge_customers(user, survivor, merged):
    """Move everything from `merged` onto `survivor`, then delete `merged`.

    Allowed to managers and to the owner of both. Contact methods the survivor already has are
    dropped; tags are united; both customers' history records the merge.
    """
    if survivor.pk == merged.pk:
        raise ValidationError(_("A customer cannot be merged into itself."))
    if not is_manager(user) and not (survivor.owner_id == merged.owner_id == user.pk):
        raise PermissionDenied(_("Only managers or the owner of both customers may merge them."))
    kept = set(ContactMethod.objects.filter(customer=survivor).values_list("type", "value"))
    primary_types = set(
        ContactMethod.objects.filter(customer=survivor, is_primary=True).values_list("type", flat=True)
    )
    for method in ContactMethod.objects.filter(customer=merged):
        if (method.type, method.value) in kept:
            method.delete()
        else:
            method.customer = survivor
            method.is_primary = method.is_primary and method.type not in primary_types
            primary_types |= {method.type} if method.is_primary else set()
            method.save()
    for relation in _customer_foreign_keys():
        if relation.related_model is not ContactMethod:
            relation.related_model._base_manager.filter(**{relation.field.name: merged}).update(
                **{relation.field.name: survivor}
            )
    survivor.tags.add(*merged.tags.all())
    reason = _("Merged customer #%(id)s “%(name)s” into this one") % {"id": merged.pk, "name": merged.name}
    survivor._change_reason = reason
    survivor.save()
    merged._change_reason = _("Merged into customer #%(id)s") % {"id": survivor.pk}
    merged.delete()
    return survivor
