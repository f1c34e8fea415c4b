"""Backups write into a folder of the test's own; `seeded` is a small site with avatars."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clients.tests.factories import ClientFactory, OrderFactory, UserFactory, image_bytes, upload

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def backup_dir(settings, tmp_path) -> Path:
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_KEEP = 14
    return settings.BACKUP_DIR


@pytest.fixture(autouse=True)
def _orders_deleted_first(request):
    """The flush after a transactional test empties the clients before their orders; on
    SQLite the roll-up triggers then refuse the orders' delete. Delete the orders first."""
    yield
    if "django_db" in request.keywords:
        delete_orders()


def delete_orders() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM clients_order")


@pytest.fixture
def seeded(settings):
    """Three clients (two with avatars), five orders, a user: what a backup must carry."""
    UserFactory(username="owner")
    clients = [ClientFactory(name=f"Client {n}", avatar=upload(image_bytes())) for n in range(2)]
    clients.append(ClientFactory(name="Client 2"))
    for n in range(5):
        OrderFactory(client=clients[n % 3], title=f"Order {n}")
    return clients


def media_tree(root: Path) -> dict[str, bytes]:
    """Every file under `root`, by relative path, with its bytes."""
    root = Path(root)
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    """`manage.py <args>` in a process of its own, with the production settings module in debug
    (no secret needed) and `env` on top: a restore into a database the suite does not hold."""
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    base.update(
        DJANGO_SETTINGS_MODULE="mini_crm.settings", DJANGO_DEBUG="1", DJANGO_DEBUG_TOOLBAR="0"
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
