"""In a real browser, a client's timeline (timeline/static/timeline/timeline.js): a note added
and a task ticked off on one open page of the client appear on another (the event through the
real Redis); "Show older" appends the next page in place and moves the focus
to it; without JavaScript it is a plain link to the next page."""

import datetime
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from clients.permissions import MANAGERS, SALES, VIEWERS
from clients.tests.factories import ClientFactory, UserFactory
from core.testing import CHROMIUM, CHROMIUM_ARGS, REQUIRE_SERVICES, postgres_url
from live.tests.conftest import AsgiServer
from timeline import selectors
from timeline.tests.factories import NoteFactory, TaskFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "secret-pass-123"  # UserFactory's
# How long another page may take to show a change: the event, then the fragment's fetch.
LIVE_WITHIN_MS = 5000

if not os.path.exists(CHROMIUM) and not REQUIRE_SERVICES:
    pytest.skip(f"{CHROMIUM} is missing (bin/install-system-deps)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def server(transactional_db):
    """A server process of this test's own (the real Redis channel layer, the test database),
    started after the previous test's flush: the session's shared ones (conftest.asgi_servers)
    keep the content types' ids they first read, and every transactional test's flush makes
    them anew with other ids. The timeline asks for them (the history entries it leaves out,
    timeline/selectors.py), and so does each history entry a write through the server records.
    Stopped before this test's own flush."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    (Path(settings.BASE_DIR) / "artifacts").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "live.tests.server_settings",
        "DATABASE_URL": postgres_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "DATABASE_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    process = AsgiServer("timeline", env)
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def open_client_page(browser, server, user, client, **context_options):
    """A new browser context (its own cookies) logged in as `user` through the login form,
    on `client`'s page."""
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1100, "height": 900}, **context_options
    )
    page = context.new_page()
    page.goto(f"/accounts/login/?next=/clients/{client.pk}/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/clients/{client.pk}/")
    return page


def wait_until_live(page) -> None:
    expect(page.locator("#timeline")).to_have_attribute("data-live-state", "open", timeout=5000)


def item_ids(page) -> list[str]:
    return page.eval_on_selector_all("#timeline-items > li", "items => items.map(i => i.id)")


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def test_a_note_and_a_ticked_task_appear_on_the_other_open_page(server):
    manager = UserFactory(username="maria", roles=[MANAGERS])
    seller = UserFactory(username="sam", roles=[SALES])
    acme = ClientFactory(name="Acme GmbH")
    task = TaskFactory(
        client=acme, title="Call back about the quote", assignee=seller, created_by=manager
    )
    task_item = f"#timeline-items #task-{task.pk}"

    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            writer = open_client_page(browser, server, manager, acme)
            reader = open_client_page(browser, server, seller, acme)
            wait_until_live(reader)
            reader.evaluate("window.notReloaded = true")
            expect(reader.locator(f"{task_item} .task-line")).not_to_have_class("is-done")
            # Marks the task's element: an item that did not change is left alone (its form's
            # CSRF token differs in every rendering), the focus in it with it.
            reader.eval_on_selector(task_item, "item => { item.dataset.untouched = '1'; }")

            # The manager writes a note through the composer (the page posts, and comes back).
            writer.fill("#note-form textarea", "Asked for **20%** off the annual plan")
            writer.click("#note-form button[type=submit]")
            writer.wait_for_url(f"**/clients/{acme.pk}/#timeline", timeout=5000)

            note = reader.locator("#timeline-items > li.kind-note").first
            expect(note).to_contain_text(
                "Asked for 20% off the annual plan", timeout=LIVE_WITHIN_MS
            )
            expect(note.locator("strong", has_text="20%")).to_have_count(1)  # as Markdown
            expect(note).to_contain_text("maria")
            assert note.get_attribute("id").startswith("note-")
            assert item_ids(reader)[0] == note.get_attribute("id")  # newest first
            expect(reader.locator("#timeline-announcer")).to_have_text("New on the timeline.")
            expect(reader.locator(task_item)).to_have_attribute("data-untouched", "1")

            # The manager ticks the task off: the plain form, no script needed on that side.
            writer.click(f"{task_item} .task-done-form button")
            writer.wait_for_url(f"**/clients/{acme.pk}/", timeout=5000)
            expect(writer.locator(f"{task_item} .task-line")).to_have_class("task-line is-done")

            expect(reader.locator(f"{task_item} .task-line")).to_have_class(
                "task-line is-done", timeout=LIVE_WITHIN_MS
            )
            expect(reader.locator(f"{task_item} button.tick")).to_have_class("tick ticked")
            assert reader.evaluate("window.notReloaded") is True
            assert len(item_ids(reader)) == len(set(item_ids(reader)))  # nothing shown twice

            # The seller opens it again from the item the script brought: back on the client
            # page (the fragment's own URL would be a bare list of items).
            reader.click(f"{task_item} .task-done-form button")
            reader.wait_for_url(f"**/clients/{acme.pk}/", timeout=5000)
            expect(reader.locator("#timeline")).to_be_visible()
            expect(reader.locator(f"{task_item} .task-line")).not_to_have_class("is-done")
        finally:
            browser.close()


