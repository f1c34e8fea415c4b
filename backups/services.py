"""Backups: the whole database and the media folder in one file, and their restore.

A backup is ONE uncompressed tar in BACKUP_DIR, `mini-crm-<UTC time>.tar`, holding

- `database.pgdump` (`pg_dump --format=custom`, compressed by pg_dump) on PostgreSQL, or
  `database.sqlite3` (SQLite's online backup API: a consistent copy of a live database);
- `media/…`, every file of MEDIA_ROOT (avatars are JPEG/PNG/WebP/GIF, already compressed: a
  gzip pass would cost CPU and save nothing);
- `manifest.json`: the format, when, the database vendor, the applied migrations, every
  table's row count and a checksum of the clients and orders as the dump holds them, and the
  dump's SHA-256, so a restore can refuse a damaged or foreign file and verify what it wrote.

**Nothing half-done.** The tar is written under a dot-name (`.mini-crm-….tar.partial`) and
renamed when complete, so a crashed or failed backup is never among the kept ones and never
makes pruning delete a good one; only complete backups are pruned, oldest first, keeping
BACKUP_KEEP. A restore checks the file, the empty database and the empty media folder before it
writes anything; PostgreSQL is restored in one transaction (`pg_restore --single-transaction`),
the media are unpacked beside MEDIA_ROOT's files and moved in only once the database is in.

**The counts match the dump.** On PostgreSQL the counts and checksums are read in a REPEATABLE
READ transaction whose snapshot pg_dump then uses (`--snapshot`), so a backup taken while the
site is busy still verifies exactly; on SQLite they are read from the copy itself.

The database password reaches pg_dump and pg_restore in their environment (PGPASSWORD), never
on their command line, which any local user can read in the process list.
"""

import contextlib
import dataclasses
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connections, transaction
from django.db.backends.postgresql.client import DatabaseClient
from django.db.migrations.loader import MigrationLoader
from django.utils.translation import gettext as _

from clients.models import Client, Order

logger = logging.getLogger(__name__)

