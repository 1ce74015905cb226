"""Prepare a text for matching: NFKC, masking, sentences — with an offset map.

Rules match against an NFKC-normalised copy (full-width digits and letters,
half-width katakana and ``！？：`` all collapse to one form, so one word list
covers every way people type), but findings must point into the text exactly
as the author wrote it. Normalising chunk by chunk (a base character plus the
marks that combine with it) keeps a map from every normalised character back
to the original span it came from.

Real notices are often hard-wrapped: a line break (or a space) can fall in
the middle of 「申し訳\nございません」 or a sentence. Before anything else such soft
breaks are joined — in Japanese a line break or space between two letters is
dropped, in English a line break inside a sentence becomes a space — so every
rule sees the words whole and a sentence is not cut at the end of a line. A
blank line, a line that ends a sentence and a line that starts a list item or
a heading are kept as breaks.

Two kinds of span are masked (replaced by same-length private-use characters)
so that no rule fires inside them:

* template placeholders — ``{{ … }}``, ``{% … %}``, ``{# … #}``, ``{name}`` —
  whose words are variable names, not wording (a placeholder may still stand
  where a time belongs: ``{{ next_update_at }}までに``);
* quoted text — 「…」『…』“…” "…" — which quotes someone else or names an
  expression being discussed (「おそらく」という言い方は使いません).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

PLACEHOLDER = "\ue000"
QUOTED = "\ue001"

_PLACEHOLDER_RE = re.compile(
    r"\{\{.{0,500}?\}\}|\{%.{0,500}?%\}|\{#.{0,500}?#\}|\{[A-Za-z_][\w.]*(?:![rsa])?(?::[^{}\n]*)?\}",
    re.DOTALL,
)
_OPENERS: dict[str, str] = {"「": "」", "『": "』", "“": "”", '"': '"'}
_SENTENCE_END = frozenset("。!?\n")
# What may stand before a script line in brackets: nothing, or a speaker label.
_SPEAKER_RE = re.compile(r"\s*(?:[^\s「」『』“”\"]{1,15}\s*:\s*)?")
# A period ends an English sentence when whitespace and a capital (or the end) follow.
_EN_PERIOD_RE = re.compile(r"\.(?=\s+[A-Z\"“(]|\s*$)")
# Marks that attach to the previous character and must be normalised with it.
_JOINERS = frozenset("\uff9e\uff9f\u3099\u309a\u200d")


def _joins(ch: str) -> bool:
    """True when ``ch`` belongs to the preceding character for NFKC purposes."""
    if ch in _JOINERS or unicodedata.combining(ch):
        return True
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


@dataclass(frozen=True)
class Prepared:
    """A text ready for the rules.

    ``norm`` is the NFKC text; ``masked`` is ``norm`` with placeholders and
    quoted passages replaced (same length, so indices agree). ``starts[i]`` /
    ``ends[i]`` give the original span of normalised character ``i``.
    ``sentences`` are ``(start, end)`` pairs in normalised indices, trimmed.
    """

    original: str
    norm: str
    masked: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    sentences: tuple[tuple[int, int], ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalised span back to the original text."""
        if not self.norm:
            return 0, 0
        if start >= len(self.norm):
            size = len(self.original)
            return size, size
        if end <= start:
            return self.starts[start], self.starts[start]
        return self.starts[start], self.ends[end - 1]

    @cached_property
    def _sentence_ends(self) -> list[int]:
        return [end for _start, end in self.sentences]

    def sentence_at(self, index: int) -> int:
        """Number of the sentence holding normalised index ``index`` (or the next one)."""
        if not self.sentences:
            return 0
        return min(bisect_right(self._sentence_ends, index), len(self.sentences) - 1)


def normalize(text: str) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """NFKC-normalise ``text`` and return the per-character map to the original."""
    if unicodedata.is_normalized("NFKC", text):
        size = len(text)
        return text, tuple(range(size)), tuple(range(1, size + 1))
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    size = len(text)
    i = 0
    while i < size:
        j = i + 1
        while j < size and _joins(text[j]):
            j += 1
        chunk = text[i:j]
        normal = chunk if chunk.isascii() else unicodedata.normalize("NFKC", chunk)
        out.append(normal)
        starts.extend([i] * len(normal))
        ends.extend([j] * len(normal))
        i = j
    return "".join(out), tuple(starts), tuple(ends)


# Japanese letters: kana, the prolonged sound mark, kanji and the iteration mark.
_JA_LETTER = re.compile(r"[\u3041-\u309f\u30a1-\u30ff\u3400-\u4dbf\u4e00-\u9fff\u3005]")
# A soft break: one line break (with the spaces around it) or a run of spaces.
_JA_SOFT = re.compile(r"[ \t]*\n[ \t]*|[ \t]+")
# After these a Japanese line break may also be soft (a clause goes on: 「…いただき、」).
_JA_CONTINUES = frozenset("、,")
# An English line break inside a sentence: no end mark before it, a lower-case
# letter, a digit or an opening bracket after it.
_EN_SOFT = re.compile(r"(?<=[^\s.!?:;])[ \t]*\n[ \t]*(?=[a-z0-9(])")


