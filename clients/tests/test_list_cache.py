"""The cached client list: fewer queries on a hit, never stale, never another user's page.

Data changes are wrapped in `django_capture_on_commit_callbacks(execute=True)`: inside a test
transaction nothing commits, and the cache is invalidated after commit, as in production.
"""

import re
import threading
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client as HttpClient
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from clients.models import Client
from clients.permissions import SALES
from clients.services import client_merge
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from core import cache as core_cache
from core import redis_cache
from core.redis_cache import RedisCacheClient
from core.testing import DEAD_REDIS

pytestmark = pytest.mark.django_db

LIST = "/clients/"


def get(http, url=LIST):
    response = http.get(url)
    assert response.status_code == 200
    return response


def queries_for(http, url=LIST) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = get(http, url)
    return len(ctx.captured_queries), response


def row(response, client: Client) -> tuple[str, str]:
    """The (orders count, total) shown for `client`, or None when not on the page."""
    html = response.text
    match = re.search(
        rf'data-client-id="{client.pk}".*?data-field="orders_count">(\d+)<'
        r'.*?data-field="orders_total">([^<]*)<',
        html,
        re.S,
    )
    return match and (match[1], match[2])


def test_a_repeated_get_is_served_from_the_cache(
    member_client, session_queries, permission_queries
):
    for _ in range(3):
        OrderFactory()
    # The session (unless cached), 1. the user, its permissions (2), 2. COUNT(*) for the paginator,
    # 3. the page's clients with their order totals.
    assert queries_for(member_client)[0] == session_queries + permission_queries + 3
    # The session (unless cached) and the user (its permissions cached): the count and the rows come
    # from the cache.
    count, response = queries_for(member_client)
    assert count == session_queries + 1
    assert len(response.context["clients"]) == 3
    assert response.context["paginator"].count == 3


def test_the_count_is_cached_even_when_the_page_is_not(
    member_client, session_queries, permission_queries
):
    for _ in range(15):
        ClientFactory()
    assert queries_for(member_client)[0] == session_queries + permission_queries + 3
    # The session (unless cached), 1. the user (its permissions cached), 2. page 2's clients with
    # their totals (no COUNT(*)).
    count, response = queries_for(member_client, f"{LIST}?page=2")
    assert count == session_queries + 2
    assert response.context["page_obj"].number == 2


def test_cached_rows_render_like_fresh_ones(member_client):
    order = OrderFactory(amount=Decimal("1234.50"), client__vip=True, client__phone="+1 555")
    fresh = get(member_client).text
    cached = get(member_client).text
    # Identical but for the CSRF token, which Django masks afresh on every render.
    assert get_token(cached) != get_token(fresh)
    assert cached.replace(get_token(cached), "") == fresh.replace(get_token(fresh), "")
    assert row(get(member_client), order.client) == ("1", "1,234.50")
    assert "VIP</span>" in cached


def test_q_and_page_are_part_of_the_key(member_client):
    for i in range(12):
        ClientFactory(name=f"Acme {i:02}")
    ClientFactory(name="Zed")
    for _ in range(2):  # the second round is served from the cache
        assert [c.name for c in get(member_client, f"{LIST}?q=zed").context["clients"]] == ["Zed"]
        acme = get(member_client, f"{LIST}?q=acme").context
        assert acme["paginator"].count == 12
        page2 = get(member_client, f"{LIST}?q=acme&page=2").context["clients"]
        assert len(page2) == 2
        assert {c.name for c in page2}.isdisjoint(c.name for c in acme["clients"])
        assert get(member_client).context["paginator"].count == 13


def test_the_query_is_normalised_but_hashed_into_the_key(
    member_client, session_queries, permission_queries
):
    ClientFactory(name="Ada")
    get(member_client, f"{LIST}?q=ada")
    # Surrounding spaces are ignored by the search, so they share the cached entry:
    # The session (unless cached) and the user (its permissions cached).
    count, response = queries_for(member_client, f"{LIST}?q=%20ada%20")
    assert count == session_queries + 1
    assert response.context["q"] == "ada"
    # Any text is a safe key: no key warning, no error.
    assert get(member_client, f"{LIST}?q=" + "%0A%20%E2%9C%93" * 200).context["clients"] == []


def test_an_edit_shows_at_once(member_client, django_capture_on_commit_callbacks):
    c = ClientFactory(name="Old Name")
    assert "Old Name" in get(member_client).text
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(f"/clients/{c.pk}/edit/", {"name": "New Name", "email": c.email})
    html = get(member_client).text
    assert "New Name" in html
    assert "Old Name" not in html


