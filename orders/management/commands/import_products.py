from crm.import_command import ImportCommand
from orders.importing import COLUMNS, GENERATE_SKU, run_import


class Command(ImportCommand):
    help = (
        "Import products from a CSV (UTF-8 or GB18030) or XLSX file whose first row names the columns; "
        "a row whose SKU or external id exists updates that product; --generate-sku makes the missing "
        "SKUs. Without --commit it is a dry run: every row is checked and reported, nothing is saved."
    )
    columns = COLUMNS
    run_import = staticmethod(run_import)
    option = GENERATE_SKU
