"""The README's screenshots are in docs/screenshots/ and are PNG images. `make screenshots`
retakes them (bin/screenshots); the suite only reads them, so a test run never rewrites the
tracked images."""

import struct
from pathlib import Path

import pytest
from django.conf import settings

SHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("name", "window"),
    [
        *((name, (1100, 700)) for name in ("client-list", "live-notice", "client-detail")),
        *((name, (1100, 700)) for name in ("api-docs", "dashboard", "orders", "board", "tasks")),
        ("trash", (1100, 700)),
        ("client-list-ru", (1100, 700)),  # the client list in Russian (a Russian profile)
        ("client-list-390", (390, 844)),
        ("board-390", (390, 844)),
        ("client-detail-390", (390, 844)),
    ],
)
def test_the_readme_screenshot_is_a_png(name, window):
    data = (SHOTS / f"{name}.png").read_bytes()
    assert data[:8] == PNG_SIGNATURE
    # The IHDR chunk comes first: the width and height of a page taken in its window.
    width, height = struct.unpack(">II", data[16:24])
    assert width == window[0]
    assert height >= window[1]
    assert len(data) > 10_000
