from accounts.importing import COLUMNS, run_import
from crm.import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import users from a CSV (UTF-8 or GB18030) or XLSX file whose first row names the columns: "
        "username, full name, e-mail, role (sales, team lead, manager) and team (created when new). A row "
        "whose username exists updates that user; new users get a link to set their password by e-mail. "
        "Without --commit it is a dry run: every row is checked and reported, nothing saved, nothing sent."
    )
    columns = COLUMNS
    run_import = staticmethod(run_import)