def test_a_new_order_shows_at_once(member_client, django_capture_on_commit_callbacks):
    c = ClientFactory()
    get(member_client)
    assert row(get(member_client), c) == ("0", "0.00")
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(client=c, amount=Decimal("42.00"))
    assert row(get(member_client), c) == ("1", "42.00")


def test_a_changed_order_shows_at_once(member_client, django_capture_on_commit_callbacks):
    order = OrderFactory(amount=Decimal("10.00"))
    assert row(get(member_client), order.client) == ("1", "10.00")
    with django_capture_on_commit_callbacks(execute=True):
        order.amount = Decimal("11.00")
        order.save()
    assert row(get(member_client), order.client) == ("1", "11.00")


def test_a_delete_shows_at_once(member_client, django_capture_on_commit_callbacks):
    gone, kept = ClientFactory(name="Gone Client"), ClientFactory(name="Kept Client")
    OrderFactory(client=kept)
    assert "Gone Client" in get(member_client).text
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(f"/clients/{gone.pk}/edit/delete/")
    response = get(member_client)
    assert row(response, gone) is None
    assert response.context["paginator"].count == 1
    with django_capture_on_commit_callbacks(execute=True):
        kept.orders.get().delete()
    assert row(get(member_client), kept) == ("0", "0.00")


def test_a_merge_shows_at_once(member_client, django_capture_on_commit_callbacks):
    source, target = OrderFactory().client, OrderFactory().client
    assert row(get(member_client), target) == ("1", "100.00")
    with django_capture_on_commit_callbacks(execute=True):
        client_merge(source_id=source.pk, target_id=target.pk)
    response = get(member_client)
    assert row(response, target) == ("2", "200.00")
    assert row(response, source) is None
    assert response.context["paginator"].count == 1


def test_a_rolled_back_change_keeps_the_cache(
    member_client, django_capture_on_commit_callbacks, session_queries, permission_queries
):
    ClientFactory()
    get(member_client)
    with django_capture_on_commit_callbacks(execute=False):  # never committed
        ClientFactory()
    # The session (unless cached) and the user (its permissions cached): still a hit.
    assert queries_for(member_client)[0] == session_queries + 1


def test_a_lost_version_never_brings_back_old_pages(
    member_client, django_capture_on_commit_callbacks
):
    c = ClientFactory(name="Before")
    get(member_client)
    cache.delete("clients:version")  # evicted under memory pressure, say
    with django_capture_on_commit_callbacks(execute=True):
        c.name = "After"
        c.save()
    assert "After" in get(member_client).text
    cache.delete("clients:version")
    assert "After" in get(member_client).text


def test_user_b_never_sees_user_a_page(
    django_capture_on_commit_callbacks, session_queries, permission_queries
):
    ClientFactory(name="Shared Client")
    alice = UserFactory(username="alice", roles=[SALES])
    bob = UserFactory(username="bob", roles=[SALES])
    as_alice, as_bob = HttpClient(), HttpClient()
    as_alice.force_login(alice)
    as_bob.force_login(bob)
    staff = UserFactory(username="carol", is_staff=True, roles=[SALES])
    as_carol = HttpClient()
    as_carol.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        c = ClientFactory(name="Alice Added")
    # Alice's edit leaves her a flash message, then her list page fills the cache.
    as_alice.post(f"/clients/{c.pk}/edit/", {"name": "Alice Edited", "email": c.email})
    alice_page = get(as_alice).text
    assert "Client “Alice Edited” was updated." in alice_page
    assert ">alice<" in alice_page
    # The session (unless cached), the user and its permissions: Bob's page comes from the cached
    # data...
    count, response = queries_for(as_bob)
    assert count == session_queries + permission_queries + 1
    bob_page = response.text
    # ...but is his own page.
    assert "Shared Client" in bob_page
    assert ">bob<" in bob_page
    assert "alice" not in bob_page
    assert "was updated" not in bob_page
    assert get_token(bob_page) != get_token(alice_page)
    # Staff-only parts of the page follow the user, not the cache.
    assert 'href="/admin/"' in get(as_carol).text
    assert 'href="/admin/"' not in bob_page


