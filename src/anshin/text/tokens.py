"""Japanese and English words in their dictionary forms, with SudachiPy (pure functions).

Why Sudachi: its *normalised form* folds spelling variants a customer
uses onto one word — ﾛｸﾞｲﾝ → ログイン, でき/でけ → 出来る, サーバ → サーバー —
so the words of an inquiry meet the words of an incident or an article.
The dictionary ships inside the ``sudachidict-core`` wheel: nothing is
fetched at run time.

A Sudachi tokenizer is not thread-safe: each thread gets its own (a
``threading.local``), created on first use so importing this module stays cheap.
"""

from __future__ import annotations

import re
import threading
from typing import Any, NamedTuple

from anshin.text.normalise import normalise

_LOCAL = threading.local()
_DICT_LOCK = threading.Lock()
_DICTIONARY: Any = None

# Parts of speech that carry meaning; particles, auxiliaries and symbols do not.
CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞", "副詞", "感動詞", "接頭辞", "代名詞"})
_ASCII_WORD = re.compile(r"[a-z0-9][a-z0-9_\-.]*")
# Sudachi refuses inputs past ~49 kB: long texts go through in chunks of CHUNK
# characters (at most 3 UTF-8 bytes each), and only the first MAX_CHARS are read.
CHUNK = 4_000
MAX_CHARS = 200_000


class Token(NamedTuple):
    """One word: as written, its normalised form (folded), and its part of speech.

    A named tuple, not a dataclass: triage makes some twenty per line, and a
    tuple is made several times faster (immutable all the same).
    """

    surface: str
    norm: str
    pos: str
    reading: str = ""  # Sudachi's reading in katakana (返金 → ヘンキン); "" for ASCII words


# Sudachi's part-of-speech ids → the first field (名詞, 動詞 …): asked once per id, not per word.
_POS: dict[int, str] = {}


def _dictionary() -> Any:
    global _DICTIONARY
    with _DICT_LOCK:
        if _DICTIONARY is None:
            from sudachipy import Dictionary

            _DICTIONARY = Dictionary(dict="core")
        return _DICTIONARY


def _tokenizer() -> Any:
    """This thread's tokenizer (split mode C) and the morpheme list it writes into, reused."""
    found = getattr(_LOCAL, "tokenizer", None)
    if found is None:
        from sudachipy import SplitMode

        tokenizer = _dictionary().tokenizer(SplitMode.C)
        found = _LOCAL.tokenizer = (tokenizer, tokenizer.tokenize(""))
    return found


def tokenize(text: str, *, normalised: bool = False) -> list[Token]:
    """The words of ``text`` (normalised first), each with Sudachi's normalised form.

    The norm is Sudachi's normalised form, lower-cased (でき → 出来る,
    ﾛｸﾞｲﾝ → ログイン); ASCII words are kept as written, lower-cased.
    ``normalised``: the caller passes ``normalise(text)`` already (not done twice).
    Triage runs this on every line: the morphemes are written into one list
    per thread (Sudachi's ``out``) and read once each, not copied.
    """
    clean = (text if normalised else normalise(text))[:MAX_CHARS]
    if not clean:
        return []
    out: list[Token] = []
    append = out.append
    tokenizer, morphemes = _tokenizer()
    pos_of = _POS.get
    for start in range(0, len(clean), CHUNK):
        for m in tokenizer.tokenize(clean[start : start + CHUNK], out=morphemes):
            surface = m.surface()
            if surface.isspace():
                continue
            pos_id = m.part_of_speech_id()
            pos = pos_of(pos_id)
            if pos is None:
                pos = _POS[pos_id] = m.part_of_speech()[0]
            # English stays English (Sudachi would spell "this" as ディス).
            norm = surface.lower() if surface.isascii() else m.normalized_form().lower()
            reading = "" if surface.isascii() else m.reading_form()
            append(Token(surface, norm, pos, reading))
    return out


def content_words(text: str) -> list[str]:
    """The normalised forms of the meaningful words (nouns, verbs, adjectives …), in order.

    ASCII words are kept whatever Sudachi calls them (error codes, product names).
    """
    return meaningful(tokenize(text))


def meaningful(tokens: list[Token]) -> list[str]:
    """``content_words`` for tokens already made (tokenize once, read twice)."""
    words: list[str] = []
    for token in tokens:
        meaningful = token.pos in CONTENT_POS or _ASCII_WORD.fullmatch(token.norm)
        if meaningful and (len(token.norm) > 1 or not token.norm.isascii()):
            words.append(token.norm)
    return words


def norms(text: str) -> list[str]:
    """The normalised form of every word, particles included (for n-gram features)."""
    return [token.norm for token in tokenize(text)]
