import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from clients.models import Client, Order

pytestmark = pytest.mark.django_db


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


def test_seed_refuses_to_run_in_production_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("seed_demo", clients=1)
    assert not get_user_model().objects.filter(username="demo").exists()
    call_command("seed_demo", clients=1, force=True)
    assert Client.objects.count() == 1