def test_a_flash_message_is_shown_once_even_on_a_cache_hit(
    member_client, session_queries, permission_queries
):
    c = ClientFactory(name="Ada")
    get(member_client)  # fills the cache
    # A change that is never committed (inside the test transaction) keeps the cache warm,
    # so the page after the redirect is a cache hit.
    response = member_client.post(f"/clients/{c.pk}/edit/", {"name": "Ada", "email": c.email})
    assert response.status_code == 302
    count, first = queries_for(member_client)
    assert "Client “Ada” was updated." in first.text
    # The session (unless cached) and the user (its permissions cached): rows and count cached (the
    # message lives in a cookie).
    assert count == session_queries + 1
    second = get(member_client)
    assert "was updated" not in second.text


def test_a_flash_message_after_a_committed_change_is_shown_once(
    member_client, django_capture_on_commit_callbacks, session_queries, permission_queries
):
    c = ClientFactory(name="Ada")
    get(member_client)
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(f"/clients/{c.pk}/edit/", {"name": "Ada L", "email": c.email})
    assert "Client “Ada L” was updated." in get(member_client).text
    # The session (unless cached) and the user (its permissions cached): a hit, and the message is
    # gone.
    count, second = queries_for(member_client)
    assert count == session_queries + 1
    assert "was updated" not in second.text


def get_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]


def test_the_csrf_token_of_a_cached_page_works(member, session_queries, permission_queries):
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(member)
    ClientFactory()
    get(http)
    count, response = queries_for(http)
    assert count == session_queries + 1  # a cache hit
    logout = http.post("/accounts/logout/", {"csrfmiddlewaretoken": get_token(response.text)})
    assert logout.status_code == 302
    assert http.get(LIST).status_code == 302  # logged out: back to the login page


def test_guest_is_still_redirected_when_the_page_is_cached(client, member_client):
    ClientFactory()
    get(member_client)
    client.logout()
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_redis_down_serves_the_page_uncached_and_logs(
    member_client, caplog, django_capture_on_commit_callbacks, permission_queries
):
    ClientFactory(name="Still Here")
    with override_settings(CACHES=DEAD_REDIS):
        count, response = queries_for(member_client)
        assert "Still Here" in response.text
        # 1. the session (from the database: Redis is down), 2. the user, the user's
        # permissions, 3. COUNT(*), 4. the page.
        assert count == permission_queries + 4
        # The first failed read (the session's when it is cached, else the version's) is
        # logged; the reads after it skip the cache.
        assert "failed; serving without the cache" in caplog.text
        # A save still works: the failed version bump is logged, not raised.
        with django_capture_on_commit_callbacks(execute=True):
            c = ClientFactory(name="Added While Down")
        assert Client.objects.filter(pk=c.pk).exists()
        assert "cache version bump failed" in caplog.text
        assert "Added While Down" in get(member_client).text


def test_after_a_cache_error_reads_skip_the_cache_for_a_while(
    member_client, caplog, monkeypatch, session_queries, permission_queries
):
    ClientFactory()

    def failures() -> int:
        return sum("failed; serving without the cache" in r.getMessage() for r in caplog.records)

    with override_settings(CACHES=DEAD_REDIS):
        # 1. the session (from the database: Redis is down), 2. the user, the user's
        # permissions, 3. COUNT(*), 4. the page.
        assert queries_for(member_client)[0] == permission_queries + 4
        first = failures()  # one a cache alias that was called: the pages' and the sessions'
        assert first >= 1
        # Reads skip the cache now: the same queries, and no call waits for Redis.
        assert queries_for(member_client)[0] == permission_queries + 4
        # Only the first request waited for the broken cache.
        assert failures() == first
        now = time.monotonic
        monkeypatch.setattr(time, "monotonic", lambda: now() + redis_cache.BYPASS_SECONDS)
        queries_for(member_client)  # the bypass is over: Redis is tried (and fails) again
        assert failures() > first
    # A cache that works again serves the page: the session (unless cached), the user (its
    # permissions cached).
    get(member_client)
    assert queries_for(member_client)[0] == session_queries + 1


def test_programming_errors_are_not_swallowed(monkeypatch):
    # Only the way to Redis may fail softly: a bug beneath the backend's guard still raises.
    monkeypatch.setattr(RedisCacheClient, "get", lambda *args, **kwargs: 1 / 0)
    with override_settings(CACHES=DEAD_REDIS), pytest.raises(ZeroDivisionError):
        cache.get("x")