FORMAT = "mini-crm-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media"
DUMP_NAMES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
# A complete backup's name; the UTC time sorts them by age.
NAME_RE = re.compile(r"mini-crm-\d{8}T\d{6}Z\.tar")
PARTIAL_PREFIX = ".mini-crm-"
PARTIAL_SUFFIX = ".partial"
# A partial file this old belongs to a backup that crashed, not to one still running.
STALE_PARTIAL_SECONDS = 24 * 3600
# What `migrate` writes into a new database by itself (the roles migration's groups included):
# a database holding rows in these tables only is still "empty" for a restore.
BOOKKEEPING_TABLES = frozenset(
    {
        "django_migrations",
        "django_content_type",
        "auth_permission",
        "auth_group",
        "auth_group_permissions",
    }
)


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why, for an operator."""


@dataclasses.dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    seconds: float
    manifest: dict
    pruned: list[Path]


@dataclasses.dataclass(frozen=True)
class RestoreResult:
    manifest: dict
    seconds: float
    media_files: int
    pending_migrations: list[str]
    cache_cleared: bool


# --- What a database holds --------------------------------------------------------------------


def _checksum_tables() -> list[str]:
    return [Client._meta.db_table, Order._meta.db_table]


def database_summary(
    cursor, *, tables: list[str], quote, rows_cursor=None, row_text: bool = False
) -> dict:
    """Every table's row count, and a SHA-256 of the clients' and orders' rows (every column,
    in id order), read through a DB-API `cursor`: what a restore must reproduce. The rows are
    read through `rows_cursor` when given: a server-side cursor streams a million orders in
    batches where a client-side one would hold them all in memory. `row_text` (PostgreSQL):
    each row is hashed as the server writes it as text (`t::text`), three times faster than
    formatting each value in Python (a million orders: docs/backups.md)."""
    rows_cursor = rows_cursor or cursor
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
        counts[table] = cursor.fetchone()[0]
    checksums = {}
    for table in _checksum_tables():
        if table not in counts:
            continue
        digest = hashlib.sha256()
        cursor.execute(f"SELECT * FROM {quote(table)} WHERE 1 = 0")
        digest.update("\x1f".join(column[0] for column in cursor.description).encode())
        if row_text:
            rows_cursor.execute(f"SELECT t::text FROM {quote(table)} t ORDER BY id")
        else:
            rows_cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY id")
        while rows := rows_cursor.fetchmany(2000):
            for row in rows:
                line = "\x1f".join("\\N" if value is None else str(value) for value in row)
                digest.update(b"\x1e" + line.encode())
        checksums[table] = digest.hexdigest()
    return {"tables": counts, "checksums": checksums}


def live_summary(*, using: str = "default") -> dict:
    """database_summary() of a configured database."""
    connection = connections[using]
    with connection.cursor() as cursor, connection.chunked_cursor() as rows_cursor:
        tables = _app_tables(connection, cursor)
        return database_summary(
            cursor,
            tables=tables,
            quote=connection.ops.quote_name,
            rows_cursor=rows_cursor,
            row_text=connection.vendor == "postgresql",
        )


def _applied_migrations(cursor) -> list[list[str]]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [list(row) for row in cursor.fetchall()]


def _sqlite_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- Backup -----------------------------------------------------------------------------------


def backup_create(*, using: str = "default") -> BackupResult:
    """Write a backup of the database and MEDIA_ROOT into BACKUP_DIR, then prune the oldest
    complete backups beyond BACKUP_KEEP. Raises BackupError, leaving no file that counts."""
    keep = int(settings.BACKUP_KEEP)
    if keep < 1:
        raise BackupError(_("BACKUP_KEEP must be 1 or more (it is %(keep)s).") % {"keep": keep})
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in DUMP_NAMES:
        raise BackupError(_("Backups support PostgreSQL and SQLite, not %s.") % vendor)
    if connection.in_atomic_block:
        # pg_dump would not see this transaction's writes, and the counts would.
        raise BackupError(_("A backup cannot run inside a transaction."))
    backup_dir = Path(settings.BACKUP_DIR)
    try:
        backup_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(
            _("BACKUP_DIR %(dir)s: %(error)s") % {"dir": backup_dir, "error": error.strerror}
        ) from None
    started = time.monotonic()
    created = datetime.now(UTC).replace(microsecond=0)
    name = f"mini-crm-{created:%Y%m%dT%H%M%SZ}.tar"
    final = backup_dir / name
    with _lock(backup_dir):
        if final.exists():
            raise BackupError(_("%s exists already: one backup a second at most.") % final)
        work = Path(tempfile.mkdtemp(prefix=f"{PARTIAL_PREFIX}work-", dir=backup_dir))
        partial = backup_dir / f"{PARTIAL_PREFIX}{name}{PARTIAL_SUFFIX}"
        try:
            dump = work / DUMP_NAMES[vendor]
            if vendor == "postgresql":
                summary, migrations, server = _pg_dump(connection, dump)
            else:
                summary, migrations, server = _sqlite_dump(connection, dump)
            manifest = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created_at": created.isoformat().replace("+00:00", "Z"),
                "vendor": vendor,
                "server_version": server,
                "database": {"name": dump.name, "size": dump.stat().st_size, "sha256": _sha(dump)},
                "migrations": migrations,
                **summary,
            }
            # It holds password hashes and every client: for the owner's eyes only, from the
            # first byte.
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with (
                open(descriptor, "wb") as file,
                tarfile.open(fileobj=file, mode="w", format=tarfile.PAX_FORMAT) as tar,
            ):
                tar.add(dump, arcname=dump.name)
                manifest["media"] = _add_media(tar, Path(settings.MEDIA_ROOT))
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
                tar.close()
                file.flush()
                os.fsync(file.fileno())
            # The one step that makes it a backup: complete, or not there at all.
            partial.rename(final)
            _fsync_directory(backup_dir)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise BackupError(
                _("The backup could not be written: %s.") % (error.strerror or error)
            ) from error
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        pruned = backup_prune(directory=backup_dir, keep=keep)
    result = BackupResult(
        path=final,
        size=final.stat().st_size,
        seconds=time.monotonic() - started,
        manifest=manifest,
        pruned=pruned,
    )
    logger.info(
        "backup written: %s (%d bytes, %.1f s, %d pruned)",
        final,
        result.size,
        result.seconds,
        len(pruned),
    )
    return result


def _fsync_directory(directory: Path) -> None:
    """The rename itself on disk: a power cut right after leaves the backup, not the partial."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _lock(directory: Path):
    """One backup at a time per BACKUP_DIR (two beats, or a manual run during the nightly)."""
    with open(directory / f"{PARTIAL_PREFIX}lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(_("Another backup is running in %s.") % directory) from None
        yield


def _pg_env(connection) -> dict:
    """libpq's environment for `connection`: the password as PGPASSWORD, never an argument."""
    settings_dict = connection.settings_dict
    _args, env = DatabaseClient.settings_to_cmd_args_env(settings_dict, [])
    env = {**os.environ, **(env or {})}
    for key, value in (
        ("PGHOST", settings_dict.get("HOST")),
        ("PGPORT", settings_dict.get("PORT")),
        ("PGUSER", settings_dict.get("USER")),
        ("PGDATABASE", settings_dict.get("NAME")),
    ):
        if value:
            env[key] = str(value)
    return env


def _run(command: list[str], *, env: dict, what: str) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(
            _("%(tool)s is not installed (Debian: postgresql-client).") % {"tool": command[0]}
        ) from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise BackupError(_("%(what)s failed: %(detail)s") % {"what": what, "detail": detail})


def _client_major(tool: str) -> int | None:
    try:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return None
    found = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    return int(found.group(1)) if found else None


def _pg_dump(connection, dump: Path) -> tuple[dict, list, str]:
    server_major = connection.pg_version // 10000
    client_major = _client_major("pg_dump")
    if client_major is None:
        raise BackupError(_("pg_dump is not installed (Debian: postgresql-client)."))
    if client_major < server_major:
        raise BackupError(
            _(
                "pg_dump %(client)s cannot dump PostgreSQL %(server)s: install "
                "postgresql-client-%(server)s."
            )
            % {"client": client_major, "server": server_major}
        )
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # First statement of the transaction: its snapshot is the one pg_dump dumps.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        tables = connection.introspection.table_names(cursor)
        if "django_migrations" not in tables:
            raise BackupError(_("The database is not migrated: there is nothing to back up."))
        with connection.chunked_cursor() as rows_cursor:
            summary = database_summary(
                cursor,
                tables=tables,
                quote=connection.ops.quote_name,
                rows_cursor=rows_cursor,
                row_text=True,
            )
        migrations = _applied_migrations(cursor)
        # The snapshot lives as long as this transaction: pg_dump runs inside it.
        _run(
            ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={dump}"],
            env=_pg_env(connection),
            what="pg_dump",
        )
    return summary, migrations, f"PostgreSQL {server_major}"


def _sqlite_dump(connection, dump: Path) -> tuple[dict, list, str]:
    connection.ensure_connection()
    # Django's own type detection (its converters are registered on sqlite3 itself): the
    # copy's checksums read the values as the restored database's will.
    target = sqlite3.connect(dump, detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES)
    try:
        # The online backup API: a consistent copy even while others write.
        connection.connection.backup(target)
        cursor = target.cursor()
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        if "django_migrations" not in tables:
            raise BackupError(_("The database is not migrated: there is nothing to back up."))
        summary = database_summary(cursor, tables=tables, quote=_sqlite_quote)
        migrations = _applied_migrations(cursor)
    finally:
        target.close()
    return summary, migrations, f"SQLite {sqlite3.sqlite_version}"


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _media_files(root: Path):
    """MEDIA_ROOT's regular files (symlinks left out: they may point anywhere)."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not (Path(folder) / d).is_symlink())
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _add_media(tar: tarfile.TarFile, root: Path) -> dict:
    files = size = 0
    for path in _media_files(root):
        relative = path.relative_to(root).as_posix()
        try:
            info = tar.gettarinfo(path, arcname=f"{MEDIA_PREFIX}/{relative}")
            with open(path, "rb") as file:
                tar.addfile(info, file)
        except FileNotFoundError:
            continue  # deleted since the walk (an avatar replaced meanwhile): not ours to keep
        files += 1
        size += info.size
    return {"files": files, "bytes": size}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
    tar.addfile(info, io.BytesIO(data))


# --- Pruning ----------------------------------------------------------------------------------


def backups_list(*, directory: Path | None = None) -> list[Path]:
    """The complete backups in `directory` (BACKUP_DIR), oldest first."""
    directory = Path(directory or settings.BACKUP_DIR)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if NAME_RE.fullmatch(p.name) and p.is_file())


def backup_prune(*, directory: Path | None = None, keep: int | None = None) -> list[Path]:
    """Delete the oldest complete backups beyond `keep` (BACKUP_KEEP), and the leftovers of
    backups that crashed a day or more ago; a partial file is never counted among the kept."""
    directory = Path(directory or settings.BACKUP_DIR)
    keep = int(settings.BACKUP_KEEP if keep is None else keep)
    complete = backups_list(directory=directory)
    doomed = complete[: max(len(complete) - max(keep, 1), 0)]
    for path in doomed:
        path.unlink(missing_ok=True)
    cutoff = time.time() - STALE_PARTIAL_SECONDS
    for path in directory.glob(f"{PARTIAL_PREFIX}*"):
        if path.name == f"{PARTIAL_PREFIX}lock" or path.lstat().st_mtime > cutoff:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return doomed


# --- Restore ----------------------------------------------------------------------------------


def backup_read_manifest(path: Path) -> dict:
    """The manifest of the backup at `path`; BackupError if it is not a Mini CRM backup or is
    damaged (not a tar, truncated, no manifest)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("%s: no such file.") % path)
    try:
        with tarfile.open(path, "r:") as tar:
            member = tar.getmember(MANIFEST)
            manifest = json.loads(tar.extractfile(member).read())
    except KeyError:
        raise BackupError(_("%s is not a Mini CRM backup (it has no manifest).") % path) from None
    except (tarfile.TarError, OSError, ValueError, AttributeError):
        raise BackupError(_("%s is not a Mini CRM backup, or it is damaged.") % path) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(_("%s is not a Mini CRM backup.") % path)
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(
            _("%(path)s is a backup of format %(version)s; this version reads format %(ours)s.")
            % {"path": path, "version": manifest.get("version"), "ours": FORMAT_VERSION}
        )
    shapes = {
        "created_at": str,
        "vendor": str,
        "database": dict,
        "migrations": list,
        "tables": dict,
        "checksums": dict,
    }
    if any(not isinstance(manifest.get(key), kind) for key, kind in shapes.items()):
        raise BackupError(_("%s is damaged: its manifest is incomplete.") % path)
    return manifest


