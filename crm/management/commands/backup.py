from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.backup import BackupError, create_backup, default_backup_path


class Command(BaseCommand):
    help = (
        "Writes a backup of the database (pg_dump's custom format on PostgreSQL, a consistent copy on "
        "SQLite) and the uploaded files to one archive that `manage.py restore` reads."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", type=Path, help="Where to write it (default: var/backups/crm-YYYYMMDD-HHMMSS.tar.gz)."
        )

    def handle(self, *args, output=None, **options):
        output = output or default_backup_path()
        try:
            manifest = create_backup(output)
        except BackupError as error:
            raise CommandError(str(error)) from error
        rows = sum(manifest["row_counts"].values())
        self.stdout.write(
            f"Backup written to {output}: {len(manifest['row_counts'])} tables, {rows} rows, "
            f"{manifest['media_files']} uploaded files."
        )