# A hard-wrapped line is long; a short line, or one that ends like a heading, is its own line.
_WRAPPED_LINE = 18
_HEADING_END = re.compile(r"(お知らせ|お詫び|おわび|について|のご案内|ご報告|各位|様)$")


def _ja_soft(text: str, start: int, end: int) -> bool:
    """Is the break ``text[start:end]`` inside a Japanese word or sentence?"""
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if not after or not _JA_LETTER.match(after):
        return False
    if not before or not (_JA_LETTER.match(before) or before in _JA_CONTINUES):
        return False
    if "\n" not in text[start:end] or before in _JA_CONTINUES:
        return True  # a space inside a word, or a clause that goes on after 「、」
    line = text[text.rfind("\n", 0, start) + 1 : start].strip()
    return len(line) >= _WRAPPED_LINE and not _HEADING_END.search(line)


def join_wrapped(
    norm: str, starts: tuple[int, ...], ends: tuple[int, ...], locale: str
) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """Drop (ja) or turn into one space (en) the soft breaks of hard-wrapped text.

    The offset map follows: a removed character simply disappears from it, and
    a break turned into a space maps to the break it replaces.
    """
    if locale == "ja":
        cuts = [
            (m.start(), m.end(), "") for m in _JA_SOFT.finditer(norm) if _ja_soft(norm, *m.span())
        ]
    else:
        cuts = [(m.start(), m.end(), " ") for m in _EN_SOFT.finditer(norm)]
    if not cuts:
        return norm, starts, ends
    out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    position = 0
    for start, end, replacement in cuts:
        out.append(norm[position:start])
        new_starts.extend(starts[position:start])
        new_ends.extend(ends[position:start])
        if replacement:
            out.append(replacement)
            new_starts.append(starts[start])
            new_ends.append(ends[end - 1])
        position = end
    out.append(norm[position:])
    new_starts.extend(starts[position:])
    new_ends.extend(ends[position:])
    return "".join(out), tuple(new_starts), tuple(new_ends)


def _is_dialogue(line: str, opened: int, closed: int) -> bool:
    """A whole line in brackets (optionally after 「担当:」) is a script line, not a quotation.

    Phone scripts are often written as 「お電話ありがとうございます。…」; those are
    our own words and must be checked like any other.
    """
    return not line[closed + 1 :].strip() and bool(_SPEAKER_RE.fullmatch(line[:opened]))


def _quoted_spans(line: str, offset: int, introduced: bool = False) -> list[tuple[int, int]]:
    """Inner spans of the outermost closed quotations on one line.

    ``introduced``: the previous line ends with a colon ("…from our supplier:"),
    so even a whole line in quotes is someone else's words, not a script line.
    """
    spans: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    for index, ch in enumerate(line):
        if stack and ch == stack[-1][0]:
            _closer, opened = stack.pop()
            if not stack and (introduced or not _is_dialogue(line, opened, index)):
                spans.append((offset + opened + 1, offset + index))
        elif ch in _OPENERS:
            stack.append((_OPENERS[ch], index))
    return spans


def mask(norm: str) -> str:
    """Hide placeholders and quoted passages behind same-length sentinels."""
    chars = list(norm)
    for found in _PLACEHOLDER_RE.finditer(norm):
        chars[found.start() : found.end()] = PLACEHOLDER * (found.end() - found.start())
    offset = 0
    previous = ""
    for line in "".join(chars).split("\n"):
        introduced = previous.rstrip().endswith((":", "："))
        for start, end in _quoted_spans(line, offset, introduced):
            for index in range(start, end):
                if chars[index] != PLACEHOLDER:
                    chars[index] = QUOTED
        offset += len(line) + 1
        previous = line
    return "".join(chars)


def split_sentences(masked: str, locale: str) -> tuple[tuple[int, int], ...]:
    """Split on 。！？!? and newlines (and ``. `` in English), outside quotations."""
    cuts = [index + 1 for index, ch in enumerate(masked) if ch in _SENTENCE_END]
    if locale == "en":
        cuts.extend(found.end() for found in _EN_PERIOD_RE.finditer(masked))
    sentences: list[tuple[int, int]] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(masked)]:
        piece = masked[start:cut]
        stripped = piece.strip()
        if stripped.strip("。!?."):
            lead = len(piece) - len(piece.lstrip())
            sentences.append((start + lead, start + lead + len(stripped)))
        start = cut
    return tuple(sentences)


def prepare(text: str, locale: str) -> Prepared:
    """Normalise, mask and split ``text`` once for every rule to share."""
    norm, starts, ends = join_wrapped(*normalize(text), locale)
    masked = mask(norm)
    return Prepared(
        original=text,
        norm=norm,
        masked=masked,
        starts=starts,
        ends=ends,
        sentences=split_sentences(masked, locale),
    )
