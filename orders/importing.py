"""Product import from CSV and XLSX files (reading and column mapping: crm/importing.py).

A row whose SKU (compared upper-case) is a product's updates that product: filled cells replace
its values, empty cells change nothing. Any other row creates a product, which needs a name and a
unit price. Every row goes through the product services, each in a savepoint, so a rejected row
leaves nothing behind and never stops the others. A dry run is the same run rolled back.
"""

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from crm.importing import Action, Columns, ImportField, ImportReport, RowRejected, RowResult, Table
from crm.models import model_field
from orders import services
from orders.models import Product

YES = {"1", "true", "yes", "y", "是", "有效", "启用", "active"}
NO = {"0", "false", "no", "n", "否", "无效", "停用", "inactive"}


def _product_field(key, *aliases):
    return ImportField(key, capfirst(model_field(Product, key).verbose_name), aliases)


COLUMNS = Columns(
    (
        _product_field("sku", "code", "item code", "product code", "编码", "产品编码", "货号", "物料编码"),
        _product_field("name", "product", "product name", "名称", "产品名称", "品名"),
        _product_field("series", "category", "系列", "类别", "分类", "产品系列"),
        _product_field("unit_price", "price", "单价", "价格", "售价"),
        _product_field("active", "status", "状态", "是否有效"),
    )
)


def run_import(*, actor: User | None, table: Table, mapping: Sequence[str], commit: bool) -> ImportReport:
    """Apply every row as `actor` (a manager, or the system); without `commit`, roll it all back."""
    COLUMNS.check(mapping)
    with transaction.atomic():
        products = {product.sku: product for product in Product.objects.all()}
        results = [_import_row(actor, row, COLUMNS.values(row, mapping), products) for row in table.rows]
        if not commit:
            transaction.set_rollback(True)
    return ImportReport(results, committed=commit)


def _import_row(actor, row, values, products):
    sku = " ".join(values.get("sku", "").split()).upper()
    try:
        if not sku:
            raise RowRejected(COLUMNS.message("sku", _("Every row needs a SKU.")))
        fields = _fields(values)
        with transaction.atomic():
            if sku in products:
                product = services.update_product(actor=actor, product=products[sku], **fields)
                action = Action.UPDATE
            else:
                product = services.create_product(actor=actor, **fields)
                action = Action.CREATE
    except RowRejected as rejection:
        products.pop(sku, None)  # it may hold changes the savepoint rolled back
        return RowResult(row.number, Action.REJECT, values.get("name", sku), errors=rejection.messages)
    except ValidationError as error:
        products.pop(sku, None)
        return RowResult(row.number, Action.REJECT, values.get("name", sku), errors=_messages(error))
    products[product.sku] = product
    return RowResult(row.number, action, str(product), product.pk)


def _fields(values):
    fields = {key: value for key, value in values.items() if key in ("sku", "name", "series")}
    if "unit_price" in values:
        fields["unit_price"] = _price(values["unit_price"])
    if "active" in values:
        fields["active"] = _flag(values["active"])
    return fields


def _price(text):
    try:
        return Decimal(text.replace(",", "").replace("¥", "").replace("￥", "").strip())
    except InvalidOperation:
        raise RowRejected(
            COLUMNS.message("unit_price", _("“%(value)s” is not a price.") % {"value": text})
        ) from None


def _flag(text):
    value = text.strip().casefold()
    if value in YES:
        return True
    if value in NO:
        return False
    raise RowRejected(COLUMNS.message("active", _("Write yes or no, not “%(value)s”.") % {"value": text}))


def _messages(error):
    errors = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    return [COLUMNS.message(key, text) for key, texts in errors.items() for text in texts]
