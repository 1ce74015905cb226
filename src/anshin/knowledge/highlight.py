"""A search hit's snippet as HTML with the matched words in ``<mark>``: pure, no I/O (R17).

The snippet is plain text that came from anyone (a customer's inquiry, an
article body): every piece is escaped, and only the ``<mark>`` tags this
function writes are markup. The marks come from the search (``Hit.marks``);
whatever the search's internals, marks that overlap, touch, run past the
text or are inverted are merged or dropped here rather than trusted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape

# Kana, kanji and full-width forms: a text holding any is read as Japanese.
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def language_of(text: str) -> str:
    """``ja`` for a text with Japanese letters in it, else ``en``: the ``lang`` a hit is shown
    with (a snippet of a customer's words or an article in an English page stays readable
    for screen readers and fonts)."""
    return "ja" if _JAPANESE.search(text) else "en"


def clean_marks(length: int, marks: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Marks within ``0..length``, sorted, overlapping and touching ones merged."""
    spans = sorted(
        (max(0, int(start)), min(length, int(end)))
        for start, end in marks
        if isinstance(start, int) and isinstance(end, int)
    )
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def marked(snippet: str, marks: Iterable[tuple[int, int]]) -> Markup:
    """``snippet`` escaped, with each mark wrapped in ``<mark>``."""
    parts: list[str] = []
    at = 0
    for start, end in clean_marks(len(snippet), marks):
        parts.append(str(escape(snippet[at:start])))
        parts.append(f"<mark>{escape(snippet[start:end])}</mark>")
        at = end
    parts.append(str(escape(snippet[at:])))
    return Markup("".join(parts))
