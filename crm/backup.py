"""Backups of the whole CRM in one file, and restoring one into an empty database.

A backup is a gzipped tar archive holding:
- `manifest.json`: the format, when it was made, the database engine and versions, and the row
  count of every table as the backup saw it;
- `database.pgdump` (PostgreSQL: pg_dump's custom format) or `database.sqlite3` (SQLite: a copy
  made with SQLite's online backup API);
- `media/…`: the uploaded files under MEDIA_ROOT, if there are any.

Guarantees:
- The copy is consistent while the CRM runs: pg_dump reads one snapshot, the very one the row
  counts are read from (an exported snapshot); SQLite's backup API copies one consistent state,
  and the counts are read from the copy.
- A backup file appears only once complete (it is written under another name, then renamed) and
  only its owner may read it: it holds every customer's data.
- Restoring refuses a database that has any table, and a MEDIA_ROOT that has any file: it never
  overwrites or merges. On PostgreSQL the restore runs in one transaction (all or nothing); then
  every table's row count is compared with the manifest's.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media"


class BackupError(Exception):
    """A backup or a restore that cannot be done, with the reason in words an operator acts on."""


@dataclass
class Restored:
    tables: int
    rows: int
    media_files: int


def default_backup_path() -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.BASE_DIR) / "var" / "backups" / f"crm-{stamp}.tar.gz"


def create_backup(output: Path) -> dict:
    """Writes a backup of the database and the uploaded files to `output`; returns its manifest."""
    output.parent.mkdir(parents=True, exist_ok=True)
    # The database copy is made beside the backups, where there is room for them, not in /tmp.
    with tempfile.TemporaryDirectory(prefix=".crm-backup-", dir=output.parent) as work_dir:
        work = Path(work_dir)
        database_file, details = _engine().dump(work)
        media_files = sorted(path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file())
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "engine": connection.vendor,
            "database_file": database_file.name,
            "media_files": len(media_files),
            **details,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        partial = output.with_name(output.name + ".partial")
        with _private_file(partial) as file, tarfile.open(fileobj=file, mode="w:gz") as archive:
            archive.add(work / MANIFEST, MANIFEST)
            archive.add(database_file, database_file.name)
            for path in media_files:
                archive.add(path, f"{MEDIA}/{path.relative_to(settings.MEDIA_ROOT)}")
        partial.replace(output)
    return manifest


def restore_backup(archive_path: Path) -> Restored:
    """Restores a backup into the configured database, which must be empty, and MEDIA_ROOT."""
    engine = _engine()
    with tempfile.TemporaryDirectory(prefix="crm-restore-") as work_dir:
        work = Path(work_dir)
        manifest = _unpack(archive_path, work)
        if manifest["engine"] != connection.vendor:
            raise BackupError(
                f"This is a backup of a {manifest['engine']} database; the CRM is configured for "
                f"{connection.vendor}. Restore it into a {manifest['engine']} database."
            )
        _require_empty_target()
        engine.load(work / manifest["database_file"])
        media_files = _restore_media(work / MEDIA)
    with connection.cursor() as cursor:
        counts = _row_counts(cursor)
    expected = manifest["row_counts"]
    if counts != expected:
        differing = sorted(
            name for name in expected.keys() | counts.keys() if counts.get(name) != expected.get(name)
        )
        raise BackupError(f"The restored row counts differ from the backup's in: {', '.join(differing)}.")
    return Restored(tables=len(counts), rows=sum(counts.values()), media_files=media_files)


# --- the two database engines ---------------------------------------------------------------------


class _Postgres:
    def dump(self, work: Path) -> tuple[Path, dict]:
        target = work / "database.pgdump"
        # The counts and pg_dump read the same snapshot, so they agree even while users write.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
            counts = _row_counts(cursor)
            _run_client(
                "pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                f"--file={target}",
            )  # fmt: skip
        client_version = _run_client("pg_dump", "--version", database=False).strip()
        return target, {"server_version": server_version, "client": client_version, "row_counts": counts}

    def load(self, dump: Path) -> None:
        _run_client(
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            str(dump),
        )


class _Sqlite:
    def dump(self, work: Path) -> tuple[Path, dict]:
        target = work / "database.sqlite3"
        connection.ensure_connection()
        with closing(sqlite3.connect(target)) as copy:
            connection.connection.backup(copy)
            counts = _row_counts(copy.cursor())  # from the copy: other processes may write meanwhile
        return target, {"sqlite_version": sqlite3.sqlite_version, "row_counts": counts}

    def load(self, copy: Path) -> None:
        connection.ensure_connection()
        with closing(sqlite3.connect(copy)) as source:
            source.backup(connection.connection)


def _engine():
    engines = {"postgresql": _Postgres, "sqlite": _Sqlite}
    if connection.vendor not in engines:
        raise BackupError(f"Backups of a {connection.vendor} database are not supported.")
    return engines[connection.vendor]()


def _run_client(program: str, *arguments: str, database: bool = True) -> str:
    """Runs a PostgreSQL client program against the configured database; returns what it printed.
    The connection goes through libpq's environment variables, so the password never shows in `ps`."""
    binary = shutil.which(program, path=os.environ.get("PG_BIN_DIR") or None)
    if binary is None:
        raise BackupError(f"{program} is not installed (Debian: apt-get install postgresql-client).")
    command = [binary, *arguments]
    if database:
        command.insert(1, f"--dbname={connection.settings_dict['NAME']}")
    result = subprocess.run(command, env=_libpq_environment(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip()}")
    return result.stdout


def _libpq_environment() -> dict[str, str]:
    database = connection.settings_dict
    variables = {
        "PGHOST": database.get("HOST"),
        "PGPORT": str(database.get("PORT") or ""),
        "PGUSER": database.get("USER"),
        "PGPASSWORD": database.get("PASSWORD"),
        "PGSSLMODE": database.get("OPTIONS", {}).get("sslmode"),
    }
    return {**os.environ, **{name: value for name, value in variables.items() if value}}


# --- shared steps ---------------------------------------------------------------------------------


def _row_counts(cursor) -> dict[str, int]:
    """Every table's row count, read with `cursor` (Django's, or sqlite3's on a copy)."""
    counts = {}
    for table in connection.introspection.table_names(cursor):
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


def _require_empty_target() -> None:
    tables = connection.introspection.table_names()
    if tables:
        raise BackupError(
            f"The database {connection.settings_dict['NAME']!r} is not empty ({len(tables)} tables). "
            "Restore into a new, empty database (e.g. createdb), then point DATABASE_URL at it."
        )
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.exists() and any(path.is_file() for path in media_root.rglob("*")):
        raise BackupError(f"MEDIA_ROOT ({media_root}) already holds files: restore into an empty one.")


def _unpack(archive_path: Path, work: Path) -> dict:
    try:
        with tarfile.open(archive_path, mode="r:gz") as archive:
            archive.extractall(work, filter="data")  # refuses absolute paths, '..' and links outside
        manifest = json.loads((work / MANIFEST).read_text())
    except (OSError, tarfile.TarError, ValueError) as error:
        raise BackupError(f"{archive_path} is not a readable CRM backup: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{archive_path} has backup format {manifest.get('format')!r}; this CRM reads {FORMAT}."
        )
    return manifest


def _restore_media(unpacked: Path) -> int:
    if not unpacked.exists():
        return 0
    shutil.copytree(unpacked, settings.MEDIA_ROOT, dirs_exist_ok=True)
    return sum(1 for path in unpacked.rglob("*") if path.is_file())


def _private_file(path: Path):
    """A new file only its owner may read or write."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
