"""Django's Content-Security-Policy allows scripts and styles from our own origin only.

No inline script or style anywhere, hence no nonces: a page served from a cache (the client list
is cached) can never replay a nonce meant for another response. A template that needs script
loads a static file."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", "var", "node_modules", ".git", "staticfiles"}


def _templates():
    for path in ROOT.rglob("*.html"):
        if not SKIP.intersection(path.relative_to(ROOT).parts):
            yield path


def test_the_policy_allows_no_inline_code_and_uses_no_nonce():
    for directive in ("script-src", "style-src", "default-src"):
        sources = settings.SECURE_CSP[directive]
        assert sources == ["'self'"], (directive, sources)


def test_no_template_has_inline_scripts_styles_or_event_handlers():
    offenders = []
    for path in _templates():
        text = path.read_text()
        for pattern in (
            # inline code; a data block (json_script) is not executed, so it may stay
            r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>",
            r"<style\b",
            r"\sstyle=\"",
            r"\son[a-z]+=\"",  # onclick="…"
            r"csp_nonce",
        ):
            offenders += [f"{path.relative_to(ROOT)}: {m}" for m in re.findall(pattern, text)]
    assert offenders == []


def test_a_page_carries_the_policy(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "nonce-" not in policy
