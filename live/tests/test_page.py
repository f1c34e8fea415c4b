"""The client list page carries the live script and its notice region, without inline script
(the CSP forbids it) and with the socket's path in a data- attribute."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_client_list_loads_the_live_script_and_its_notice_region(member_client):
    html = member_client.get("/clients/").content.decode()
    assert '<script src="/static/live/clients-live.js" defer></script>' in html
    assert 'href="/static/live/live.css"' in html
    region = re.search(r'<div id="live-notices"[^>]*>', html).group(0)
    assert 'aria-live="polite"' in region
    assert 'data-live-path="/ws/clients/"' in region


def test_client_list_has_no_inline_script(member_client):
    html = member_client.get("/clients/").content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts
    assert all("src=" in attributes and not body.strip() for attributes, body in scripts)


def test_an_empty_list_still_has_the_notice_region(member_client):
    html = member_client.get("/clients/").content.decode()
    assert "No clients yet." in html
    assert 'id="live-notices"' in html


def test_the_script_and_its_styles_are_vendored_static_files():
    for path in ("live/clients-live.js", "live/live.css"):
        found = finders.find(path)
        assert found, path
        with open(found, encoding="utf-8") as f:
            assert not re.search(r"https?://", f.read())  # no CDN: nothing fetched from afar
