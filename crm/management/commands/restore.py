from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restores a backup made by `manage.py backup` into the configured database, which must be "
        "empty, and MEDIA_ROOT; then checks every table's row count against the backup's."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The backup archive (.tar.gz).")

    def handle(self, *args, file, **options):
        try:
            restored = restore_backup(file)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Restored {file}: {restored.tables} tables, {restored.rows} rows (the same counts as the "
            f"backup's), {restored.media_files} uploaded files."
        )
