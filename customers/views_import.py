"""The customer import pages, for managers (see crm/import_views.py and customers/importing.py)."""

from django.utils.translation import gettext_lazy as _

from crm.import_views import ImportPages
from customers.importing import COLUMNS, run_import

PAGES = ImportPages(
    kind="customers",
    columns=COLUMNS,
    run_import=run_import,
    title=_("Import customers"),
    list_title=_("Customers"),
    list_url="customers:index",
    upload_url="customers:import",
    preview_url="customers:import_preview",
    help_template="customers/import_help.html",
    record_label=_("Customer"),
)
import_upload, import_preview = PAGES.views()
