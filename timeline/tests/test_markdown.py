from html.parser import HTMLParser

import pytest

from timeline.markdown import render


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("plain words", "<p>plain words</p>\n"),
        ("**bold** and *not italic*", "<p><strong>bold</strong> and *not italic*</p>\n"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"),
        ("1. first\n2. second", "<ol>\n<li>first</li>\n<li>second</li>\n</ol>\n"),
        ("line\nbreak", "<p>line<br>\nbreak</p>\n"),
        ("one\n\ntwo", "<p>one</p>\n<p>two</p>\n"),
        (
            "[quote](https://example.org/q)",
            '<p><a href="https://example.org/q" rel="nofollow noopener noreferrer">quote</a></p>\n',
        ),
        (
            "see https://example.org",
            '<p>see <a href="https://example.org" rel="nofollow noopener noreferrer">'
            "https://example.org</a></p>\n",
        ),
    ],
)
def test_the_subset_is_rendered(text, html):
    assert render(text) == html


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("# Heading", "<p># Heading</p>\n"),
        ("> quoted", "<p>&gt; quoted</p>\n"),
        ("`code`", "<p>`code`</p>\n"),
        ("    indented code", "<p>indented code</p>\n"),
        ("| a | b |\n|---|---|", "<p>| a | b |<br>\n|---|---|</p>\n"),
        ("---", "<p>---</p>\n"),
    ],
)
def test_anything_else_shows_as_typed(text, shown):
    assert render(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))",
        '[x](https://e.org" onclick="alert(1))',
        '<https://e.org/" onmouseover="alert(1)>',
    ],
)
def test_no_markup_or_script_gets_through(text):
    """Typed text may still read "javascript:", escaped: what matters is that no element
    other than the subset's exists, and no attribute but a link's http(s) href and its rel."""
    elements = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            elements.append((tag, dict(attrs)))

    Collector().feed(render(text))
    for tag, attrs in elements:
        assert tag in {"p", "br", "strong", "ul", "ol", "li", "a"}
        if tag == "a":
            assert set(attrs) == {"href", "rel"}
            assert attrs["href"].startswith(("http://", "https://", "mailto:"))
        else:
            assert attrs == {}
