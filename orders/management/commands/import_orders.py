from crm.import_command import ImportCommand
from orders.importing_orders import COLUMNS, run_import


class Command(ImportCommand):
    help = (
        "Import orders with their lines, payments and history from a CSV (UTF-8 or GB18030) or XLSX file: "
        "one row per order line, the rows of an order sharing its external id; an order imported before "
        "catches up instead of being duplicated. Without --commit it is a dry run: every order is checked "
        "and reported, nothing is saved."
    )
    columns = COLUMNS
    run_import = staticmethod(run_import)
