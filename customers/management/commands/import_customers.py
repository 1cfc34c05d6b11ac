from crm.import_command import ImportCommand
from customers.importing import COLUMNS, run_import


class Command(ImportCommand):
    help = (
        "Import customers from a CSV (UTF-8 or GB18030) or XLSX file whose first row names the columns. "
        "Without --commit it is a dry run: every row is checked and reported, nothing is saved."
    )
    columns = COLUMNS
    run_import = staticmethod(run_import)
