"""Merging a duplicate client into the one to keep: the service, the page and the admin action."""

from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db.models import Sum

from clients import events
from clients.models import Client, Order
from clients.permissions import SALES
from clients.services import MergeError, client_merge
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory, image_bytes, upload

pytestmark = pytest.mark.django_db

MERGE = "/clients/merge/"


def snapshot():
    """Everything a merge may touch, to compare before and after."""
    return (
        list(Client.objects.order_by("pk").values()),
        list(Order.objects.order_by("pk").values_list("pk", "client_id", "amount", "status")),
    )


@pytest.fixture
def pair():
    source = ClientFactory(name="Ada Duplicate", phone="")
    target = ClientFactory(name="Ada Lovelace", phone="")
    for amount in ("10.00", "20.50", "30.00"):
        OrderFactory(client=source, amount=Decimal(amount))
    OrderFactory(client=target, amount=Decimal("5.00"), status=Order.Status.DONE)
    return source, target


# --- The service ----------------------------------------------------------------------------


def test_orders_move_to_the_target_and_totals_are_conserved(pair):
    source, target = pair
    other = OrderFactory()
    result = client_merge(source_id=source.pk, target_id=target.pk)
    assert result.orders_moved == 3
    assert result.target.pk == target.pk
    assert result.source_name == "Ada Duplicate"
    assert not Client.objects.filter(pk=source.pk).exists()
    assert target.orders.count() == 4
    assert target.orders.aggregate(s=Sum("amount"))["s"] == Decimal("65.50")
    assert Order.objects.count() == 5
    assert Order.objects.aggregate(s=Sum("amount"))["s"] == Decimal("165.50")
    other.refresh_from_db()
    assert other.client_id != target.pk  # only the source's orders moved
    # Statuses and amounts travel unchanged.
    assert sorted(target.orders.values_list("status", flat=True)) == ["DONE", "NEW", "NEW", "NEW"]


def test_a_client_without_orders_merges_with_zero_moved():
    source, target = ClientFactory(), ClientFactory()
    assert client_merge(source_id=source.pk, target_id=target.pk).orders_moved == 0
    assert list(Client.objects.all()) == [target]


@pytest.mark.parametrize(
    ("source_vip", "target_vip"), [(True, False), (False, True), (True, True), (False, False)]
)
def test_the_target_is_vip_if_either_was(source_vip, target_vip):
    source, target = ClientFactory(vip=source_vip), ClientFactory(vip=target_vip)
    client_merge(source_id=source.pk, target_id=target.pk)
    target.refresh_from_db()
    assert target.vip is (source_vip or target_vip)


def test_an_empty_phone_is_filled_from_the_source_and_a_set_one_is_kept():
    source, target = ClientFactory(phone="+49 1"), ClientFactory(phone="")
    result = client_merge(source_id=source.pk, target_id=target.pk)
    target.refresh_from_db()
    assert target.phone == "+49 1"
    assert result.filled_fields == ("phone",)

    source, target = ClientFactory(phone="+49 2"), ClientFactory(phone="+33 3")
    client_merge(source_id=source.pk, target_id=target.pk)
    target.refresh_from_db()
    assert target.phone == "+33 3"


def test_the_source_avatar_moves_to_a_target_without_one_and_its_file_survives(
    django_capture_on_commit_callbacks,
):
    source = ClientFactory(avatar=upload(image_bytes()))
    target = ClientFactory()
    name = source.avatar.name
    file = Path(settings.MEDIA_ROOT) / name
    assert file.is_file()
    with django_capture_on_commit_callbacks(execute=True):  # django-cleanup acts on commit
        client_merge(source_id=source.pk, target_id=target.pk)
    target.refresh_from_db()
    assert target.avatar.name == name
    assert file.is_file()


def test_the_target_keeps_its_avatar_and_the_source_file_goes(django_capture_on_commit_callbacks):
    source = ClientFactory(avatar=upload(image_bytes()))
    target = ClientFactory(avatar=upload(image_bytes("GIF"), "t.gif"))
    source_file = Path(settings.MEDIA_ROOT) / source.avatar.name
    target_name = target.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        result = client_merge(source_id=source.pk, target_id=target.pk)
    target.refresh_from_db()
    assert target.avatar.name == target_name
    assert (Path(settings.MEDIA_ROOT) / target_name).is_file()
    assert not source_file.exists()
    assert "avatar" not in result.filled_fields


def test_merging_a_client_into_itself_is_refused(pair):
    source, _ = pair
    before = snapshot()
    with pytest.raises(MergeError, match="into itself") as error:
        client_merge(source_id=source.pk, target_id=source.pk)
    assert error.value.code == "same_client"
    assert snapshot() == before


