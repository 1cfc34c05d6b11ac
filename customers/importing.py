"""Customer import from CSV and XLSX files: read, map the columns, run each row through the services.

The first row of the file names the columns; each column maps to one import field (or none).
Every row goes through the customer services, so it is normalised and validated exactly as
the forms do it. How a row is applied:

- It updates an existing customer when one of its phone, mobile or email values, normalised,
  is a phone, mobile or email of a customer the importing user may see (a row that matches
  several customers is rejected). The update sets the fields whose cells are filled (an empty
  cell never clears anything) and adds the contact methods and tags the customer lacks.
- Otherwise it creates a customer, owned by the importing user unless the owner column names
  someone else, which only managers may do.

The whole file runs in one transaction and every row in a savepoint of its own, so a rejected
row leaves nothing behind and never stops the others. A dry run is the same run rolled back at
the end: its verdict is what the real run does, including rows that depend on earlier rows of
the same file (two rows with one phone number: the first creates, the second updates).

CSV files are read as UTF-8 (with or without a BOM), else as GB18030; workbooks from their
first sheet.
"""

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field

import openpyxl
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.roles import is_manager
from customers import services
from customers.models import ContactMethod, Customer, Tag
from customers.normalise import normalise_contact_value

CONTACT_KEYS = ("phone", "mobile", "email", "wechat", "qq")
MATCH_KEYS = ("phone", "mobile", "email")
CHOICE_KEYS = ("kind", "lifecycle_stage", "source", "industry", "size")
TAG_SEPARATORS = re.compile(r"[,，、;；]")
XLSX_SIGNATURE = b"PK\x03\x04"


class ImportFileError(Exception):
    """The file cannot be read as a table; the message tells the user why."""


class MappingError(Exception):
    """The column mapping cannot be used; the message tells the user why."""


class RowRejected(Exception):
    def __init__(self, *messages):
        super().__init__(*messages)
        self.messages = list(messages)


@dataclass(frozen=True)
class ImportField:
    key: str
    label: str
    aliases: tuple[str, ...] = ()


def _customer_field(key, *aliases):
    return ImportField(key, capfirst(Customer._meta.get_field(key).verbose_name), aliases)


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
    _customer_field("tags", "tag", "标签"),
    _contact_field("phone", "telephone", "tel", "电话", "电话号码", "座机"),
    _contact_field("mobile", "mobile phone", "cell", "手机", "手机号", "手机号码"),
    _contact_field("email", "e-mail", "mail", "邮箱", "电子邮件", "电子邮箱"),
    _contact_field("wechat", "weixin", "微信", "微信号"),
    _contact_field("qq", "qq号"),
)
FIELDS_BY_KEY = {import_field.key: import_field for import_field in IMPORT_FIELDS}


class Action(models.TextChoices):
    CREATE = "create", gettext_lazy("Create")
    UPDATE = "update", gettext_lazy("Update")
    REJECT = "reject", gettext_lazy("Reject")


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    cells: list[str]


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[Row]


@dataclass
class RowResult:
    number: int
    action: Action
    name: str = ""
    customer_id: int | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[RowResult]
    committed: bool

    def _count(self, action):
        return sum(1 for row in self.rows if row.action == action)

    @property
    def created(self):
        return self._count(Action.CREATE)

    @property
    def updated(self):
        return self._count(Action.UPDATE)

    @property
    def rejected(self):
        return self._count(Action.REJECT)

    @property
    def rejected_rows(self):
        return [row for row in self.rows if row.action == Action.REJECT]

    @property
    def accepted_rows(self):
        return [row for row in self.rows if row.action != Action.REJECT]


# Reading


def read_table(data):
    """The table in a CSV or XLSX file's bytes; raises ImportFileError when it is neither."""
    records = _xlsx_records(data) if data.startswith(XLSX_SIGNATURE) else _csv_records(data)
    rows = [Row(number, [cell.strip() for cell in record]) for number, record in enumerate(records, start=1)]
    rows = [row for row in rows if any(row.cells)]
    if not rows:
        raise ImportFileError(_("The file is empty."))
    header, *rows = rows
    if not rows:
        raise ImportFileError(_("The file has a header row but no rows below it."))
    width = len(header.cells)
    return Table(header.cells, [Row(row.number, (row.cells + [""] * width)[:width]) for row in rows])


def _not_a_table():
    return ImportFileError(_("This is neither a CSV file (UTF-8 or GB18030) nor an Excel .xlsx workbook."))


