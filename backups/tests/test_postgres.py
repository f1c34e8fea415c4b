"""Backups on the real PostgreSQL (CI's second pass): pg_dump on the counts' snapshot, the
password kept off the command line, a failing or too old pg_dump, a restore into a new database
by the command in its own process, and the cache's own keys dropped from Redis."""

import os
import re
import stat
import subprocess
import tarfile
from pathlib import Path

import dj_database_url
import psycopg
import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection

from backups import services
from backups.services import BackupError, backup_create, backups_list, database_summary
from backups.tests.conftest import manage, media_tree

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# Named after the suite's database (as deploy/tests/test_stack.py does), so two checkouts
# testing at once never share or drop each other's.
_SUITE_DATABASE = Path(str(django_settings.DATABASES["default"]["NAME"])).stem
RESTORED_DATABASE = re.sub(r"\W", "_", _SUITE_DATABASE) + "_restored"


def _conninfo(dbname: str) -> str:
    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    return psycopg.conninfo.make_conninfo(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname=dbname,
        options="-c TimeZone=UTC",
    )


def _recreate_database(name: str, *, drop_only=False):
    with psycopg.connect(_conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def _summary(dbname: str) -> dict:
    """database_summary() of `dbname` read by plain psycopg, the same way for both sides."""
    with psycopg.connect(_conninfo(dbname)) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        tables = [row[0] for row in cursor.fetchall()]
        return database_summary(cursor, tables=tables, quote=lambda name: f'"{name}"')


def _target_url(dbname: str) -> str:
    url = dj_database_url.parse(os.environ["DATABASE_URL"])
    password = f":{url['PASSWORD']}" if url["PASSWORD"] else ""
    return (
        f"postgres://{url['USER']}{password}@{url['HOST'] or '127.0.0.1'}:{url['PORT'] or 5432}"
        f"/{dbname}"
    )


@pytest.fixture
def restored_database():
    _recreate_database(RESTORED_DATABASE)
    yield RESTORED_DATABASE
    _recreate_database(RESTORED_DATABASE, drop_only=True)


@pytest.fixture
def recorded_runs(monkeypatch):
    """Every command the service runs, with the environment it got."""
    runs = []
    real_run = subprocess.run

    def run(command, *args, **kwargs):
        runs.append((command, kwargs.get("env")))
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(services.subprocess, "run", run)
    return runs


def test_a_postgresql_backup_restores_into_a_new_database_exactly(
    seeded, settings, tmp_path, restored_database
):
    result = backup_create()

    with tarfile.open(result.path) as tar:
        assert "database.pgdump" in tar.getnames()
    assert result.manifest["vendor"] == "postgresql"
    media = tmp_path / "restored-media"
    target_url = _target_url(restored_database)

    done = manage(
        "restore", str(result.path), env={"DATABASE_URL": target_url, "MEDIA_ROOT": str(media)}
    )

    assert done.returncode == 0, done.stderr
    assert "all matching the backup" in done.stdout
    source, target = _summary(connection.settings_dict["NAME"]), _summary(restored_database)
    assert target == source
    assert target["tables"]["clients_client"] == 3
    assert target["tables"]["clients_order"] == 5
    assert media_tree(media) == media_tree(settings.MEDIA_ROOT)
    assert len(media_tree(media)) == 2

    # Twice: the database now holds data, and the command refuses it with a clear message.
    again = manage(
        "restore", str(result.path), env={"DATABASE_URL": target_url, "MEDIA_ROOT": str(media)}
    )
    assert again.returncode == 1
    assert "The database is not empty" in again.stderr
    assert "Traceback" not in again.stderr


def test_a_failing_pg_restore_leaves_the_new_database_as_it_was(
    seeded, tmp_path, restored_database
):
    result = backup_create()
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pg_restore").write_text(
        "#!/bin/sh\necho 'pg_restore: error: could not execute query: out of memory' >&2\nexit 1\n"
    )
    (fake / "pg_restore").chmod(0o755)
    media = tmp_path / "restored-media"

    done = manage(
        "restore",
        str(result.path),
        env={
            "DATABASE_URL": _target_url(restored_database),
            "MEDIA_ROOT": str(media),
            "PATH": f"{fake}:{os.environ['PATH']}",
        },
    )

    assert done.returncode == 1
    assert "pg_restore failed: pg_restore: error: could not execute query" in done.stderr
    assert "The database is left as it was." in done.stderr
    assert _summary(restored_database)["tables"] == {}
    assert media_tree(media) == {}


def test_the_password_goes_to_pg_dump_in_its_environment_never_its_arguments(
    seeded, recorded_runs, monkeypatch
):
    # Trust authentication here: any password is accepted, and must travel as PGPASSWORD.
    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "not-on-the-command-line")

    backup_create()

    (dump,) = [(command, env) for command, env in recorded_runs if "--format=custom" in command]
    command, env = dump
    assert not any("not-on-the-command-line" in part for part in command)
    assert env["PGPASSWORD"] == "not-on-the-command-line"
    assert env["PGDATABASE"] == connection.settings_dict["NAME"]


def _fake_pg_dump(folder: Path, *, version: str, fails: bool) -> None:
    """A pg_dump on PATH that reports `version` and, when `fails`, writes half a file first."""
    folder.mkdir()
    script = folder / "pg_dump"
    script.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = --version ] && echo "pg_dump (PostgreSQL) {version}" && exit 0\n'
        'for arg; do case "$arg" in --file=*) echo half > "${arg#--file=}";; esac; done\n'
        f"{'echo "pg_dump: error: connection to server lost" >&2; exit 1' if fails else 'exit 0'}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_a_failing_pg_dump_is_a_clear_error_and_leaves_no_file(
    seeded, tmp_path, backup_dir, monkeypatch
):
    _fake_pg_dump(tmp_path / "bin", version="17.2", fails=True)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")

    with pytest.raises(BackupError, match="pg_dump failed: pg_dump: error: connection to server"):
        backup_create()

    assert backups_list() == []
    assert [p.name for p in backup_dir.iterdir()] == [".mini-crm-lock"]


def test_a_pg_dump_older_than_the_server_is_refused_by_name(seeded, tmp_path, monkeypatch):
    _fake_pg_dump(tmp_path / "bin", version="9.6.24", fails=False)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    server = connection.pg_version // 10000

    with pytest.raises(BackupError, match=f"pg_dump 9 cannot dump PostgreSQL {server}"):
        backup_create()

    assert backups_list() == []


def test_a_restore_drops_the_caches_keys_from_redis_but_not_celerys(seeded):
    assert django_settings.CACHES["default"]["BACKEND"] == "core.redis_cache.RedisCache"
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    cache.set("clients:version", 7, None)
    client.rpush("celery", "a queued task")
    try:
        assert services.cache_forget() is True

        assert cache.get("clients:version") is None
        assert client.lrange("celery", 0, -1) == [b"a queued task"]
    finally:
        client.delete("celery")
