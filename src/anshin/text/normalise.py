"""Fold the many ways customers write the same word onto one form (pure, no I/O).

Customers write ﾛｸﾞｲﾝ, ＬＯＧＩＮ, ろぐいん, ログイーン and ログイン for one thing,
add emoji and line breaks, and mix English in. Matching words against an
incident's text or a knowledge article only works once these are folded:

- NFKC: full-width letters and digits become ASCII, half-width kana full-width;
- case: ASCII is lower-cased;
- kana: hiragana is folded to katakana (``kana_fold``), so ろぐいん meets ログイン;
- long vowels and small kana: a run of ー〜~ collapses to one ー, small ァィゥェォッ
  used for emphasis (ですぅ, まじっっ) are dropped where they only stretch a sound;
- emoji and pictographs are kept apart (``emoji``) rather than deleted: they say
  something about the customer's mood;
- whitespace: every run of spaces, tabs and line breaks becomes one space.

``normalise`` keeps kana as written (Sudachi needs hiragana to find verbs);
``fold`` is the aggressive form for comparing words.
"""

from __future__ import annotations

import re
import unicodedata

_HIRA_START, _HIRA_END = 0x3041, 0x3096
_KANA_OFFSET = 0x60
_HIRA_TO_KATA = {code: code + _KANA_OFFSET for code in range(_HIRA_START, _HIRA_END + 1)}

# Marks that stretch a sound: ー and its look-alikes, repeated.
_LONG_RUN = re.compile(r"[ー〜～~－−‐]{2,}")
_LONG_LIKE = re.compile(r"(?<=[\u3041-\u30ff])[〜～~－−‐]")
# Small vowels repeated for emphasis after any kana (ですぅぅ, ねぇ): drop all but none.
_SMALL_EMPHASIS = re.compile(r"(?<=[\u3041-\u30ff])[ぁぃぅぇぉァィゥェォ]{2,}")
_SMALL_TSU_RUN = re.compile(r"[っッ]{2,}")
_REPEAT_PUNCT = re.compile(r"([!?！？。、…・])\1+")
_SPACE = re.compile(r"\s+")


# Emoji blocks, and the joiners and selectors that glue them (one regex: this runs per line).
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2190-\u21ff\u2300-\u23ff"
    "\ufe0f\ufe0e\u200d\u20e3]"
)


def is_emoji(ch: str) -> bool:
    """True for pictographs and symbols customers use as emoji (So category, most of them)."""
    code = ord(ch)
    if 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF:
        return True
    return unicodedata.category(ch) == "So" and code > 0x2000


def emoji(text: str) -> list[str]:
    """The emoji in ``text``, in order (variation selectors and joiners left out)."""
    if text.isascii():
        return []
    return [ch for ch in _EMOJI.findall(text) if is_emoji(ch)]


_GLUE = frozenset("\ufe0f\ufe0e\u200d\u20e3")
# Per character: dropped by ``strip_emoji`` or not. Customers use a few thousand distinct
# characters at most; asking ``unicodedata`` once per character, not once per use, keeps
# normalising a line at set speed (it runs on every inquiry triage reads). ``_KEPT`` holds
# the characters known to stay, so a line of known ones is one set difference, in C.
_DROP: dict[str, bool] = {}
_KEPT: set[str] = set()
_DROP_MAX = 1 << 16


def _dropped(ch: str) -> bool:
    found = _DROP.get(ch)
    if found is None:
        if len(_DROP) >= _DROP_MAX:
            _DROP.clear()
            _KEPT.clear()
        found = _DROP[ch] = is_emoji(ch) or ch in _GLUE
        if not found:
            _KEPT.add(ch)
    return found


def strip_emoji(text: str) -> str:
    """``text`` without emoji, variation selectors and zero-width joiners."""
    if text.isascii():
        return text
    unknown = set(text).difference(_KEPT)
    if not unknown:
        return text
    drop = {ch for ch in unknown if _dropped(ch)}
    if not drop:
        return text
    return "".join(ch for ch in text if ch not in drop)


def normalise(text: str) -> str:
    """NFKC, one space for any whitespace, long-vowel and small-kana emphasis folded.

    Kana stay hiragana or katakana as written and case is kept: this is the
    form handed to the tokenizer. Emoji are removed (read them with ``emoji``).
    """
    text = unicodedata.normalize("NFKC", text)
    text = strip_emoji(text)
    text = _LONG_LIKE.sub("ー", text)
    text = _LONG_RUN.sub("ー", text)
    text = _SMALL_EMPHASIS.sub("", text)
    text = _SMALL_TSU_RUN.sub("っ", text)
    text = _REPEAT_PUNCT.sub(r"\1", text)
    return _SPACE.sub(" ", text).strip()


def kana_fold(text: str) -> str:
    """Hiragana → katakana (ろぐいん → ログイン); everything else unchanged."""
    return text.translate(_HIRA_TO_KATA)


def fold_word(word: str) -> str:
    """``fold`` for a word that is already normalised (a tokenizer's output): cheaper."""
    text = kana_fold(word).lower()
    return re.sub(r"(?<=[\u30a1-\u30fa])ー", "", text) if "ー" in text else text


def fold(text: str) -> str:
    """The comparison form: ``normalise``, lower case, katakana, long vowels dropped.

    ログイーン, ろぐいん and ﾛｸﾞｲﾝ all fold to ログイン; two strings that fold
    alike are the same word to a customer.
    """
    text = kana_fold(normalise(text)).lower()
    # A long-vowel mark after katakana is spelling, not meaning (サーバー / サーバ).
    return re.sub(r"(?<=[\u30a1-\u30fa])ー", "", text)
