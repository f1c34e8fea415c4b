"""`manage.py restore FILE`: into an empty database and media folder only, all or nothing, and
checked against the backup's manifest."""

import io
import json
import sqlite3
import tarfile

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection

from backups.services import (
    backup_create,
    backup_restore,
    cache_forget,
    database_summary,
    live_summary,
)
from backups.tests.conftest import delete_orders, manage, media_tree
from clients.models import Client
from clients.tests.factories import UserFactory
from core.testing import DEAD_REDIS

pytestmark = pytest.mark.django_db(transaction=True)


def _empty_the_site(settings):
    """What a new site is: a migrated database with no data, no media."""
    delete_orders()  # first: see conftest
    call_command("flush", interactive=False, verbosity=0)
    for path in media_tree(settings.MEDIA_ROOT):
        (settings.MEDIA_ROOT / path).unlink()


@pytest.fixture
def backup(seeded, settings):
    """A backup of the seeded site, what it held, and the site emptied."""
    result = backup_create()
    before = live_summary(), media_tree(settings.MEDIA_ROOT)
    _empty_the_site(settings)
    return result.path, before


def test_a_backup_restored_into_an_empty_site_is_the_site_it_was(backup, settings, capsys):
    path, (summary, media) = backup
    assert not Client.objects.exists()

    call_command("restore", str(path))

    assert live_summary() == summary
    assert media_tree(settings.MEDIA_ROOT) == media
    assert sorted(Client.objects.values_list("name", flat=True)) == [
        f"Client {n}" for n in range(3)
    ]
    out = capsys.readouterr().out
    assert f"Restored {path}" in out
    assert "2 media files, all matching the backup" in out


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's; test_postgres.py has PostgreSQL's"
)
def test_a_restore_into_a_new_database_file_in_its_own_process(seeded, settings, tmp_path):
    """The command as an operator runs it: a fresh SQLite file (no tables at all), a new media
    folder, the counts and checksums read back from that file."""
    result = backup_create()
    database, media = tmp_path / "restored.sqlite3", tmp_path / "restored-media"

    done = manage(
        "restore",
        str(result.path),
        env={"DATABASE_URL": f"sqlite:///{database}", "MEDIA_ROOT": str(media)},
    )

    assert done.returncode == 0, done.stderr
    restored = sqlite3.connect(
        database, detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES
    )
    cursor = restored.cursor()
    cursor.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
    tables = [row[0] for row in cursor.fetchall()]
    found = database_summary(cursor, tables=tables, quote=lambda name: f'"{name}"')
    restored.close()
    assert found["tables"] == result.manifest["tables"]
    assert found["checksums"] == result.manifest["checksums"]
    assert media_tree(media) == media_tree(settings.MEDIA_ROOT)


def test_a_database_with_data_is_refused_and_left_alone(seeded, settings):
    result = backup_create()
    media = media_tree(settings.MEDIA_ROOT)

    with pytest.raises(CommandError, match=r"The database is not empty: .*clients_client \(3\)"):
        call_command("restore", str(result.path))

    assert Client.objects.count() == 3
    assert media_tree(settings.MEDIA_ROOT) == media


def test_one_user_is_data_enough_to_refuse(backup):
    path, _ = backup
    UserFactory(username="someone")

    with pytest.raises(CommandError, match=r"auth_user \(1\)"):
        call_command("restore", str(path))


def test_a_media_folder_with_files_is_refused_and_nothing_is_written(backup, settings):
    path, _ = backup
    settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
    (settings.MEDIA_ROOT / "kept.txt").write_text("someone's file")

    with pytest.raises(CommandError, match=r"The media folder .* is not empty"):
        call_command("restore", str(path))

    assert not Client.objects.exists()
    assert media_tree(settings.MEDIA_ROOT) == {"kept.txt": b"someone's file"}


def test_empty_folders_in_the_media_folder_do_not_count(backup, settings):
    path, _ = backup
    (settings.MEDIA_ROOT / "avatars" / "old").mkdir(parents=True, exist_ok=True)

    call_command("restore", str(path))

    assert Client.objects.count() == 3


def _rewrite(path, out, *, manifest=None, drop=(), add=(), tamper=None):
    """A copy of backup `path` at `out` with its manifest changed, members dropped or added,
    or the database member's bytes replaced."""
    with tarfile.open(path) as source, tarfile.open(out, "w") as target:
        for member in source:
            if member.name in drop:
                continue
            data = source.extractfile(member).read()
            if member.name == "manifest.json" and manifest:
                data = json.dumps(manifest(json.loads(data))).encode()
            if member.name.startswith("database.") and tamper:
                data = tamper(data)
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
        for name, data in add:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    return out


