"""Customer import from CSV and XLSX files: read, map the columns, run each row through the services.

The first row of the file names the columns; each column maps to one import field (or none).
Every row goes through the customer services, so it is normalised and validated exactly as
the forms do it. How a row is applied:

- It updates an existing customer the importing user may see: the one with its external id (the
  customer's id in the system the file comes from); else one whose phone, mobile or email values,
  normalised, include one of the row's; else, when the row gives no phone, mobile, email or
  external id, the one with exactly its name. A row that matches several customers is rejected.
  The update sets the fields whose cells are filled (an empty cell never clears anything) and adds
  the contact methods and tags the customer lacks.
- Otherwise it creates a customer, owned by the importing user unless the owner column names
  someone else, which only managers (and the system) may do. An import run by the system (a command
  without --user) takes the owner from the owner column.

Choice columns (kind, stage, source, industry, size) take the stored value or the label in either
language; any other value rejects the row with the allowed values.

The whole file runs in one transaction, CHUNK_SIZE rows at a time. Before anything is written, one
query for each way of matching (external id, contact values, name) finds the customers a chunk's
rows match. Rows that create customers are validated and inserted together (with COPY on
PostgreSQL) by services.bulk_create_customers; rows that update a customer go through the services
one by one, each in a savepoint. Either way a rejected row leaves nothing behind and never stops
the others. Each row sees the rows before it as if they had run one by one, by the match keys
those rows claimed: when a row shares a phone number or email with rows still waiting to be
created, those are created first, and the row updates its customer (a customer an earlier row
renamed is still found by its former name). The tags that rows add are created at the end of
their chunk, for the rows saved.

A dry run is the same run rolled back at the end: its verdict is what the real run does, including
rows that depend on earlier rows of the same file (two rows with one phone number: the first
creates, the second updates).

Reading the file and mapping its columns is shared with the other importers (crm/importing.py).
"""

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.db.models import prefetch_related_objects
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from crm.access import acts_as_manager
from crm.importing import (
    Action,
    Change,
    ChoiceLookup,
    Columns,
    ImportField,
    ImportReport,
    RowRejected,
    RowResult,
    Table,
    full_collections_deferred,
    require_columns,
)
from crm.models import model_field
from customers import services
from customers.models import ContactMethod, Customer, Tag
from customers.normalise import normalise_contact_value, remembering_values

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CONTACT_KEYS = ("phone", "mobile", "email", "wechat", "qq")
MATCH_KEYS = ("phone", "mobile", "email")
CHOICE_KEYS = ("kind", "lifecycle_stage", "source", "industry", "size")
TAG_SEPARATORS = re.compile(r"[,，、;；]")
CHUNK_SIZE = 500  # rows whose new customers are validated and inserted together


def _customer_field(key, *aliases):
    return ImportField(key, capfirst(model_field(Customer, key).verbose_name), aliases)


def _contact_field(key, *aliases):
    return ImportField(key, ContactMethod.Type(key).label, aliases)


# Header names recognised besides each field's key and its label in every language.
IMPORT_FIELDS = (
    _customer_field(
        "name", "customer", "customer name", "company", "名称", "客户名称", "客户", "公司名称", "姓名"
    ),
    _customer_field("kind", "type", "类型", "客户类型"),
    _customer_field("lifecycle_stage", "stage", "lifecycle", "阶段", "客户阶段", "生命周期"),
    _customer_field("source", "来源", "客户来源"),
    _customer_field("industry", "行业"),
    _customer_field("size", "company size", "规模", "公司规模"),
    _customer_field("region", "province", "city", "地区", "区域", "省份", "城市"),
    _customer_field("address", "地址"),
    _customer_field("notes", "note", "remarks", "备注", "说明"),
    _customer_field("owner", "负责人", "所有者"),
    _customer_field("external_id", "id", "external id", "外部编号", "外部id", "客户编号", "客户id"),
    _customer_field("tags", "tag", "标签"),
    _contact_field("phone", "telephone", "tel", "电话", "电话号码", "座机"),
    _contact_field("mobile", "mobile phone", "cell", "手机", "手机号", "手机号码"),
    _contact_field("email", "e-mail", "mail", "邮箱", "电子邮件", "电子邮箱"),
    _contact_field("wechat", "weixin", "微信", "微信号"),
    _contact_field("qq", "qq号"),
)
COLUMNS = Columns(IMPORT_FIELDS)