@pytest.mark.parametrize("missing", ["source", "target"])
def test_a_client_that_no_longer_exists_is_refused(pair, missing):
    source, target = pair
    ids = {"source_id": source.pk, "target_id": target.pk}
    ids[f"{missing}_id"] = 999_999
    before = snapshot()
    with pytest.raises(MergeError, match="#999999 no longer exists") as error:
        client_merge(**ids)
    assert error.value.code == "not_found"
    assert snapshot() == before


def test_a_failure_after_the_orders_moved_rolls_everything_back(
    pair, django_capture_on_commit_callbacks
):
    source, target = pair
    before = snapshot()
    moved = []
    original_update = type(Order.objects.all()).update

    def update_then_record(queryset, **kwargs):
        count = original_update(queryset, **kwargs)
        moved.append(count)
        return count

    with (
        django_capture_on_commit_callbacks() as callbacks,
        mock.patch.object(type(Order.objects.all()), "update", update_then_record),
        mock.patch.object(Client, "delete", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError, match="disk full"),
    ):
        client_merge(source_id=source.pk, target_id=target.pk)
    assert moved[0] == 3  # the orders had moved (the first UPDATE) when the delete failed...
    assert snapshot() == before  # ...and are back on the source, which still exists
    assert source.orders.count() == 3
    # No side effect was announced for the rolled-back merge.
    assert callbacks == []


def test_the_change_is_announced_after_commit_only(pair, django_capture_on_commit_callbacks):
    source, target = pair
    heard = []

    def listener(**kwargs):
        heard.append(kwargs)

    events.clients_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            client_merge(source_id=source.pk, target_id=target.pk)
        assert heard == []
        for callback in callbacks:
            callback()
        assert heard
    finally:
        events.clients_changed.disconnect(listener)


# --- The page -------------------------------------------------------------------------------


@pytest.fixture
def merger(db):
    """A sales person granted the merge permission on top of their role, not staff."""
    user = UserFactory(username="merger", roles=[SALES])
    user.user_permissions.add(Permission.objects.get(codename="merge_client"))
    return user


