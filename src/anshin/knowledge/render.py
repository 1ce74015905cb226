"""Article bodies from Markdown to HTML that is safe to show anyone (R17, R34).

Article bodies are typed by staff and imported from files, and public FAQ
bodies are shown to every visitor of the status page: raw HTML in the source
is shown as text, never passed through, and links may only be http(s),
mailto or relative (markdown-it's own link check refuses ``javascript:``,
``vbscript:``, ``file:`` and ``data:`` other than images).
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    # "commonmark" with html off: <script> in a body becomes &lt;script&gt;.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        "table"
    )


def to_html(body: str) -> Markup:
    """The body as HTML, every raw tag escaped; safe to put into a page as is."""
    return Markup(_renderer().render(body or ""))


def to_text(body: str) -> str:
    """The body as plain words (for snippets, mail and the search index): markup removed."""
    tokens = _renderer().parse(body or "")
    parts: list[str] = []
    for token in tokens:
        if token.type == "inline" and token.children:
            parts.append(
                "".join(
                    child.content
                    for child in token.children
                    if child.type in ("text", "code_inline")
                )
            )
        elif token.type in ("code_block", "fence"):
            parts.append(token.content)
    return " ".join(" ".join(parts).split())
