"""The README's screenshots, taken by a real browser against a real server so they never go
stale: the client list with totals, a client with orders, the live "new order" notice, the API
docs. Written to docs/screenshots/ (commit them when the UI changes)."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from clients.models import Order
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from live.tests.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    create_order_and_stamp_the_commit,
    log_in_and_open_the_list,
    sync_api,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]

SHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"


def seed_a_small_book():
    names = [
        ("Jürgen Müller", "juergen@mueller-bau.test", True),
        ("Chloé Dubois", "chloe@atelier-dubois.test", False),
        ("Acme GmbH", "sales@acme.test", False),
        ("Søren Nilsson", "soren@nordic.test", False),
        ("Ada Lovelace", "ada@engines.test", True),
    ]
    statuses = list(Order.Status.values)
    clients = []
    for index, (name, email, vip) in enumerate(names):
        client = ClientFactory(name=name, email=email, vip=vip, phone=f"+49 30 55{index}0 1234")
        for n in range(index + 1):
            OrderFactory(
                client=client,
                title=["Website redesign", "Annual support", "Training pack"][n % 3],
                amount=Decimal("1250.00") * (n + 1) + Decimal(index * 99),
                status=statuses[(index + n) % 3],
            )
        clients.append(client)
    return clients


def test_readme_screenshots(asgi_servers):
    server, _ = asgi_servers
    SHOTS.mkdir(parents=True, exist_ok=True)
    clients = seed_a_small_book()
    user = UserFactory(username="sales", first_name="Sam", is_staff=True)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = log_in_and_open_the_list(browser, server, user)
            page.screenshot(path=str(SHOTS / "client-list.png"), full_page=True)

            create_order_and_stamp_the_commit(
                client=clients[2], title="Hardware bundle", amount=Decimal("4800.00")
            )
            sync_api.expect(page.locator("#live-notices .live-notice")).to_be_visible()
            page.wait_for_timeout(800)  # let the notice's fade-in finish
            page.screenshot(path=str(SHOTS / "live-notice.png"))

            page.goto(f"/clients/{clients[4].pk}/")
            sync_api.expect(page.locator("h1")).to_contain_text("Ada Lovelace")
            page.screenshot(path=str(SHOTS / "client-detail.png"), full_page=True)

            page.goto("/api/docs/")
            sync_api.expect(page.locator(".opblock").first).to_be_visible(timeout=10000)
            page.screenshot(path=str(SHOTS / "api-docs.png"))
        finally:
            browser.close()

    for name in ("client-list", "live-notice", "client-detail", "api-docs"):
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000