def _app_tables(connection, cursor) -> list[str]:
    # SQLite's own tables (sqlite_stat1, written by ANALYZE or PRAGMA optimize) are neither
    # data nor the app's: Django's introspection lists them.
    return [
        table
        for table in connection.introspection.table_names(cursor)
        if not table.startswith("sqlite_")
    ]


def database_data_tables(*, using: str = "default") -> list[str]:
    """The tables that hold data (beyond what `migrate` writes by itself), as "name (rows)";
    an empty list means the database may be restored into."""
    connection = connections[using]
    busy = []
    with connection.cursor() as cursor:
        for table in _app_tables(connection, cursor):
            if table in BOOKKEEPING_TABLES:
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            if rows := cursor.fetchone()[0]:
                busy.append(f"{table} ({rows})")
    return busy


def media_files_present(root: Path | None = None) -> bool:
    return next(_media_files(Path(root or settings.MEDIA_ROOT)), None) is not None


def backup_restore(path: Path, *, using: str = "default") -> RestoreResult:
    """Restore the backup at `path` into the (empty) database `using` and the (empty)
    MEDIA_ROOT, then check every table's count and the clients' and orders' checksums against
    the manifest. Raises BackupError, having written nothing, when the file is not a sound
    backup of this vendor or the database or the media folder already hold data."""
    started = time.monotonic()
    path = Path(path)
    manifest = backup_read_manifest(path)
    connection = connections[using]
    vendor = manifest.get("vendor")
    if vendor != connection.vendor or vendor not in DUMP_NAMES:
        raise BackupError(
            _("%(path)s holds a %(theirs)s database; this site runs on %(ours)s.")
            % {"path": path, "theirs": vendor, "ours": connection.vendor}
        )
    if connection.in_atomic_block:
        raise BackupError(_("A restore cannot run inside a transaction."))
    unknown, pending = _migration_gap(manifest)
    if unknown:
        raise BackupError(
            _(
                "The backup was made by a newer version of Mini CRM: these migrations are "
                "unknown to this one: %s. Restore it with the version that made it."
            )
            % ", ".join(unknown[:5])
        )
    if busy := database_data_tables(using=using):
        raise BackupError(
            _(
                "The database is not empty: %(tables)s. Restore only into a new database "
                "(created empty, or only migrated)."
            )
            % {"tables": ", ".join(busy[:5]) + (" …" if len(busy) > 5 else "")}
        )
    media_root = Path(settings.MEDIA_ROOT)
    if media_files_present(media_root):
        raise BackupError(
            _("The media folder %s is not empty. Restore only into an empty one.") % media_root
        )
    try:
        media_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".restoring-", dir=media_root))
    except OSError as error:
        raise BackupError(
            _("The media folder %(dir)s: %(error)s") % {"dir": media_root, "error": error.strerror}
        ) from None
    work = Path(tempfile.mkdtemp(prefix="mini-crm-restore-"))
    try:
        dump, media_files = _unpack(path, manifest, work=work, staging=staging)
        if vendor == "postgresql":
            _pg_restore(connection, dump)
        else:
            _sqlite_restore(connection, dump)
        # The database is in: now the media, by renames within MEDIA_ROOT's file system.
        for staged in sorted(p for p in staging.rglob("*") if p.is_file()):
            target = media_root / staged.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)  # folders may be there, empty
            staged.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    connection.close()  # a fresh session: nothing cached of the database it replaced
    found = live_summary(using=using)
    differences = summary_differences(manifest, found)
    if differences:
        raise BackupError(
            _(
                "The restored database does not match the backup: %s. Its data are in place: "
                "do not open the site on them; empty the database and the media folder and "
                "restore another backup."
            )
            % "; ".join(differences)
        )
    return RestoreResult(
        manifest=manifest,
        seconds=time.monotonic() - started,
        media_files=media_files,
        pending_migrations=pending,
        cache_cleared=cache_forget(),
    )