# Running


def run_import(*, actor: User | None, table: Table, mapping: Sequence[str], commit: bool) -> ImportReport:
    """Apply every row as `actor` (see the module docstring); without `commit`, roll it all back."""
    COLUMNS.check(mapping)
    # A row finds its customer by a phone, mobile or e-mail, or creates one, which needs a name.
    require_columns(COLUMNS, table.headers, mapping, [("name", "phone", "mobile", "email")])
    importer = _Importer(actor, table, mapping)
    with transaction.atomic(), remembering_values(), full_collections_deferred():
        results = importer.run(table.rows)
        if not commit:
            transaction.set_rollback(True)
    return ImportReport(results, committed=commit)


@dataclass
class _Prepared:
    """A row read into field values, with what it needs that the database does not decide."""

    position: int  # in the file
    number: int
    values: dict[str, str]
    keys: set  # what matches it to a customer: see _match_keys
    external_key: tuple[str, str] | None = None
    owner: models.Model | None = None
    known_tags: list[Tag] = field(default_factory=list)
    new_tags: list[str] = field(default_factory=list)  # names of tags to add


@dataclass
class _Pending:
    """A row that creates a customer, waiting to be inserted with the others of its chunk."""

    row: _Prepared
    spec: dict


class _Importer:
    """Turns rows into service calls, with what every row needs looked up once per file.

    Rows that create customers wait in `pending` until the chunk ends or a later row shares a
    phone number or email with one of them; then they are created together. `matches` holds the
    customers the file's match keys found before anything was written; `claimed` maps the match
    keys of the rows applied so far to their customer's id, or to the _Pending of a row not yet
    inserted, so that later rows see them as they would one by one.
    """

    def __init__(self, actor, table, mapping):
        self.actor = actor
        self.is_manager = acts_as_manager(actor)
        self.columns = [(index, key) for index, key in enumerate(mapping) if key]
        self.owners = _owners_by_username(table, mapping)
        self.tags = {tag.name.lower(): tag for tag in Tag.objects.all()}
        self.choices = {key: ChoiceLookup.of_field(model_field(Customer, key)) for key in CHOICE_KEYS}

    def run(self, rows):
        """Every row's result. All lookups run before anything is written, a chunk's rows at a time:
        the tables then hold what the planner's statistics describe (the rows a transaction writes
        are not counted until it commits, and a lookup planned as if they were not there would read
        them all, chunk after chunk), and a row finds the customers earlier rows of the file created
        or changed by what those rows claimed."""
        self.results: list[RowResult | None] = [None] * len(rows)
        self.claimed = {}
        self.matches: defaultdict[str | tuple[str, str], set[int]] = defaultdict(set)
        chunks = []
        for start in range(0, len(rows), CHUNK_SIZE):
            chunk = enumerate(rows[start : start + CHUNK_SIZE], start=start)
            prepared = [prepared for prepared in map(self._prepare, chunk) if prepared]
            for key, customer_ids in self._stored_matches(prepared).items():
                self.matches[key] |= customer_ids
            chunks.append(prepared)
        for prepared in chunks:
            self._import_chunk(prepared)
        return self.results

    def _prepare(self, numbered_row):
        """The row read into values, or None when it is rejected for what it says alone."""
        position, row = numbered_row
        values = {key: row.cells[index] for index, key in self.columns if row.cells[index]}
        prepared = _Prepared(position, row.number, values, _match_keys(values))
        if values.get("external_id"):
            prepared.external_key = ("external_id", services.clean_name(values["external_id"]))
        try:
            self._choices(values)
            prepared.owner = self._owner(values.get("owner"))
            prepared.known_tags, prepared.new_tags = self._tags(values)
        except RowRejected as rejection:
            self._reject(prepared, rejection.messages)
            return None
        return prepared

    def _import_chunk(self, prepared):
        self.pending, self.new_tags = [], {}
        keys = set().union(*(row.keys | {row.external_key} for row in prepared))
        self.customers = self._customers(set().union(*(self.matches.get(key, ()) for key in keys)))
        for row in prepared:
            self._import_row(row)
        self._flush()
        self._add_new_tags()

    def _stored_matches(self, prepared):
        """Customer ids the user may see by each match key of the rows (one query for each kind)."""
        matches: defaultdict[str | tuple[str, str], set[int]] = defaultdict(set)
        keys = set().union(*(row.keys for row in prepared))
        values = {key for key in keys if isinstance(key, str)}
        if values:
            methods = ContactMethod.objects.visible_to(self.actor).filter(
                type__in=MATCH_KEYS, value__any=values
            )
            for value, customer_id in methods.order_by().values_list("value", "customer_id"):
                matches[value].add(customer_id)
        visible = Customer.objects.visible_to(self.actor)
        external_ids = {row.external_key[1] for row in prepared if row.external_key}
        if external_ids:
            found = visible.filter(external_id__any=external_ids).exclude(external_id="")
            for external_id, customer_id in found.order_by().values_list("external_id", "id"):
                matches["external_id", external_id].add(customer_id)
        names = {key[1] for key in keys if isinstance(key, tuple)}
        if names:
            for name, customer_id in visible.filter(name__any=names).order_by().values_list("name", "id"):
                matches["name", name].add(customer_id)
        return matches

    def _customers(self, ids):
        """{id: (customer, identities of its contact methods)} for the customers rows update."""
        customers: dict[int, tuple[Customer, set[tuple[str, str]]]] = {
            customer.pk: (customer, set()) for customer in Customer.objects.filter(pk__any=ids)
        }
        prefetch_related_objects([customer for customer, _identities in customers.values()], "tags")
        methods = ContactMethod.objects.filter(customer_id__in=ids).values_list(
            "customer_id", "type", "value"
        )
        for customer_id, method_type, value in methods:
            customers[customer_id][1].add(_method_identity(method_type, value))
        return customers

    def _import_row(self, row):
        matches = self.matches
        external = row.external_key
        # Its external id, when a customer has it, decides alone; else its contact values (or name).
        keys = {external} if external and (external in matches or external in self.claimed) else row.keys
        if any(isinstance(self.claimed.get(key), _Pending) for key in keys):
            self._flush()  # this row updates a customer an earlier row creates
        customer_ids = set().union(*(matches.get(key, ()) for key in keys))
        customer_ids |= {self.claimed[key] for key in keys if key in self.claimed}
        if len(customer_ids) > 1:
            numbers = ", ".join(f"#{pk}" for pk in sorted(customer_ids))
            if any(isinstance(key, str) for key in keys):
                message = _(
                    "Its phone numbers and email match several customers (%(numbers)s): "
                    "merge them or correct the row."
                )
            else:
                message = _(
                    "Its name matches several customers (%(numbers)s): give a phone number, email "
                    "or external id to say which."
                )
            self._reject(row, [message % {"numbers": numbers}])
        elif customer_ids:
            self._update_row(row, customer_ids.pop())
        else:
            pending = _Pending(row, self._create_spec(row))
            self.pending.append(pending)
            self.claimed.update(dict.fromkeys(self._claims(row), pending))

    def _update_row(self, row, customer_id):
        if customer_id not in self.customers:  # created by this import, or dropped below
            self.customers |= self._customers({customer_id})
        customer, identities = self.customers[customer_id]
        try:
            with transaction.atomic():
                changes = self._update(customer, identities, row)
        except RowRejected as rejection:
            del self.customers[customer_id]  # it may hold changes the savepoint rolled back
            self._reject(row, rejection.messages)
        else:
            self._accept(row, Action.UPDATE, customer, changes)

    def _flush(self):
        """Create the customers of the pending rows."""
        if not self.pending:
            return
        results = services.bulk_create_customers(
            actor=self.actor, specs=[pending.spec for pending in self.pending]
        )
        for pending, result in zip(self.pending, results, strict=True):
            if isinstance(result, ValidationError):
                contact_keys = [method["type"] for method in pending.spec["contact_methods"]]
                self._reject(pending.row, _messages(result, contact_keys))
                for key in self._claims(pending.row):
                    if self.claimed.get(key) is pending:
                        del self.claimed[key]
            else:
                self._accept(pending.row, Action.CREATE, result)
        self.pending = []

    def _accept(self, row, action, customer, changes=()):
        self.results[row.position] = RowResult(
            row.number, action, customer.name, customer.pk, changes=list(changes)
        )
        self.claimed.update(dict.fromkeys(self._claims(row, customer), customer.pk))
        for name in row.new_tags:
            self.new_tags.setdefault(name.lower(), (name, []))[1].append(customer)

    def _claims(self, row, customer=None):
        """The match keys by which later rows find the customer the row creates or updates."""
        name = customer.name if customer else services.clean_name(row.values.get("name", ""))
        claims = {key for key in row.keys if isinstance(key, str)} | ({("name", name)} if name else set())
        return claims | ({row.external_key} if row.external_key else set())

    def _choices(self, values):
        """Choice cells as the values they name (by value or label in any language)."""
        for key in CHOICE_KEYS:
            if key in values:
                values[key] = self.choices[key].cell(COLUMNS, key, values[key])

    def _reject(self, row, messages):
        self.results[row.position] = RowResult(
            row.number, Action.REJECT, row.values.get("name", ""), errors=messages
        )

    def _add_new_tags(self):
        """Create the tags the chunk's saved rows name that did not exist, and tag their customers."""
        for name, customers in self.new_tags.values():
            tag = services.add_tag(actor=self.actor, customers=customers, tag_name=name)
            self.tags[tag.name.lower()] = tag

    def _owner(self, username):
        if not username:
            return None
        owner = self.owners.get(username)
        if owner is None:
            message = _("There is no active user “%(username)s”.") % {"username": username}
            raise RowRejected(COLUMNS.message("owner", message))
        if not self.is_manager and owner.pk != self.actor.pk:
            raise RowRejected(
                COLUMNS.message("owner", _("Only managers may import customers for someone else."))
            )
        return owner

    def _tags(self, values):
        """The row's tags that exist, and the names of those it adds (only managers may)."""
        known, new = [], []
        for name in _tag_names(values):
            if name.lower() in self.tags:
                known.append(self.tags[name.lower()])
            elif not self.is_manager:
                raise RowRejected(
                    COLUMNS.message(
                        "tags",
                        _("There is no tag “%(tag)s”, and only managers may add tags.") % {"tag": name},
                    )
                )
            else:
                try:
                    new.append(services.clean_tag_name(name))
                except ValidationError as error:
                    raise RowRejected(*(COLUMNS.message("tags", text) for text in error.messages)) from None
        return known, new

    def _create_spec(self, row):
        methods = [{"type": key, "value": row.values[key]} for key in CONTACT_KEYS if key in row.values]
        return {
            "owner": row.owner,
            "tags": row.known_tags,
            "contact_methods": methods,
            **self._customer_fields(row.values),
        }

    def _update(self, customer, identities, row):
        """Applies the row to the customer it matched; returns what changed, field by field (what
        the dry run shows is what the real run writes: the same code runs, then rolls back)."""
        fields = {
            name: value
            for name, value in self._customer_fields(row.values).items()
            if getattr(customer, name) != value
        }
        changes = [_field_change(customer, name, value) for name, value in fields.items()]
        changes = [change for change in changes if change.old != change.new]
        current_tags = set(customer.tags.all()) if row.known_tags or row.new_tags else set()
        added_tags = set(row.known_tags) - current_tags
        new_names = [
            name for name in row.new_tags if name.lower() not in {t.name.lower() for t in current_tags}
        ]
        if added_tags or new_names:
            names = sorted(tag.name for tag in added_tags) + new_names
            changes.append(Change(capfirst(model_field(Customer, "tags").verbose_name), "", ", ".join(names)))
        if fields or added_tags:
            try:
                services.update_customer(
                    actor=self.actor,
                    customer=customer,
                    tags=(current_tags | added_tags) if added_tags else None,
                    **fields,
                )
            except ValidationError as error:
                raise RowRejected(*_messages(error)) from None
        if row.owner and row.owner.pk != customer.owner_id:
            old_owner = _person(customer.owner)
            services.reassign_owner(actor=self.actor, customers=[customer], new_owner=row.owner)
            changes.append(
                Change(capfirst(model_field(Customer, "owner").verbose_name), old_owner, _person(row.owner))
            )
        return changes + self._add_contact_methods(customer, identities, row.values)

    def _add_contact_methods(self, customer, identities, values):
        added = []
        for key in CONTACT_KEYS:
            if key not in values or _method_identity(key, _normalised(key, values[key])) in identities:
                continue
            try:
                method = services.add_contact_method(
                    actor=self.actor, customer=customer, type=key, value=values[key]
                )
            except ValidationError as error:
                raise RowRejected(*(COLUMNS.message(key, text) for text in error.messages)) from None
            identities.add(_method_identity(method.type, method.value))
            added.append(Change(method.get_type_display(), "", method.value))
        return added

    def _customer_fields(self, values):
        """The row's customer fields as the services store them, so that an update compares like with like."""
        fields = {name: value for name, value in values.items() if name in services.CUSTOMER_FIELDS}
        return services.clean_customer_fields(fields)


