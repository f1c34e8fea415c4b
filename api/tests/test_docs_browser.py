"""The Swagger UI at /api/docs/ really renders under the site's strict CSP (headless Chromium)."""

import os
import shutil

import pytest

from core.testing import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"no Chromium at {CHROMIUM}"),
]


def test_docs_render_the_operations_without_csp_errors(live_server, tmp_path):
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda e: problems.append(str(e)))
            response = page.goto(f"{live_server.url}/api/docs/")
            assert response.status == 200
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_selector(".opblock-summary-path", timeout=15_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            page.screenshot(path=str(tmp_path / "docs.png"), full_page=True)
            if os.environ.get("API_DOCS_SCREENSHOT"):
                page.screenshot(path=os.environ["API_DOCS_SCREENSHOT"], full_page=True)
        finally:
            browser.close()
    assert {"/api/clients/", "/api/clients/{id}/", "/api/orders/", "/api/orders/{id}/"} <= {
        path.replace("\u200b", "") for path in paths
    }
    assert not [m for m in problems if "Content Security Policy" in m], problems