@pytest.fixture
def client_with_sixty_notes(db):
    """A client with 60 notes, a minute apart, and the timeline's three pages as the server cuts
    them (25, 25 and the rest: the client's own "created" entry is among them)."""
    manager = UserFactory(username="maria", roles=[MANAGERS])
    acme = ClientFactory(name="Acme GmbH")
    start = timezone.now() - datetime.timedelta(hours=2)
    for n in range(1, 61):
        NoteFactory(
            client=acme,
            author=manager,
            body=f"Note {n:02}",
            created_at=start + datetime.timedelta(minutes=n),
        )
    first = selectors.timeline_page(client_id=acme.pk)
    second = selectors.timeline_page(client_id=acme.pk, before=first.older)
    third = selectors.timeline_page(client_id=acme.pk, before=second.older)
    assert len(first.items) == len(second.items) == selectors.PER_PAGE
    assert third.items  # a third page: the link stays after the first click
    assert third.older is None
    pages = [[f"{item.kind}-{item.obj.pk}" for item in p.items] for p in (first, second, third)]
    return acme, pages, str(first.older)


def test_show_older_appends_the_next_page_in_place_and_focuses_it(server, client_with_sixty_notes):
    acme, (first_page, second_page, third_page), _ = client_with_sixty_notes
    viewer = UserFactory(username="vera", roles=[VIEWERS])

    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = open_client_page(browser, server, viewer, acme)
            assert item_ids(page) == first_page
            url = page.url
            page.evaluate("window.notReloaded = true")

            page.click("#timeline-older")
            expect(page.locator("#timeline-items > li")).to_have_count(50)
            assert item_ids(page) == first_page + second_page
            assert page.url == url
            assert page.evaluate("window.notReloaded") is True
            # The focus is on the first new item (a viewer's notes have no links: the item).
            first_new = f"#timeline-items > li#{second_page[0]}"
            assert page.evaluate(
                f"document.activeElement.closest('li') === document.querySelector('{first_new}')"
            )
            # The link now asks for the page after that one, and works again in place.
            older = page.locator("#timeline-older")
            expect(older).not_to_have_attribute("aria-busy", "true")
            assert "before=" in older.get_attribute("href")
            older.click()
            expect(page.locator("#timeline-older")).to_have_count(0)  # nothing older
            assert item_ids(page) == first_page + second_page + third_page
            assert page.url == url
        finally:
            browser.close()


def test_without_javascript_show_older_is_a_link_to_the_next_page(server, client_with_sixty_notes):
    acme, (first_page, second_page, _), older = client_with_sixty_notes
    viewer = UserFactory(username="vera", roles=[VIEWERS])

    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = open_client_page(browser, server, viewer, acme, java_script_enabled=False)
            assert item_ids(page) == first_page
            assert page.get_attribute("#timeline", "data-live-state") is None  # no socket

            page.click("#timeline-older")
            page.wait_for_url(f"**/clients/{acme.pk}/?before={older}#timeline")
            assert item_ids(page) == second_page
        finally:
            browser.close()