def _csv_records(data):
    if b"\x00" in data:  # binary, or UTF-16 text, which Excel writes as "Unicode text"
        raise _not_a_table()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise _not_a_table() from None
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise ImportFileError(_("The CSV file cannot be read: %(error)s") % {"error": error}) from None


def _xlsx_records(data):
    try:
        # data_only: a formula cell gives the value Excel last computed, which is what the user sees.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            # Some programs write wrong sheet dimensions, which read-only mode would trust.
            sheet.reset_dimensions()
            return [[_cell_text(value) for value in values] for values in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    except Exception:  # a damaged workbook fails in many ways inside openpyxl and zipfile
        raise ImportFileError(
            _("This Excel workbook cannot be read. Save it again as .xlsx or CSV and retry.")
        ) from None


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # phone numbers typed into Excel arrive as numbers
    return str(value)


# Mapping


def _header_key(text):
    return re.sub(r"[\s_\-*:：]+", "", text).casefold()


def _header_index():
    index = {}
    for import_field in IMPORT_FIELDS:
        names = [import_field.key, *import_field.aliases]
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                names.append(str(import_field.label))
        for name in names:
            index.setdefault(_header_key(name), import_field.key)
    return index


def detect_mapping(headers):
    """The field key each column maps to ("" for none), recognised from its header; each field once."""
    index, taken, mapping = _header_index(), set(), []
    for header in headers:
        key = index.get(_header_key(header), "")
        mapping.append("" if key in taken else key)
        taken.add(key)
    return mapping


def override_mapping(headers, mapping, overrides):
    """Apply {header: field key} overrides ("" skips the column); a field named moves to its new column."""
    for header, key in overrides.items():
        if header not in headers:
            raise MappingError(
                _("There is no column “%(column)s”. The columns are: %(columns)s.")
                % {"column": header, "columns": ", ".join(headers)}
            )
        if key and key not in FIELDS_BY_KEY:
            raise MappingError(
                _("“%(field)s” is not a field that can be imported. The fields are: %(fields)s.")
                % {"field": key, "fields": ", ".join(FIELDS_BY_KEY)}
            )
    moved = {key for key in overrides.values() if key}
    mapping = [
        overrides.get(header, "" if key in moved else key)
        for header, key in zip(headers, mapping, strict=True)
    ]
    check_mapping(mapping)
    return mapping


def check_mapping(mapping):
    counts = Counter(key for key in mapping if key)
    repeated = [str(FIELDS_BY_KEY[key].label) for key, count in counts.items() if count > 1]
    if repeated:
        raise MappingError(
            _("Each field can come from one column only; several columns are mapped to: %(fields)s.")
            % {"fields": ", ".join(repeated)}
        )


# Running


def run_import(user, table, mapping, *, commit):
    """Apply every row as `user` (see the module docstring); without `commit`, roll it all back."""
    check_mapping(mapping)
    importer = _RowImporter(user, table, mapping)
    with transaction.atomic():
        results = [importer.import_row(row) for row in table.rows]
        if not commit:
            transaction.set_rollback(True)
    return ImportReport(results, committed=commit)


class _RowImporter:
    """Turns rows into service calls, with what every row needs looked up once per file."""

    def __init__(self, user, table, mapping):
        self.user = user
        self.is_manager = is_manager(user)
        self.columns = [(index, key) for index, key in enumerate(mapping) if key]
        self.owners = _owners_by_username(table, mapping)
        self.tags = {tag.name.lower(): tag for tag in Tag.objects.all()}
        self.choices = {key: _choice_lookup(key) for key in CHOICE_KEYS}

    def import_row(self, row):
        values = {key: row.cells[index] for index, key in self.columns if row.cells[index]}
        try:
            with transaction.atomic():
                customer, action, new_tags = self._apply(values)
        except RowRejected as rejection:
            return RowResult(row.number, Action.REJECT, values.get("name", ""), errors=rejection.messages)
        # Only now that the row is saved do its new tags exist for the rows after it.
        self.tags.update((tag.name.lower(), tag) for tag in new_tags)
        return RowResult(row.number, action, customer.name, customer.pk)

    def _apply(self, values):
        owner = self._owner(values.get("owner"))
        customer = self._match(values)
        if customer is None:
            customer, action = self._create(values, owner), Action.CREATE
        else:
            self._update(customer, values, owner)
            action = Action.UPDATE
        return customer, action, self._add_new_tags(customer, values)

    def _owner(self, username):
        if not username:
            return None
        owner = self.owners.get(username)
        if owner is None:
            raise RowRejected(
                _field_message("owner", _("There is no active user “%(username)s”.") % {"username": username})
            )
        if owner.pk != self.user.pk and not self.is_manager:
            raise RowRejected(
                _field_message("owner", _("Only managers may import customers for someone else."))
            )
        return owner

    def _match(self, values):
        keys = {_normalised(key, values[key]) for key in MATCH_KEYS if key in values} - {None}
        if not keys:
            return None
        methods = ContactMethod.objects.visible_to(self.user).filter(type__in=MATCH_KEYS, value__in=keys)
        customer_ids = sorted(set(methods.values_list("customer_id", flat=True)))
        if len(customer_ids) > 1:
            numbers = ", ".join(f"#{pk}" for pk in customer_ids)
            message = _(
                "Its phone numbers and email match several customers (%(numbers)s): "
                "merge them or correct the row."
            )
            raise RowRejected(message % {"numbers": numbers})
        return Customer.objects.get(pk=customer_ids[0]) if customer_ids else None

    def _create(self, values, owner):
        methods = [{"type": key, "value": values[key]} for key in CONTACT_KEYS if key in values]
        try:
            return services.create_customer(
                self.user,
                owner=owner,
                tags=self._known_tags(values),
                contact_methods=methods,
                **self._customer_fields(values),
            )
        except ValidationError as error:
            raise RowRejected(*_messages(error, [method["type"] for method in methods])) from None

    def _update(self, customer, values, owner):
        fields = {
            name: value
            for name, value in self._customer_fields(values).items()
            if getattr(customer, name) != value
        }
        known_tags = set(self._known_tags(values))
        current_tags = set(customer.tags.all()) if known_tags else set()
        if fields or known_tags - current_tags:
            try:
                services.update_customer(
                    self.user, customer, tags=(current_tags | known_tags) or None, **fields
                )
            except ValidationError as error:
                raise RowRejected(*_messages(error)) from None
        if owner and owner.pk != customer.owner_id:
            services.reassign_owner(self.user, [customer], owner)
        self._add_contact_methods(customer, values)

    def _add_contact_methods(self, customer, values):
        methods = customer.contact_methods.values_list("type", "value")
        existing = {_method_identity(method_type, value) for method_type, value in methods}
        for key in CONTACT_KEYS:
            if key in values and _method_identity(key, _normalised(key, values[key])) not in existing:
                try:
                    services.add_contact_method(self.user, customer, type=key, value=values[key])
                except ValidationError as error:
                    raise RowRejected(*(_field_message(key, text) for text in error.messages)) from None

    def _customer_fields(self, values):
        fields = {name: value for name, value in values.items() if name in services.CUSTOMER_FIELDS}
        for name in CHOICE_KEYS:
            if name in fields:
                fields[name] = self.choices[name].get(fields[name].casefold(), fields[name])
        return fields

    def _known_tags(self, values):
        return [self.tags[name.lower()] for name in _tag_names(values) if name.lower() in self.tags]

    def _add_new_tags(self, customer, values):
        created = []
        for name in _tag_names(values):
            if name.lower() in self.tags:
                continue
            try:
                created.append(services.add_tag(self.user, [customer], name))
            except PermissionDenied:
                raise RowRejected(
                    _field_message(
                        "tags",
                        _("There is no tag “%(tag)s”, and only managers may add tags.") % {"tag": name},
                    )
                ) from None
            except ValidationError as error:
                raise RowRejected(*(_field_message("tags", text) for text in error.messages)) from None
        return created


def _owners_by_username(table, mapping):
    if "owner" not in mapping:
        return {}
    column = mapping.index("owner")
    usernames = {row.cells[column] for row in table.rows if row.cells[column]}
    users = get_user_model().objects.filter(is_active=True, username__in=usernames)
    return {user.username: user for user in users}


def _choice_lookup(name):
    """Each choice by its stored value and by its label in every language, case-insensitively."""
    lookup = {}
    for value, label in Customer._meta.get_field(name).choices:
        lookup[value.casefold()] = value
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                lookup[str(label).casefold()] = value
    return lookup


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
    messages = []
    for key, texts in errors.items():
        if key.startswith("contact_methods-"):
            key = contact_keys[int(key.removeprefix("contact_methods-"))]
        messages.extend(_field_message(key, text) for text in texts)
    return messages


def _field_message(key, text):
    if key not in FIELDS_BY_KEY:  # not about one field
        return text
    return _("%(field)s: %(message)s") % {"field": FIELDS_BY_KEY[key].label, "message": text}