def summary_differences(expected: dict, found: dict) -> list[str]:
    """What differs between two database_summary() results, in words."""
    differences = []
    tables = expected.get("tables", {})
    for table in sorted(set(tables) | set(found["tables"])):
        want, got = tables.get(table), found["tables"].get(table)
        if want != got:
            differences.append(
                _("%(table)s: %(want)s rows expected, %(got)s found")
                % {"table": table, "want": want, "got": got}
            )
    for table, digest in expected.get("checksums", {}).items():
        if found["checksums"].get(table) != digest:
            differences.append(_("%(table)s: checksum differs") % {"table": table})
    return differences


def _migration_gap(manifest: dict) -> tuple[list[str], list[str]]:
    """(migrations the backup applied that this code lacks, this code's not in the backup)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = {f"{app}.{name}" for app, name in loader.disk_migrations}
    applied = {f"{app}.{name}" for app, name in manifest.get("migrations", [])}
    # A squashed migration counts as applied when the ones it replaces are.
    for key, migration in loader.disk_migrations.items():
        if migration.replaces and all(f"{a}.{n}" in applied for a, n in migration.replaces):
            applied.add(f"{key[0]}.{key[1]}")
    return sorted(applied - known), sorted(known - applied)


def _unpack(path: Path, manifest: dict, *, work: Path, staging: Path) -> tuple[Path, int]:
    """The dump into `work` (its SHA-256 checked) and the media into `staging`."""
    expected = manifest.get("database") or {}
    dump_name = DUMP_NAMES[manifest["vendor"]]
    dump = work / dump_name
    media_files = 0
    found_dump = False
    try:
        with tarfile.open(path, "r:") as tar:
            for member in tar:
                if member.name == MANIFEST or member.isdir():
                    continue
                if member.name == dump_name and member.isfile():
                    digest = hashlib.sha256()
                    with tar.extractfile(member) as source, open(dump, "wb") as target:
                        while chunk := source.read(1 << 20):
                            digest.update(chunk)
                            target.write(chunk)
                    if digest.hexdigest() != expected.get("sha256"):
                        raise BackupError(
                            _("%s is damaged: its database dump does not match.") % path
                        )
                    found_dump = True
                    continue
                target = _media_target(member, staging)
                if target is None:
                    raise BackupError(
                        _("%(path)s holds an unexpected entry: %(name)s.")
                        % {"path": path, "name": member.name}
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
                media_files += 1
    except (tarfile.TarError, EOFError) as error:
        raise BackupError(
            _("%(path)s is damaged: %(error)s") % {"path": path, "error": error}
        ) from None
    except OSError as error:  # reading the file, or writing the copy (a full disk)
        raise BackupError(
            _("%(path)s could not be unpacked: %(error)s")
            % {"path": path, "error": error.strerror or error}
        ) from None
    if not found_dump:
        raise BackupError(_("%s is damaged: it has no database dump.") % path)
    return dump, media_files


def _media_target(member: tarfile.TarInfo, staging: Path) -> Path | None:
    """Where a media member goes under `staging`, or None for anything but a plain file
    inside media/ (an absolute path, `..`, a link or a device would escape or surprise)."""
    if not member.isfile():
        return None
    parts = PurePosixPath(member.name).parts
    if len(parts) < 2 or parts[0] != MEDIA_PREFIX or any(p in ("..", "", "/") for p in parts):
        return None
    return staging.joinpath(*parts[1:])


def _pg_restore(connection, dump: Path) -> None:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if tables:
        # Only migrate's bookkeeping is there (checked): make room for the dump's schema, its
        # functions and triggers too, which would otherwise clash with the ones migrate made.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
    connection.close()
    # One transaction: a dump that fails halfway leaves the database as it was.
    try:
        _pg_restore_run(connection, dump)
    except BackupError as error:
        left = (
            _("The database is left empty, without tables: `manage.py migrate` makes it new.")
            if tables
            else _("The database is left as it was.")
        )
        raise BackupError(f"{error} {left}") from None


def _pg_restore_run(connection, dump: Path) -> None:
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ],
        env=_pg_env(connection),
        what="pg_restore",
    )


def _sqlite_restore(connection, dump: Path) -> None:
    connection.ensure_connection()
    source = sqlite3.connect(dump)
    try:
        # Replaces every page of the target: the migrated bookkeeping included.
        source.backup(connection.connection)
    finally:
        source.close()


def cache_forget() -> bool:
    """Drop this site's cache entries after a restore: the versions, pages, sessions and
    import progress of the database that was replaced. On Redis only the keys under the
    caches' own prefix go: the Celery broker and the channel layer share the server (a
    FLUSHDB, which cache.clear() is there, would drop queued tasks). False if it failed."""
    done = set()
    ok = True
    for alias in settings.CACHES:
        cache = caches[alias]
        if isinstance(cache, RedisCache):
            where = (tuple(cache._servers), cache.key_prefix)
            if where in done:
                continue
            done.add(where)
            try:
                client = cache._cache.get_client(write=True)
                pattern = cache.make_key("*")
                batch = []
                for key in client.scan_iter(match=pattern, count=1000):
                    batch.append(key)
                    if len(batch) >= 1000:
                        client.delete(*batch)
                        batch = []
                if batch:
                    client.delete(*batch)
            except Exception:
                logger.exception("the cache %r could not be cleared after a restore", alias)
                ok = False
        else:
            cache.clear()
    return ok