def test_concurrent_bumps_are_never_lost():
    core_cache.version_get("race")
    start = cache.get("race:version")
    barrier = threading.Barrier(8)

    def bump_many():
        barrier.wait()
        for _ in range(50):
            core_cache.version_bump("race")

    threads = [threading.Thread(target=bump_many) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.get("race:version") == start + 400


# --- Deep pages seek from anchors (core.pagination), kept under the positions version -----
@pytest.fixture
def stride_of_four(monkeypatch):
    from core import pagination

    monkeypatch.setattr(pagination, "ANCHOR_STRIDE", 4)


def names_on(http, url) -> list[str]:
    return [c.name for c in get(http, url).context["clients"]]


def list_queries(http, url) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        get(http, url)
    return [q["sql"] for q in ctx.captured_queries]


def test_every_list_page_matches_the_database_order(member_client, stride_of_four):
    ClientFactory.create_batch(25)
    expected = [c.name for c in Client.objects.all()]
    shown = [name for n in range(1, 4) for name in names_on(member_client, f"{LIST}?page={n}")]
    assert shown == expected
    # Again, with every anchor from the cache.
    cache.delete("clients:version")
    shown = [name for n in range(1, 4) for name in names_on(member_client, f"{LIST}?page={n}")]
    assert shown == expected


def test_a_new_order_keeps_the_count_and_anchors_a_new_client_retires_them(
    member_client,
    stride_of_four,
    django_capture_on_commit_callbacks,
    session_queries,
):
    ClientFactory.create_batch(25)
    url = f"{LIST}?page=3"  # rows 20..24: they start at the anchor of block 5
    get(member_client, url)
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(client=Client.objects.last())
    # The order retires the page's rows, not the count or the anchor: the session (unless
    # cached), the user and the page (its permissions cached), seeking from the cached anchor.
    queries = list_queries(member_client, url)
    assert len(queries) == session_queries + 2
    assert '"created_at" <=' in queries[-1]
    with django_capture_on_commit_callbacks(execute=True):
        ClientFactory(name="Newest")
    # A new client moves every row one place: the count and the anchor are looked up again
    # and the page shows the rows now at 20..25 (the user's permissions still cached).
    queries = list_queries(member_client, url)
    assert len(queries) == session_queries + 4
    assert queries[session_queries + 1].startswith("SELECT COUNT(*)")
    assert names_on(member_client, url) == [c.name for c in Client.objects.all()[20:]]


def test_versions_are_read_in_one_round_trip_and_created_when_missing():
    calls = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cache, "get_many", lambda keys: calls.append(keys) or {})
        first = core_cache.versions_get("a", "b")  # missing: each is created
    assert None not in first
    assert first == [cache.get("a:version"), cache.get("b:version")]
    assert calls == [["a:version", "b:version"]]
    core_cache.version_bump("b")
    assert core_cache.versions_get("a", "b") == [first[0], first[1] + 1]
    with override_settings(CACHES=DEAD_REDIS):
        assert core_cache.versions_get("a", "b") == [None, None]


def test_a_hit_makes_three_cache_round_trips_and_a_miss_five(
    member_client, monkeypatch, session_queries
):
    # On a real Redis each call is a network round trip, about as costly as a small query.
    ClientFactory.create_batch(3)
    get(member_client)
    calls, depth = [], []

    def counted(name, real):
        def call(*args, **kwargs):
            if not depth:  # not the calls a backend makes inside get_many or get_or_set
                calls.append(name)
            depth.append(name)
            try:
                return real(*args, **kwargs)
            finally:
                depth.pop()

        return call

    # The sessions' cache is a second alias of the same Redis on the real stack.
    for backend in {caches[alias] for alias in settings.CACHES}:
        for name in ("get", "get_many", "set", "set_many", "add", "get_or_set", "incr", "delete"):
            monkeypatch.setattr(backend, name, counted(name, getattr(backend, name)))
    # A session read from the cache (cached_db) is one more read, before the page's; then the
    # user's permissions with their version (core.auth), one read.
    session = [] if session_queries else ["get"]
    session.append("get_many")
    get(member_client)
    assert calls == [*session, "get_many", "get_many"]  # the versions; the count with the page
    calls.clear()
    get(member_client, f"{LIST}?page=junk")  # page 1: guessed right
    assert calls == [*session, "get_many", "get_many"]
    calls.clear()
    get(member_client, f"{LIST}?page=99")  # out of range, so page 1: one more read
    assert calls == [*session, "get_many", "get_many", "get"]
    calls.clear()
    get(member_client, f"{LIST}?q=new")  # a miss stores the count and the page
    assert calls == [*session, "get_many", "get_many", "set", "set"]