def _field_change(customer, name, value):
    """A customer field's change as the reader sees it: choices by their labels."""
    db_field = model_field(Customer, name)
    labels = dict(db_field.flatchoices) if db_field.choices else {}
    old = getattr(customer, name)
    return Change(
        capfirst(db_field.verbose_name),
        str(labels.get(old, old) if old not in (None, "") else ""),
        str(labels.get(value, value) if value not in (None, "") else ""),
    )


def _person(user):
    return user.get_full_name() or user.get_username()


def _owners_by_username(table, mapping):
    if "owner" not in mapping:
        return {}
    column = mapping.index("owner")
    usernames = {row.cells[column] for row in table.rows if row.cells[column]}
    users = get_user_model().objects.filter(is_active=True, username__in=usernames)
    return {user.username: user for user in users}


def _match_keys(values):
    """A row's phone, mobile and email values as stored; with none of them and no external id,
    ("name", its name as stored)."""
    if any(key in values for key in (*MATCH_KEYS, "external_id")):
        return {_normalised(key, values[key]) for key in MATCH_KEYS if key in values} - {None}
    name = services.clean_name(values.get("name", ""))
    return {("name", name)} if name else set()


def _tag_names(values):
    names = (" ".join(name.split()) for name in TAG_SEPARATORS.split(values.get("tags", "")))
    return list({name.lower(): name for name in names if name}.values())


def _normalised(key, value):
    """The stored form of a contact value, or None when it is invalid (the service will say why)."""
    try:
        return normalise_contact_value(key, value)
    except ValidationError:
        return None


def _method_identity(method_type, value):
    """A phone number is the same contact method whether it was filed as phone or as mobile."""
    return ("phone" if method_type in ContactMethod.PHONE_TYPES else method_type, value)


def _messages(error, contact_keys=()):
    """Messages of a service's ValidationError, each led by the import field it is about."""
    errors = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    messages: list[StrOrPromise] = []
    for key, texts in errors.items():
        if key.startswith("contact_methods-"):
            key = contact_keys[int(key.removeprefix("contact_methods-"))]
        messages.extend(COLUMNS.message(key, text) for text in texts)
    return messages
