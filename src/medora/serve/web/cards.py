"""Model cards (Markdown) as HTML that is safe to put in a page."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

# CommonMark with tables, and raw HTML off: any markup in a card is shown as text, and
# markdown-it refuses javascript: and similar link targets.
_renderer = MarkdownIt("commonmark", {"html": False}).enable("table")


def card_html(markdown: str) -> Markup:
    return Markup(_renderer.render(markdown))  # escaped by the renderer (see above)