def test_guest_is_redirected_to_login(client, pair):
    source, target = pair
    for response in (
        client.get(MERGE),
        client.post(MERGE, {"source": source.pk, "target": target.pk}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=/clients/merge/")
    assert Client.objects.count() == 2


def test_a_role_without_the_permission_is_forbidden(client, sales, pair):
    source, target = pair
    client.force_login(sales)
    assert client.get(MERGE).status_code == 403
    assert client.post(MERGE, {"source": source.pk, "target": target.pk}).status_code == 403
    assert Client.objects.count() == 2


def test_staff_status_alone_grants_no_merge(client, pair):
    # is_staff means "may enter the admin", nothing more (clients/permissions.py).
    client.force_login(UserFactory(username="staffer", is_staff=True, roles=[SALES]))
    source, target = pair
    assert client.post(MERGE, {"source": source.pk, "target": target.pk}).status_code == 403
    assert Client.objects.count() == 2


@pytest.mark.parametrize("who", ["merger", "staff"])
def test_staff_and_members_with_the_permission_can_merge(client, pair, merger, staff, who):
    source, target = pair
    client.force_login(merger if who == "merger" else staff)
    assert client.get(MERGE).status_code == 200
    response = client.post(MERGE, {"source": source.pk, "target": target.pk})
    assert response.status_code == 302
    assert not Client.objects.filter(pk=source.pk).exists()


def test_a_merge_redirects_to_the_kept_client_with_the_number_of_orders_moved(staff_client, pair):
    source, target = pair
    response = staff_client.post(MERGE, {"source": source.pk, "target": target.pk}, follow=True)
    assert response.redirect_chain == [(f"/clients/{target.pk}/", 302)]
    assert "Merged “Ada Duplicate” into “Ada Lovelace”: 3 orders moved." in response.text


def test_one_order_moved_is_singular(staff_client):
    source, target = OrderFactory().client, ClientFactory()
    response = staff_client.post(MERGE, {"source": source.pk, "target": target.pk})
    (message,) = get_messages(response.wsgi_request)
    assert str(message).endswith(": 1 order moved.")


def test_merging_into_itself_is_a_form_error(staff_client, pair):
    source, _ = pair
    before = snapshot()
    response = staff_client.post(MERGE, {"source": source.pk, "target": source.pk})
    assert response.status_code == 200
    assert "cannot be merged into itself" in response.text
    assert 'role="alert"' in response.text
    assert snapshot() == before


def test_a_client_deleted_meanwhile_is_a_form_error(staff_client, pair):
    source, target = pair
    target_pk = target.pk
    target.delete()
    response = staff_client.post(MERGE, {"source": source.pk, "target": target_pk})
    assert response.status_code == 200
    assert f"Client #{target_pk} no longer exists" in response.text
    assert source.orders.count() == 3


@pytest.mark.parametrize(
    "data",
    [{}, {"source": "abc", "target": "1"}, {"source": "1"}, {"source": "-4", "target": "1"}],
    ids=["nothing", "junk", "no-target", "negative"],
)
def test_bad_input_is_a_form_error_not_a_500(staff_client, pair, data):
    before = snapshot()
    response = staff_client.post(MERGE, data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert snapshot() == before


def test_the_page_prefills_the_source_and_searches_its_namesakes(staff_client):
    source = ClientFactory(name="Grace Hopper", email="grace@navy.test")
    twin = ClientFactory(name="Grace Hopper", email="g.hopper@mail.test")
    ClientFactory(name="Alan Turing")
    response = staff_client.get(f"{MERGE}?source={source.pk}")
    assert response.status_code == 200
    assert response.context["source"] == source
    assert response.context["q"] == "Grace Hopper"
    assert {c.pk for c in response.context["candidates"]} == {source.pk, twin.pk}
    # The chosen duplicate is marked, not offered as the client to keep.
    assert "<strong>Merging away</strong>" in response.text
    assert f"source={source.pk}&amp;target={source.pk}" not in response.text
    # Choosing the twin to keep keeps the source in the link.
    twin_row = next(c for c in response.context["candidates"] if c.pk == twin.pk)
    assert twin_row.keep_url == f"{MERGE}?q=Grace+Hopper&source={source.pk}&target={twin.pk}"
    chosen = staff_client.get(twin_row.keep_url)
    assert chosen.context["target"] == twin
    assert f'<input type="hidden" name="source" value="{source.pk}">' in chosen.text
    assert f'<input type="hidden" name="target" value="{twin.pk}">' in chosen.text
    assert "Merge “Grace Hopper” into “Grace Hopper”" in chosen.text


def test_a_choice_survives_another_search(staff_client):
    source = ClientFactory(name="Ada One")
    target = ClientFactory(name="Zed Other")
    page = staff_client.get(f"{MERGE}?source={source.pk}&q=zed")
    assert page.context["source"] == source  # pinned, though it does not match "zed"
    assert [c.pk for c in page.context["candidates"]] == [target.pk]
    assert f'name="source" value="{source.pk}"' in page.text  # the search form carries it


def test_the_candidate_list_is_bounded(staff_client):
    for i in range(25):
        ClientFactory(name=f"Acme {i}")
    response = staff_client.get(f"{MERGE}?q=acme")
    assert len(response.context["candidates"]) == 20
    assert "refine the search" in response.text


def test_a_stale_source_link_shows_an_empty_choice(staff_client):
    response = staff_client.get(f"{MERGE}?source=999999&target=junk")
    assert response.status_code == 200
    assert response.context["source"] is None
    assert response.context["target"] is None


@pytest.mark.parametrize("page", ["", "edit/"])
def test_the_client_and_edit_pages_offer_the_merge_to_those_allowed(
    client, sales, merger, staff, page
):
    c = ClientFactory()
    link = f'href="/clients/merge/?source={c.pk}"'
    for user, shown in ((sales, False), (merger, True), (staff, True)):
        client.force_login(user)
        assert (link in client.get(f"/clients/{c.pk}/{page}").text) is shown


# --- The admin action -----------------------------------------------------------------------


@pytest.fixture
def admin_client_(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def run_action(http, *clients):
    return http.post(
        "/admin/clients/client/",
        {"action": "merge_two_clients", "_selected_action": [c.pk for c in clients]},
        follow=True,
    )


def test_admin_action_merges_the_newer_into_the_older(admin_client_, pair):
    older, newer = pair  # the fixture creates the source first
    response = run_action(admin_client_, newer, older)
    assert "Merged “Ada Lovelace” into “Ada Duplicate”: 1 order moved." in response.text
    assert list(Client.objects.all()) == [older]
    assert older.orders.count() == 4


@pytest.mark.parametrize("count", [1, 3])
def test_admin_action_needs_exactly_two(admin_client_, count):
    clients = [ClientFactory() for _ in range(count)]
    response = run_action(admin_client_, *clients)
    assert "Select exactly two clients to merge" in response.text
    assert Client.objects.count() == count


def test_admin_action_follows_the_same_rule_as_the_page(client, pair):
    # In the admin everyone is staff; the merge permission, not staff status, offers the action.
    staffer = UserFactory(username="staffer", is_staff=True)
    staffer.user_permissions.add(Permission.objects.get(codename="view_client"))
    client.force_login(staffer)
    assert "merge_two_clients" not in client.get("/admin/clients/client/").text
    source, target = pair
    run_action(client, source, target)
    assert Client.objects.count() == 2  # refused: nothing merged
    staffer.user_permissions.add(Permission.objects.get(codename="merge_client"))
    client.force_login(staffer)
    assert "merge_two_clients" in client.get("/admin/clients/client/").text
    run_action(client, source, target)
    assert Client.objects.count() == 1


def test_a_nul_character_in_the_merge_search_finds_nobody(staff_client):
    ClientFactory(name="Ada")
    response = staff_client.get("/clients/merge/?q=a%00&source=%00")
    assert response.status_code == 200
