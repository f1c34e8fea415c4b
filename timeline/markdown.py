"""Notes in a small Markdown subset: paragraphs, line breaks, bulleted and numbered lists, links
and bold. Anything else (headings, quotes, code, images, tables, italics, raw HTML) is shown as
the text that was typed.

markdown-it-py's "zero" preset with only those rules enabled: raw HTML is never parsed (it is
escaped like any text), link targets are checked by markdown-it's validateLink (no
`javascript:`, `vbscript:`, `file:` or `data:`), and linkify-it turns bare URLs into links.
"""

import functools

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_md = MarkdownIt("zero", {"linkify": True, "breaks": True, "html": False}).enable(
    ["list", "link", "autolink", "emphasis", "linkify", "newline", "escape"]
)


def _as_typed(self, tokens, idx, options, env) -> str:
    # Italics (`*word*`, `_word_`) are not in the subset: show their markers as typed.
    return tokens[idx].markup


def _link_open(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    token.attrSet("rel", "nofollow noopener noreferrer")
    return self.renderToken(tokens, idx, options, env)


_md.add_render_rule("em_open", _as_typed)
_md.add_render_rule("em_close", _as_typed)
_md.add_render_rule("link_open", _link_open)


def render(text: str) -> SafeString:
    """The note's HTML: safe to put in a page as it is."""
    # html=False: markdown-it escapes every character of text it did not make into markup.
    return mark_safe(_rendered(text))


# A note is read far more often than it is written: 0.25 ms a render was half the cost of a
# timeline page of notes (bench/timeline.py). The bodies are the key, so an edit is a miss.
@functools.lru_cache(maxsize=2048)
def _rendered(text: str) -> str:
    return _md.render(text)
