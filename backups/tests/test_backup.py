"""`manage.py backup`: one complete file or none, its manifest, and pruning to BACKUP_KEEP."""

import json
import os
import tarfile
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from backups import services
from backups.services import DUMP_NAMES, BackupError, backup_create, backup_prune, backups_list
from backups.tests.conftest import media_tree

pytestmark = pytest.mark.django_db(transaction=True)


def _members(path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return {member.name: member for member in tar}


def _manifest(path) -> dict:
    with tarfile.open(path) as tar:
        return json.load(tar.extractfile("manifest.json"))


def test_a_backup_is_one_file_with_the_database_the_media_and_a_manifest(seeded, settings):
    result = backup_create()

    assert backups_list() == [result.path]
    assert result.path.name.startswith("mini-crm-")
    assert result.path.suffix == ".tar"
    members = _members(result.path)
    media = {f"media/{name}" for name in media_tree(settings.MEDIA_ROOT)}
    assert len(media) == 2
    dump = DUMP_NAMES[connection.vendor]
    assert set(members) == {dump, "manifest.json", *media}
    manifest = _manifest(result.path)
    assert manifest["format"] == "mini-crm-backup"
    assert manifest["version"] == 1
    assert manifest["vendor"] == connection.vendor
    assert manifest["tables"]["clients_client"] == 3
    assert manifest["tables"]["clients_order"] == 5
    assert manifest["tables"]["auth_user"] == 1
    assert set(manifest["checksums"]) == {"clients_client", "clients_order"}
    assert ["clients", "0001_initial"] in manifest["migrations"]
    media_bytes = sum(member.size for name, member in members.items() if name in media)
    assert manifest["media"] == {"files": 2, "bytes": media_bytes}
    assert manifest["database"]["size"] == members[dump].size


def test_a_backup_is_readable_by_its_owner_only(seeded):
    result = backup_create()

    assert result.path.stat().st_mode & 0o777 == 0o600


def test_the_command_reports_the_file_and_what_it_holds(seeded, capsys):
    call_command("backup")

    out = capsys.readouterr().out
    (path,) = backups_list()
    assert f"Backup written: {path}" in out
    assert "3 clients, 5 orders, 2 media files" in out


def test_a_missing_media_folder_is_an_empty_one(settings, seeded):
    for path in media_tree(settings.MEDIA_ROOT):
        (settings.MEDIA_ROOT / path).unlink()

    result = backup_create()

    assert result.manifest["media"] == {"files": 0, "bytes": 0}


def _fake_backups(directory, *stamps):
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for stamp in stamps:
        path = directory / f"mini-crm-{stamp}.tar"
        path.write_bytes(b"x")
        paths.append(path)
    return paths


def test_pruning_keeps_the_newest_backup_keep_and_never_counts_a_partial(backup_dir):
    old, middle, new = _fake_backups(
        backup_dir, "20261101T020000Z", "20261120T020000Z", "20261130T020000Z"
    )
    # A backup still being written is newer than all of them: it must not push `middle` out.
    partial = backup_dir / ".mini-crm-mini-crm-20261201T020000Z.tar.partial"
    partial.write_bytes(b"half")
    stranger = backup_dir / "notes.txt"
    stranger.write_text("mine")

    pruned = backup_prune(keep=2)

    assert pruned == [old]
    assert backups_list() == [middle, new]
    assert partial.exists()
    assert stranger.exists()


def test_pruning_removes_what_a_crash_left_a_day_ago_but_not_a_running_backup(backup_dir):
    backup_dir.mkdir(parents=True)
    stale = backup_dir / ".mini-crm-mini-crm-20261101T020000Z.tar.partial"
    stale_work = backup_dir / ".mini-crm-work-abc"
    running = backup_dir / ".mini-crm-mini-crm-20261201T020000Z.tar.partial"
    stale.write_bytes(b"half")
    stale_work.mkdir()
    running.write_bytes(b"half")
    day_ago = time.time() - 25 * 3600
    os.utime(stale, (day_ago, day_ago))
    os.utime(stale_work, (day_ago, day_ago))

    backup_prune(keep=14)

    assert not stale.exists()
    assert not stale_work.exists()
    assert running.exists()


def test_a_backup_prunes_the_oldest_beyond_backup_keep(seeded, settings, backup_dir):
    settings.BACKUP_KEEP = 2
    old, newer = _fake_backups(backup_dir, "20261101T020000Z", "20261102T020000Z")

    result = backup_create()

    assert result.pruned == [old]
    assert backups_list() == [newer, result.path]


def test_backup_keep_below_one_is_refused(settings, capsys):
    settings.BACKUP_KEEP = 0

    with pytest.raises(CommandError, match="BACKUP_KEEP must be 1 or more"):
        call_command("backup")


def test_a_failed_backup_leaves_no_file_that_counts_and_prunes_nothing(
    seeded, settings, backup_dir, monkeypatch
):
    settings.BACKUP_KEEP = 1
    (good,) = _fake_backups(backup_dir, "20261101T020000Z")

    def disk_full(tar, root):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(services, "_add_media", disk_full)

    with pytest.raises(CommandError, match="The backup could not be written: No space left"):
        call_command("backup")

    assert backups_list() == [good]  # the good one is still there, and nothing new counts
    assert sorted(p.name for p in backup_dir.iterdir()) == [".mini-crm-lock", good.name]


def test_a_failed_dump_is_a_clear_error_and_leaves_nothing(seeded, backup_dir, monkeypatch):
    def failing_dump(connection, dump):
        dump.write_bytes(b"half a dump")
        raise BackupError("pg_dump failed: connection refused")

    monkeypatch.setattr(services, "_sqlite_dump", failing_dump)
    monkeypatch.setattr(services, "_pg_dump", failing_dump)

    with pytest.raises(CommandError, match="pg_dump failed: connection refused"):
        call_command("backup")

    assert [p.name for p in backup_dir.iterdir()] == [".mini-crm-lock"]


def test_a_second_backup_while_one_runs_is_refused(seeded, backup_dir):
    backup_dir.mkdir(parents=True)
    with services._lock(backup_dir), pytest.raises(BackupError, match="Another backup is running"):
        backup_create()
    assert backups_list() == []


def test_an_unmigrated_database_is_not_backed_up():
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE django_migrations RENAME TO django_migrations_away")
    try:
        with pytest.raises(BackupError, match="not migrated"):
            backup_create()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE django_migrations_away RENAME TO django_migrations")
