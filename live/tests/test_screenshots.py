"""The README's screenshots are in docs/screenshots/ and are PNG images. `make screenshots`
retakes them (bin/screenshots); the suite only reads them, so a test run never rewrites the
tracked images."""

import struct
from pathlib import Path

import pytest
from django.conf import settings

SHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["client-list", "live-notice", "client-detail", "api-docs"])
def test_the_readme_screenshot_is_a_png(name):
    data = (SHOTS / f"{name}.png").read_bytes()
    assert data[:8] == PNG_SIGNATURE
    # The IHDR chunk comes first: the width and height of a page taken in a 1100 x 700 window.
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1100
    assert height >= 700
    assert len(data) > 10_000
