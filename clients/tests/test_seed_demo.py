import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import F, Max, Min
from django.utils import timezone

from clients import permissions
from clients.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERNAME, ROLE_LOGINS
from clients.models import Client, Order
from clients.services import totals_drift
from dashboard.services import rollups_drift

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _development(settings):
    """`make run` seeds with DJANGO_DEBUG=1; the refusal test below turns it off."""
    settings.DEBUG = True


def test_seed_creates_clients_orders_and_a_demo_login():
    call_command("seed_demo", clients=30, orders=3)
    assert Client.objects.count() == 30
    assert Order.objects.exists()
    demo = get_user_model().objects.get(username="demo")
    assert demo.check_password("demo12345")
    assert demo.is_superuser
    assert all(c.email.isascii() for c in Client.objects.all())
    # The VIP rule holds for demo data too (bulk_create skips signals, so the seed sets it).
    assert all(c.vip == c.email.endswith("@company.com") for c in Client.objects.all())


def test_seed_is_idempotent():
    call_command("seed_demo", clients=20, orders=2)
    counts = Client.objects.count(), Order.objects.count()
    call_command("seed_demo", clients=20, orders=2)
    assert (Client.objects.count(), Order.objects.count()) == counts


def test_if_empty_leaves_an_existing_database_alone():
    call_command("seed_demo", clients=5, orders=0)
    call_command("seed_demo", clients=50, if_empty=True)
    assert Client.objects.count() == 5


def test_negative_sizes_are_refused():
    with pytest.raises(CommandError):
        call_command("seed_demo", clients=-1)


@pytest.mark.parametrize(
    ("username", "role", "allowed", "refused"),
    [
        ("manager", "Managers", permissions.ROLES[permissions.MANAGERS], ()),
        (
            "sales",
            "Sales",
            permissions.SELLING,
            (permissions.DELETE_CLIENT, permissions.MERGE_CLIENT, permissions.EXPORT_CLIENT),
        ),
        ("viewer", "Viewers", permissions.VIEWING, (permissions.ADD_CLIENT,)),
    ],
)
def test_seed_creates_one_login_per_role(username, role, allowed, refused):
    call_command("seed_demo", clients=0)
    user = get_user_model().objects.get(username=username)
    assert user.check_password(ROLE_LOGINS[username][0])
    assert list(user.groups.values_list("name", flat=True)) == [role]
    assert not user.is_superuser
    assert all(user.has_perm(perm) for perm in allowed)
    assert not any(user.has_perm(perm) for perm in refused)


def test_seed_keeps_a_changed_role_password_and_restores_the_group():
    call_command("seed_demo", clients=0)
    sales = get_user_model().objects.get(username="sales")
    sales.set_password("changed-by-hand-123")
    sales.save()
    sales.groups.clear()
    call_command("seed_demo", clients=0)
    sales.refresh_from_db()
    assert sales.check_password("changed-by-hand-123")
    assert list(sales.groups.values_list("name", flat=True)) == ["Sales"]


def test_make_run_prints_every_demo_login_with_its_password():
    makefile = (ROOT / "Makefile").read_text()
    run = re.search(r"^run:.*?(?=^\S)", makefile, re.MULTILINE | re.DOTALL).group(0)
    logins = {DEMO_USERNAME: DEMO_PASSWORD} | {name: pw for name, (pw, _) in ROLE_LOGINS.items()}
    for username, password in logins.items():
        assert re.search(rf"\b{username} / {password}\b", run), (username, run)


def test_seed_refuses_to_run_in_production_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("seed_demo", clients=1)
    assert not get_user_model().objects.filter(username=DEMO_USERNAME).exists()
    call_command("seed_demo", clients=1, force=True)
    assert Client.objects.count() == 1


def test_the_demo_history_spans_a_year_and_keeps_every_total_exact():
    call_command("seed_demo", clients=60, orders=4)
    now = timezone.now()
    span = Client.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert now - span["first"] > timedelta(days=200)  # months of history for the dashboard
    assert span["last"] <= now
    assert not Order.objects.filter(created_at__lt=F("client__created_at")).exists()
    assert Order.objects.filter(created_at__gte=now - timedelta(days=31)).exists()
    assert totals_drift() == []
    assert rollups_drift() == []