def _other(manifest) -> str:
    return {"sqlite": "postgresql", "postgresql": "sqlite"}[manifest["vendor"]]


def _write(out, data: bytes):
    out.write_bytes(data)
    return out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path, out: _write(out, b"\x00" * 4096), "not a Mini CRM backup"),
        (lambda path, out: _write(out, b"hello"), "not a Mini CRM backup"),
        (
            lambda path, out: _write(out, path.read_bytes()[: path.stat().st_size // 2]),
            "damaged",
        ),
        (lambda path, out: _rewrite(path, out, drop=["manifest.json"]), "has no manifest"),
        (
            lambda path, out: _rewrite(path, out, drop=["database.sqlite3", "database.pgdump"]),
            "has no database dump",
        ),
        (
            lambda path, out: _rewrite(path, out, tamper=lambda data: data[:-1] + b"?"),
            "its database dump does not match",
        ),
        (
            lambda path, out: _rewrite(path, out, manifest=lambda m: {**m, "format": "other"}),
            "is not a Mini CRM backup",
        ),
        (
            lambda path, out: _rewrite(path, out, manifest=lambda m: {**m, "tables": None}),
            "its manifest is incomplete",
        ),
        (
            lambda path, out: _rewrite(path, out, manifest=lambda m: {**m, "version": 99}),
            "this version reads format 1",
        ),
        (
            lambda path, out: _rewrite(path, out, manifest=lambda m: {**m, "vendor": _other(m)}),
            r"holds a \w+ database; this site runs on \w+",
        ),
        (
            lambda path, out: _rewrite(
                path,
                out,
                manifest=lambda m: {
                    **m,
                    "migrations": [*m["migrations"], ["clients", "9999_future"]],
                },
            ),
            "made by a newer version of Mini CRM: .*clients.9999_future",
        ),
        (
            lambda path, out: _rewrite(path, out, add=[("media/../../escaped.txt", b"x")]),
            "unexpected entry: media/../../escaped.txt",
        ),
        (
            lambda path, out: _rewrite(path, out, add=[("/etc/cron.d/evil", b"x")]),
            "unexpected entry",
        ),
    ],
    ids=[
        "zeros",
        "text",
        "truncated",
        "no-manifest",
        "no-dump",
        "tampered-dump",
        "foreign-format",
        "incomplete-manifest",
        "future-format",
        "other-vendor",
        "newer-migrations",
        "path-escape",
        "absolute-path",
    ],
)
def test_a_foreign_or_damaged_file_is_refused_and_nothing_is_written(
    backup, settings, tmp_path, make, message
):
    path, _ = backup
    bad = make(path, tmp_path / "bad.tar")

    with pytest.raises(CommandError, match=message):
        call_command("restore", str(bad))

    assert not Client.objects.exists()
    assert media_tree(settings.MEDIA_ROOT) == {}
    assert not (tmp_path / "escaped.txt").exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("restore", str(tmp_path / "nope.tar"))


def test_a_restore_forgets_the_cache_of_the_data_it_replaced(backup):
    path, _ = backup
    cache.set("clients:version", 12345, None)

    call_command("restore", str(path))

    assert cache.get("clients:version") is None


def test_a_restore_whose_result_does_not_match_the_manifest_says_so(backup, tmp_path):
    path, _ = backup

    def one_client_more(manifest):
        manifest["tables"]["clients_client"] += 1
        return manifest

    wrong = _rewrite(path, tmp_path / "wrong.tar", manifest=one_client_more)

    with pytest.raises(CommandError, match="clients_client: 4 rows expected, 3 found"):
        call_command("restore", str(wrong))


def test_the_database_connection_is_usable_after_a_restore(backup):
    path, _ = backup

    backup_restore(path)

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM clients_order")
        assert cursor.fetchone()[0] == 5


def test_a_dead_redis_is_reported_not_raised(settings):
    settings.CACHES = DEAD_REDIS

    assert cache_forget() is False


def test_a_media_folder_that_cannot_be_written_is_a_clear_error(backup, settings, tmp_path):
    path, _ = backup
    (tmp_path / "a-file").write_text("not a folder")
    settings.MEDIA_ROOT = tmp_path / "a-file" / "media"

    with pytest.raises(CommandError, match=r"The media folder .*a-file/media: Not a directory"):
        call_command("restore", str(path))

    assert not Client.objects.exists()


def test_sqlites_own_statistics_are_not_data(db):
    from django.db import connection

    from backups.services import database_data_tables

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # writes sqlite_stat1, as PRAGMA optimize may
        cursor.execute("SELECT COUNT(*) FROM sqlite_stat1")
        assert cursor.fetchone()[0] > 0
    assert not any(table.startswith("sqlite_") for table in database_data_tables())
