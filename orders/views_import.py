"""The order import pages (managers): orders with their lines, payments and history, see
orders/importing_orders.py."""

from django.utils.translation import gettext_lazy

from crm.import_views import ImportPages
from orders import importing_orders

IMPORT_PAGES = ImportPages(
    kind="orders",
    columns=importing_orders.COLUMNS,
    run_import=importing_orders.run_import,
    title=gettext_lazy("Import orders"),
    list_title=gettext_lazy("Orders"),
    list_url="orders:index",
    upload_url="orders:import",
    preview_url="orders:import_preview",
    help_template="orders/order_import_help.html",
    record_label=gettext_lazy("Order"),
)
import_upload, import_preview = IMPORT_PAGES.views()
