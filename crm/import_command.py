"""The base of the import commands: read a file, map its columns, run the import, report per row."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from crm.importing import (
    Action,
    Columns,
    ImportFileError,
    ImportOption,
    ImportReport,
    MappingError,
    RunImport,
    Table,
    read_table,
)
from crm.management.users import active_user


class ImportCommand(BaseCommand):
    """`manage.py import_… FILE [--user USERNAME] [--commit] [--map COLUMN=FIELD]` for one importer.

    A subclass sets `columns` (crm.importing.Columns), `run_import` (as a staticmethod) and `help`, and
    may set `option` (crm.importing.ImportOption), which becomes a flag.
    """

    columns: Columns
    run_import: RunImport
    option: ImportOption | None = None

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV or .xlsx file.")
        parser.add_argument(
            "--user",
            help="Username of the acting user: the rows are checked and saved with that user's permissions "
            "(default: the system, with managers' rights and no user in the history).",
        )
        parser.add_argument("--commit", action="store_true", help="Save the rows (default: dry run).")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            dest="overrides",
            metavar="COLUMN=FIELD",
            help=f"Map a column to a field, overriding the automatic mapping; repeatable. COLUMN= skips a "
            f"column. Fields: {', '.join(self.columns.by_key)}.",
        )
        if self.option is not None:
            parser.add_argument(
                f"--{self.option.name.replace('_', '-')}",
                action="store_true",
                dest="option",
                help=str(self.option.help_text),
            )

    def handle(
        self, *args: Any, file: str, user: str | None, commit: bool, overrides: list[str], **options: Any
    ) -> None:
        acting_user = active_user(user) if user else None
        run_import = (
            self.option.run_import if self.option is not None and options["option"] else self.run_import
        )
        table = self._read(file)
        try:
            mapping = self.columns.override(
                table.headers, self.columns.detect(table.headers), _parse_overrides(overrides)
            )
            self._write_mapping(table.headers, mapping)
            report = run_import(actor=acting_user, table=table, mapping=mapping, commit=commit)
        except MappingError as error:
            raise CommandError(str(error)) from None
        self._write_report(report)

    def _read(self, file: str) -> Table:
        try:
            return read_table(Path(file).read_bytes())
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": file, "error": error.strerror}
            ) from None
        except ImportFileError as error:
            raise CommandError(str(error)) from None

    def _write_mapping(self, headers: list[str], mapping: list[str]) -> None:
        for header, key in zip(headers, mapping, strict=True):
            if key:
                line = _("Column “%(column)s” → %(field)s") % {
                    "column": header,
                    "field": self.columns.by_key[key].label,
                }
            else:
                line = _("Column “%(column)s” is not imported") % {"column": header}
            self.stdout.write(line)

    def _write_report(self, report: ImportReport) -> None:
        for row in report.rows:
            detail = (
                "; ".join(str(error) for error in row.errors) if row.action == Action.REJECT else row.name
            )
            line = _("Row %(number)s: %(action)s — %(detail)s") % {
                "number": row.number,
                "action": row.action.label,
                "detail": detail,
            }
            self.stdout.write(self.style.ERROR(line) if row.action == Action.REJECT else line)
        counts = {"created": report.created, "updated": report.updated, "rejected": report.rejected}
        if report.committed:
            self.stdout.write(
                self.style.SUCCESS(
                    _("%(created)s created, %(updated)s updated, %(rejected)s rejected.") % counts
                )
            )
        else:
            self.stdout.write(
                _("%(created)s to create, %(updated)s to update, %(rejected)s rejected.") % counts
            )
            self.stdout.write(
                self.style.WARNING(_("Dry run: nothing was saved. Run again with --commit to import."))
            )


def _parse_overrides(overrides: list[str]) -> dict[str, str]:
    """{"电话": "phone"} from ["电话=phone"]; the last "=" splits, as a header may contain one."""
    parsed = {}
    for override in overrides:
        header, equals, key = override.rpartition("=")
        if not equals:
            raise CommandError(_("--map takes COLUMN=FIELD, not “%(value)s”.") % {"value": override})
        parsed[header.strip()] = key.strip()
    return parsed
