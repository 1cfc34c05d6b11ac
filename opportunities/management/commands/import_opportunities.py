from crm.import_command import ImportCommand
from opportunities.importing import COLUMNS, run_import


class Command(ImportCommand):
    help = (
        "Import deals with their history (created, won or lost at) from a CSV (UTF-8 or GB18030) or XLSX "
        "file whose first row names the columns; the times become the deals' and their events' times. A row "
        "whose external id was imported before updates that deal. Without --commit it is a dry run."
    )
    columns = COLUMNS
    run_import = staticmethod(run_import)
