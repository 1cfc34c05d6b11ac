"""Product import from CSV and XLSX files (reading and column mapping: crm/importing.py).

A row whose SKU (compared upper-case), or else whose external id, is a product's updates that
product: filled cells replace its values, empty cells change nothing. Any other row creates a product,
which needs a name and a unit price. A row without a SKU is rejected, unless SKUs are generated on
request (`run_import_generating_skus`, services.generated_sku): then the same file imported again
gives the same SKUs and updates the same products. Every row goes through the product services, each in
a savepoint, so a rejected row leaves nothing behind and never stops the others. A dry run is the
same run rolled back.
"""

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.importing import (
    Action,
    Columns,
    ImportField,
    ImportOption,
    ImportReport,
    RowRejected,
    RowResult,
    Table,
    require_columns,
)
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
        _product_field("external_id", "id", "product id", "item id", "外部编号"),
    )
)


def run_import(*, actor: User | None, table: Table, mapping: Sequence[str], commit: bool) -> ImportReport:
    """Apply every row as `actor` (a manager, or the system); without `commit`, roll it all back."""
    return _run(actor, table, mapping, commit, generate_sku=False)


def run_import_generating_skus(
    *, actor: User | None, table: Table, mapping: Sequence[str], commit: bool
) -> ImportReport:
    """As run_import, with a SKU generated for each new product whose row has none."""
    return _run(actor, table, mapping, commit, generate_sku=True)


GENERATE_SKU = ImportOption(
    name="generate_sku",
    label=gettext_lazy("Generate the missing SKUs"),
    help_text=gettext_lazy(
        "A product without a SKU gets one made from its external id or name (P-…), the same one each "
        "time the file is imported. Without this, such rows are rejected."
    ),
    run_import=run_import_generating_skus,
)


def _run(actor, table, mapping, commit, *, generate_sku):
    COLUMNS.check(mapping)
    require_columns(COLUMNS, table.headers, mapping, () if generate_sku else ("sku",))
    with transaction.atomic():
        products = {product.sku: product for product in Product.objects.all()}
        by_external_id = {
            product.external_id: product for product in products.values() if product.external_id
        }
        results = [
            _import_row(actor, row, COLUMNS.values(row, mapping), products, by_external_id, generate_sku)
            for row in table.rows
        ]
        if not commit:
            transaction.set_rollback(True)
    return ImportReport(results, committed=commit)


def _import_row(actor, row, values, products, by_external_id, generate_sku):
    external_id = " ".join(values.get("external_id", "").split())
    sku = " ".join(values.get("sku", "").split()).upper()
    existing = products.get(sku) or by_external_id.get(external_id)
    try:
        if not sku and existing is None:
            if not generate_sku:
                raise RowRejected(
                    COLUMNS.message("sku", _("Every row needs a SKU, unless the missing SKUs are generated."))
                )
            if not values.get("name"):
                raise RowRejected(COLUMNS.message("name", _("A SKU is made from the name: fill it in.")))
            sku = services.generated_sku(name=values["name"], external_id=external_id)
            existing = products.get(sku)
        fields = _fields(values) | ({"sku": sku} if sku else {})
        with transaction.atomic():
            if existing is not None:
                product = services.update_product(actor=actor, product=existing, **fields)
                action = Action.UPDATE
            else:
                product = services.create_product(actor=actor, **fields)
                action = Action.CREATE
    except (RowRejected, ValidationError) as error:
        if existing is not None:  # it may hold changes the savepoint rolled back
            existing.refresh_from_db()
        messages = error.messages if isinstance(error, RowRejected) else _messages(error)
        return RowResult(row.number, Action.REJECT, values.get("name", sku), errors=messages)
    products[product.sku] = product
    if product.external_id:
        by_external_id[product.external_id] = product
    return RowResult(row.number, action, str(product), product.pk)


def _fields(values):
    fields = {key: value for key, value in values.items() if key in ("name", "series", "external_id")}
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
