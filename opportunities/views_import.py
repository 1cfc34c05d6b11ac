"""The deal import pages, for managers (see crm/import_views.py and opportunities/importing.py)."""

from django.utils.translation import gettext_lazy as _

from crm.import_views import ImportPages
from opportunities.importing import COLUMNS, run_import

PAGES = ImportPages(
    kind="opportunities",
    columns=COLUMNS,
    run_import=run_import,
    title=_("Import opportunities"),
    list_title=_("Opportunities"),
    list_url="opportunities:index",
    upload_url="opportunities:import",
    preview_url="opportunities:import_preview",
    help_template="opportunities/import_help.html",
    record_label=_("Opportunity"),
)
import_upload, import_preview = PAGES.views()
