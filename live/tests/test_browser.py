"""In a real browser: two headless Chromium contexts, each on its own server process, watch
/clients/; an order is created; both show the notice and the new totals within 2 s."""

import itertools
import os
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from clients.models import Order
from clients.permissions import VIEWERS
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from core.testing import CHROMIUM, CHROMIUM_ARGS, REQUIRE_SERVICES

pytestmark = [
    pytest.mark.browser,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "secret-pass-123"  # UserFactory's
SCREENSHOT = Path(settings.BASE_DIR) / "artifacts" / "live-notice.png"

if not os.path.exists(CHROMIUM) and not REQUIRE_SERVICES:
    pytest.skip(f"{CHROMIUM} is missing (bin/install-system-deps)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

# Records when the first notice is painted: a MutationObserver, then the next animation frame.
WATCH_FOR_NOTICE = """() => {
  window.liveNoticeAt = null;
  new MutationObserver((mutations, observer) => {
    if (!document.querySelector("#live-notices .live-notice")) return;
    observer.disconnect();
    requestAnimationFrame(() => { window.liveNoticeAt = Date.now(); });
  }).observe(document.getElementById("live-notices"), {childList: true});
}"""


def create_order_and_stamp_the_commit(**fields) -> tuple[Order, float]:
    """Create an order on a thread of its own (the ORM refuses to run beside Playwright's
    event loop) and return it with the wall-clock time of its commit."""
    result: dict = {}

    def work() -> None:
        try:
            with transaction.atomic():
                # Registered before the order's own callbacks, so it runs first at the commit.
                transaction.on_commit(lambda: result.setdefault("committed_at", time.time()))
                result["order"] = Order.objects.create(**fields)
        except Exception as error:  # handed to the test below
            result["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=10)
    if "error" in result:
        raise result["error"]
    return result["order"], result["committed_at"]


def log_in(page, user) -> None:
    """Through the login form, landing on the client list."""
    page.goto("/accounts/login/?next=/clients/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/clients/")


def log_in_and_open_the_list(browser, server, user):
    context = browser.new_context(base_url=server.url, viewport={"width": 1100, "height": 700})
    page = context.new_page()
    log_in(page, user)
    # The socket is open before the order is created.
    page.wait_for_selector("#live-notices[data-live-state=open]", state="attached", timeout=5000)
    page.evaluate(WATCH_FOR_NOTICE)
    return page


def test_two_browsers_show_the_new_order_and_its_clients_new_totals(asgi_servers):
    server_a, server_b = asgi_servers
    acme = ClientFactory(name="Acme GmbH")
    OrderFactory(client=acme, amount=Decimal("1000.00"))
    watchers = [
        UserFactory(username="alice", roles=[VIEWERS]),
        UserFactory(username="bob", roles=[VIEWERS]),
    ]
    expect = sync_api.expect

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pages = [
                log_in_and_open_the_list(browser, server, user)
                for server, user in zip((server_a, server_b), watchers, strict=True)
            ]
            row = f'tr[data-client-id="{acme.pk}"]'
            for page in pages:
                expect(page.locator(f'{row} td[data-field="orders_total"]')).to_have_text(
                    "1,000.00"
                )

            _, committed_at = create_order_and_stamp_the_commit(
                client=acme, title="Annual plan", amount=Decimal("1233567.89")
            )

            for page in pages:
                notice = page.locator("#live-notices .live-notice span")
                expect(notice).to_have_text("New order “Annual plan” for Acme GmbH", timeout=2000)
                expect(page.locator(f'{row} td[data-field="orders_count"]')).to_have_text("2")
                expect(page.locator(f'{row} td[data-field="orders_total"]')).to_have_text(
                    "1,234,567.89"
                )
            SCREENSHOT.parent.mkdir(exist_ok=True)
            pages[0].screenshot(path=str(SCREENSHOT))
            shown_at = [page.evaluate("window.liveNoticeAt") / 1000 for page in pages]
            latencies = [at - committed_at for at in shown_at]
        finally:
            browser.close()

    assert all(latency < 2 for latency in latencies)
    print(
        "\nlive: order commit -> notice on screen: "
        + ", ".join(f"{latency * 1000:.0f} ms" for latency in latencies)
        + " (browser on server A, browser on server B)"
    )


def test_logging_out_stops_the_live_updates_of_that_sessions_other_tabs(asgi_servers):
    server_a, _ = asgi_servers
    user = UserFactory(username="carol", roles=[VIEWERS])

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            first = log_in_and_open_the_list(browser, server_a, user)
            second = first.context.new_page()  # same context: same session cookie
            second.goto("/clients/")
            second.wait_for_selector("#live-notices[data-live-state=open]", state="attached")

            first.click('header form[action="/accounts/logout/"] button')  # Log out
            first.wait_for_url("**/accounts/login/")
            sync_api.expect(second.locator("#live-notices")).to_have_attribute(
                "data-live-state", "stopped", timeout=2000
            )
        finally:
            browser.close()


def test_a_dropped_socket_is_reconnected_with_growing_delays(asgi_servers):
    server_a, _ = asgi_servers
    user = UserFactory(username="dave", roles=[VIEWERS])
    attempts: list[float] = []

    def drop_the_first_three(ws) -> None:
        # Playwright stands between the page and the server: the first three connections are
        # closed at once, as a restarting server would; the fourth goes through to server A.
        attempts.append(time.monotonic())
        if len(attempts) <= 3:
            ws.close(code=1011, reason="test: server going away")
        else:
            ws.connect_to_server()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=server_a.url)
            context.route_web_socket("**/ws/clients/", drop_the_first_three)
            page = context.new_page()
            log_in(page, user)
            page.wait_for_selector(
                "#live-notices[data-live-state=open]", state="attached", timeout=15000
            )
        finally:
            browser.close()

    assert len(attempts) == 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    # Delays of 1, 2, 4 s, each with up to half taken off at random (jitter): the n-th wait is
    # at least half its nominal delay, and the third is longer than the first can ever be.
    for gap, nominal in zip(gaps, (1, 2, 4), strict=True):
        assert nominal / 2 - 0.05 <= gap <= nominal + 1
    assert gaps[2] > gaps[0]


def test_a_session_that_ends_stops_the_live_updates_and_says_so(asgi_servers):
    # The server's re-check runs every 30 s (test_consumer.py covers it): here the test plays
    # its close (4003) between the page and server A, and checks what the script makes of it.
    server_a, _ = asgi_servers
    user = UserFactory(username="erin", roles=[VIEWERS])
    routes: list = []

    def pass_through(ws) -> None:
        routes.append(ws)
        ws.connect_to_server()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=server_a.url)
            context.route_web_socket("**/ws/clients/", pass_through)
            page = context.new_page()
            log_in(page, user)
            region = page.locator("#live-notices")
            sync_api.expect(region).to_have_attribute("data-live-state", "open", timeout=5000)
            # The message the page gives the script (the template's, when it has one).
            page.evaluate(
                "document.getElementById('live-notices').dataset.liveStoppedText ="
                " 'Live updates stopped: sign in again.'"
            )

            routes[0].close(code=4003, reason="test: session ended")
            sync_api.expect(region).to_have_attribute("data-live-state", "stopped", timeout=2000)
            notice = page.locator("#live-notices .live-notice span")
            sync_api.expect(notice).to_have_text("Live updates stopped: sign in again.")
            page.wait_for_timeout(1500)  # past the first reconnect delay (0.5 to 1 s)
            assert len(routes) == 1  # no reconnect
            sync_api.expect(notice).to_have_count(1)
        finally:
            browser.close()
