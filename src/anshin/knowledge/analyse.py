"""The index form of a text and the analysed form of a query, for Japanese (pure, no I/O).

Both sides go through anshin.text (NFKC, width, ひらがな→カタカナ, long vowels and
small kana folded; SudachiPy's normalised forms, so 出来ない/できない and
払い戻し/払戻し meet) and come out as words separated by single spaces, made of
letters and digits only. Whatever the engine — SQLite FTS5 with ``unicode61``,
PostgreSQL ``to_tsvector('simple', …)`` — splitting at the spaces gives back
exactly these words: the engines only store and rank, the analysis is here.

Three columns per record:

- ``title`` / ``body``: the folded normalised forms of the content words;
- ``grams``: every two-character slice of the folded text (障害が → 障害 害ガ),
  so a word Sudachi cut differently, or half a word, is still found as a
  phrase of bigrams (ログイ → "ログ グイ").

A query becomes :class:`Concept` s: each content word with its synonyms from
the team's list (R17), each with its bigram phrases. Words like する, 出来る,
下さる carry no topic and are left out of a query that has any other word.
docs/knowledge-search.md walks through examples.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from anshin.text.normalise import fold, fold_word
from anshin.text.tokens import Token, meaningful, tokenize

MAX_INDEX_CHARS = 50_000  # of a record's text (an article body is at most 50,000)
MAX_TRIGRAM_CHARS = 4_000  # of the folded text PostgreSQL keeps for pg_trgm
MAX_WORD = 60  # longer "words" (a pasted hash, a URL) are cut
MAX_CONCEPTS = 24  # of a query (a 200-character query has at most ~100 words)
MAX_RUN = 16  # characters typed without a break, taken whole as one bigram phrase

_SPLIT = re.compile(r"[\W_]+")
_ENGLISH_LIGHT = (
    "a an the and or not no of to in on at for with from by as is are was be been it its "
    "this that my your our me we you i do does did can could will would near"
)
# Words that say nothing about the topic; dropped from a query that has any other word.
_LIGHT = frozenset(
    fold_word(word)
    for word in (
        "為る",
        "居る",
        "有る",
        "成る",
        "出来る",
        "下さる",
        "欲しい",
        "思う",
        "言う",
        "無い",
        "何",
        "事",
        "物",
        "様",
        "所",
        "御",
        "此れ",
        "其れ",
        "頂く",
        "致す",
        "御座る",
        "貰う",
        "呉れる",
    )
) | frozenset(_ENGLISH_LIGHT.split())


def words_of(text: str) -> list[str]:
    """``text`` cut at everything that is not a letter or digit (what unicode61 does too)."""
    return [word[:MAX_WORD] for word in _SPLIT.split(text) if word]


def bigrams(folded: str) -> list[str]:
    """Two-character slices of each run of letters and digits (ASCII runs are words already)."""
    out: list[str] = []
    for run in words_of(folded):
        if run.isascii() or len(run) < 2:
            continue
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def _content(tokens: Sequence[Token]) -> list[tuple[int, Token]]:
    return [(i, token) for i, token in enumerate(tokens) if meaningful([token])]


def index_words(text: str) -> list[str]:
    """The folded normalised forms of the content words of ``text``, split to plain words."""
    return _words_and_readings(text)[0]


_KANJI = re.compile(r"[\u4e00-\u9fff々]")


def _words_and_readings(text: str) -> tuple[list[str], list[str]]:
    """``index_words`` and the folded readings of the words written with kanji.

    A customer who types a kanji word in hiragana (へんきん for 返金,
    にじゅうせいきゅう for 二重請求) meets the text through its reading:
    each kanji word's reading (ヘンキン), and a run of adjacent kanji words'
    readings joined (二重|請求 → ニジュウセイキュウ), folded like a query.
    """
    words: list[str] = []
    readings: list[str] = []
    run: list[str] = []
    for token in [
        *tokenize(text[:MAX_INDEX_CHARS]),
        Token(surface="。", norm="。", pos="補助記号"),
    ]:
        content = meaningful([token])
        if content:
            words.extend(words_of(fold_word(token.norm)))
        if content and token.reading and _KANJI.search(token.surface):
            run.append("".join(words_of(fold_word(token.reading))))
            continue
        if len(run) > 1:
            readings.append("".join(run))
        readings.extend(run)
        run = []
    return words, [r for r in readings if len(r) >= 2]


@dataclass(frozen=True)
class IndexForm:
    """What the index stores for one record (each a space-separated string of words)."""

    title: str
    body: str
    grams: str
    folded: str  # the folded text, for pg_trgm


def document(title: str, text: str, extra: Iterable[str] = ()) -> IndexForm:
    """The index form of a record: ``title``, its plain ``text`` and ``extra`` words (tags…)."""
    text = text[:MAX_INDEX_CHARS]
    title_words, title_readings = _words_and_readings(title)
    for word in extra:
        title_words.extend(index_words(word) or words_of(fold(word)))
    body_words, body_readings = _words_and_readings(text)
    folded_title, folded_text = fold(title), fold(text)
    return IndexForm(
        title=" ".join(title_words + title_readings),
        body=" ".join(body_words + body_readings),
        grams=" ".join(bigrams(folded_title) + bigrams(folded_text)),
        folded=f"{folded_title} {folded_text}"[:MAX_TRIGRAM_CHARS],
    )


# --- queries -------------------------------------------------------------------------


Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Concept:
    """One thing the customer asked about: any of ``terms`` (word phrases) or ``grams``.

    ``terms`` match the title and body columns, ``grams`` (bigram phrases) the
    grams column; ``prefix`` marks ASCII words also matched as a prefix
    (pass → password); ``parts`` is a compound the dictionary kept whole
    (ロック解除, 二重請求) found as its pieces anywhere in the text (ロックが
    解除される). ``marks`` are folded strings to highlight.
    """

    terms: tuple[Phrase, ...]
    grams: tuple[Phrase, ...] = ()
    prefix: tuple[str, ...] = ()
    marks: tuple[str, ...] = ()
    parts: tuple[Phrase, ...] = ()  # a compound's pieces, all required, as bigram phrases
    booster: bool = False  # a light word: ranks higher what also has it, finds nothing alone
    typed: tuple[Phrase, ...] = ()  # of ``terms``, those the customer typed (above synonyms)


@dataclass(frozen=True)
class SynonymWord:
    words: Phrase  # folded normalised content words
    folded: str


@dataclass(frozen=True)
class Synonyms:
    """The team's synonym list, analysed once (search.py caches it by the list's version)."""

    groups: tuple[tuple[SynonymWord, ...], ...] = field(default=())


def _phrase_of(text: str) -> Phrase:
    words = index_words(text)
    if not words:  # a word Sudachi sees as a particle only: take it as written
        words = words_of(fold(text))
    return tuple(words)


def prepare_synonyms(groups: Iterable[Iterable[str]]) -> Synonyms:
    """Analyse each word of each group the way a query is analysed."""
    prepared = []
    for group in groups:
        words = tuple(
            SynonymWord(words=_phrase_of(word), folded="".join(words_of(fold(word))))
            for word in group
        )
        words = tuple(w for w in words if w.words)
        if len(words) >= 2:
            prepared.append(words)
    return Synonyms(groups=tuple(prepared))


def _gram_phrase(folded: str) -> Phrase:
    return tuple(bigrams(folded))


def _find(needle: Phrase, haystack: Sequence[str]) -> int:
    for start in range(len(haystack) - len(needle) + 1):
        if tuple(haystack[start : start + len(needle)]) == needle:
            return start
    return -1


def _synonym_concept(group: tuple[SynonymWord, ...], typed: tuple[Phrase, ...]) -> Concept:
    grams = tuple(
        p for p in (_gram_phrase(w.folded) for w in group if _spelled_variously(w.folded)) if p
    )
    return Concept(
        terms=tuple(w.words for w in group),
        grams=grams,
        marks=tuple(w.folded for w in group),
        typed=typed,
    )


def query(text: str, synonyms: Synonyms = Synonyms()) -> tuple[Concept, ...]:
    """The concepts of a query, synonyms expanded; ``()`` when nothing searchable is left.

    Every character the user typed is text: quotes, ``OR``, ``NEAR(``, ``*``
    become words or disappear with the punctuation, never operators.
    """
    tokens = tokenize(text)
    content = _content(tokens)
    norms = [fold_word(token.norm) for _, token in content]
    folded_query = "".join(words_of(fold(text)))
    covered: set[int] = set()
    concepts: list[Concept] = []
    for group in synonyms.groups:
        typed: list[Phrase] = []
        for word in group:
            at = _find(word.words, norms)
            if at >= 0:
                covered.update(range(at, at + len(word.words)))
                typed.append(word.words)
            elif len(word.folded) >= 2 and word.folded in folded_query:
                typed.append(word.words)
        if typed:
            # Only topic words lead their synonyms (障害 above エラー); できない carries none.
            topical = tuple(dict.fromkeys(p for p in typed if set(p) - _LIGHT))
            concepts.append(_synonym_concept(group, topical))
    light = [i for i, norm in enumerate(norms) if norm in _LIGHT]
    only_light = len(light) == len(norms) and not concepts
    for i, ((_, token), norm) in enumerate(zip(content, norms, strict=True)):
        if i in covered:
            continue
        surface = "".join(words_of(fold(token.surface)))
        phrase = tuple(words_of(norm))
        if not phrase:
            continue
        ascii_word = norm.isascii() and len(norm) >= 3
        booster = norm in _LIGHT and not only_light
        grams = _gram_phrase(surface) if _spelled_variously(surface) and not booster else ()
        concepts.append(
            Concept(
                terms=(phrase,),
                grams=(grams,) if grams else (),
                prefix=(norm,) if ascii_word and len(phrase) == 1 else (),
                marks=tuple(dict.fromkeys(m for m in (surface, "".join(phrase)) if m)),
                parts=() if booster else _pieces(surface),
                booster=booster,
            )
        )
    concepts.extend(_loose_runs(tokens))
    return _dedupe(concepts)[:MAX_CONCEPTS]


_SCRIPT_RUN = re.compile(r"[\u30a1-\u30ffー]+|[\u4e00-\u9fff々]+|[a-z0-9]+")


def _pieces(folded: str) -> tuple[Phrase, ...]:
    """The pieces of a compound: its katakana and kanji runs, long kanji runs in twos.

    ロック解除 → ロック + 解除; 二重請求 → 二重 + 請求; 日割リ計算 → 日割 + 計算.
    Empty for a word of one piece (most words).
    """
    runs: list[str] = []
    for run in _SCRIPT_RUN.findall(folded):
        if "\u4e00" <= run[0] <= "\u9fff" and len(run) >= 4:
            runs.extend(run[i : i + 2] for i in range(0, len(run) - 1, 2))
        elif len(run) >= 2:
            runs.append(run)
    if len(runs) < 2:
        return ()
    return tuple(tuple(bigrams(run)) or (run,) for run in runs)


_KANA_ONLY = re.compile(r"^[\u3041-\u309f\u30a0-\u30ff]+$")
_HIRAGANA_ONLY = re.compile(r"^[\u3041-\u309fー]+$")


def _spelled_variously(folded: str) -> bool:
    """Kana words are where spellings and cuts differ (パスワ, サーバ…): match them as bigrams too.

    A word with kanji is a dictionary word Sudachi cuts the same way in the
    query and the text (障害情報 → 障害 + 情報): its normalised form suffices,
    and leaving its bigrams out keeps the query cheap.
    """
    return len(folded) >= 2 and bool(_KANA_ONLY.match(folded))


def _reliable(token: Token) -> bool:
    """A word Sudachi surely knows: a verb or adjective (its dictionary form), kanji, katakana."""
    if token.pos in ("動詞", "形容詞"):
        return True
    return len(token.surface) >= 2 and not _HIRAGANA_ONLY.match(token.surface)


def _loose_runs(tokens: Sequence[Token]) -> list[Concept]:
    """Kana the dictionary cut into scraps (ろ|ぐいん, ぱ|す|わー|ど), joined as one bigram phrase.

    A run is the tokens between reliable words and punctuation; it counts
    when it holds a content word (not only particles such as ない|です).
    """
    runs: list[list[Token]] = []
    current: list[Token] = []
    for token in [*tokens, Token(surface="。", norm="。", pos="補助記号")]:
        loose = (
            not _reliable(token) and bool(words_of(token.surface)) and not token.surface.isascii()
        )
        if loose:
            current.append(token)
            continue
        if current and any(meaningful([t]) for t in current):
            runs.append(current)
        current = []
    out = []
    for run in runs:
        folded = "".join(words_of(fold("".join(t.surface for t in run))))
        phrase = _gram_phrase(folded[:MAX_RUN])
        if phrase:
            # The run, and its pieces between particles, as whole words too: a kanji
            # word's reading in the index (へんきん → ヘンキン = 返金) or a katakana word.
            pieces = [folded[:MAX_RUN], *_between_particles(run)]
            terms = tuple((w,) for w in dict.fromkeys(pieces) if len(w) >= 2)
            out.append(Concept(terms=terms, grams=(phrase,), marks=(folded,)))
    return out


def _between_particles(run: Sequence[Token]) -> list[str]:
    """The folded pieces of a run of loose kana between particles (へんきん|は|いつ)."""
    pieces: list[str] = []
    current = ""
    for token in [*run, Token(surface="。", norm="。", pos="助詞")]:
        if token.pos in ("助詞", "助動詞"):
            if current:
                pieces.append(current[:MAX_RUN])
            current = ""
        else:
            current += "".join(words_of(fold(token.surface)))
    return pieces


def _dedupe(concepts: list[Concept]) -> tuple[Concept, ...]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for concept in concepts:
        key = (concept.terms, concept.grams)
        if key not in seen:
            seen.add(key)
            out.append(concept)
    return tuple(out)


def marks(concepts: Iterable[Concept]) -> list[str]:
    """The folded strings to highlight, longest first."""
    found = {m for concept in concepts for m in concept.marks if m}
    return sorted(found, key=lambda m: (-len(m), m))
