"""The three roles (clients/permissions.py) as the roles migration, and the later migrations
that grant a new permission to its roles, make them."""

import importlib

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from clients.permissions import ROLES, role_group

pytestmark = pytest.mark.django_db

roles_migration = importlib.import_module("clients.migrations.0006_roles")
# (migration, its function) of each later grant, in order.
GRANTS = [
    ("clients", "0009_import_permission", "grant_to_managers"),
    ("timeline", "0002_roles", "grant_to_roles"),
]


def run_migration() -> None:
    """The migrations' functions on the models as they were at each migration."""
    loader = MigrationLoader(connection)
    roles_migration.create_roles(loader.project_state(("clients", "0006_roles")).apps, None)
    for app, name, function in GRANTS:
        module = importlib.import_module(f"{app}.migrations.{name}")
        getattr(module, function)(loader.project_state((app, name)).apps, None)


def granted() -> dict[str, set[str]]:
    return {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in Group.objects.prefetch_related("permissions__content_type")
    }


def test_the_migration_makes_the_roles_of_the_permissions_module():
    Group.objects.all().delete()  # as after a transactional test's flush
    run_migration()
    assert granted() == {name: set(perms) for name, perms in ROLES.items()}


def test_running_it_again_is_harmless_and_restores_what_was_changed():
    run_migration()
    Group.objects.get(name="Viewers").permissions.clear()
    run_migration()
    assert granted() == {name: set(perms) for name, perms in ROLES.items()}
    assert Group.objects.count() == 3


def test_a_missing_role_is_made_again_with_its_permissions():
    Group.objects.all().delete()
    group = role_group("Sales")
    assert granted() == {"Sales": set(ROLES["Sales"])}
    assert role_group("Sales") == group  # and found, not made, the next time
