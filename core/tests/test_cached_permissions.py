"""The permission sets read from the cache (core/auth.py): no query once cached, and any change
of who holds what shows on the next request."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from clients.permissions import SALES, VIEWERS, role_group
from clients.tests.factories import UserFactory
from core.testing import DEAD_REDIS

pytestmark = pytest.mark.django_db

LIST, ADD = "/clients/", "/clients/add/"


def permission_reads(http, url=LIST) -> int:
    with CaptureQueriesContext(connection) as ctx:
        http.get(url)
    return sum("auth_permission" in q["sql"] for q in ctx.captured_queries)


def test_a_users_permissions_are_read_once_then_cached(client):
    client.force_login(UserFactory(roles=[SALES]))
    assert permission_reads(client) == 2  # the user's own, then their groups'
    assert permission_reads(client) == 0


def test_a_new_role_shows_on_the_next_request(client):
    user = UserFactory(roles=[VIEWERS])
    client.force_login(user)
    assert client.get(ADD).status_code == 403
    user.groups.add(role_group(SALES))
    assert client.get(ADD).status_code == 200


def test_leaving_every_role_shows_on_the_next_request(client):
    user = UserFactory(roles=[SALES])
    client.force_login(user)
    assert client.get(LIST).status_code == 200
    user.groups.clear()
    assert client.get(LIST).status_code == 403


def test_a_groups_and_a_users_own_permissions_show_on_the_next_request(client):
    user = UserFactory(roles=[VIEWERS])
    client.force_login(user)
    assert client.get(ADD).status_code == 403
    Group.objects.get(name=VIEWERS).permissions.add(Permission.objects.get(codename="add_client"))
    assert client.get(ADD).status_code == 200
    user.groups.clear()
    assert client.get(ADD).status_code == 403
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_client"]))
    assert client.get(ADD).status_code == 200


def test_with_the_cache_down_permissions_come_from_the_database(client):
    client.force_login(UserFactory(roles=[SALES]))
    with override_settings(CACHES=DEAD_REDIS):
        assert client.get(LIST).status_code == 200
        assert permission_reads(client) == 2


def test_a_deleted_role_shows_on_the_next_request(client):
    client.force_login(UserFactory(roles=[SALES]))
    assert client.get(LIST).status_code == 200
    Group.objects.get(name=SALES).delete()
    assert client.get(LIST).status_code == 403
