"""Word lists and patterns for the message check, read from TOML data files.

The rules are data so that a support lead can add the words their customers
stumble on without a code change (R17: expressions to avoid are knowledge,
and knowledge grows after every incident, R32). The shipped files live in
``data/``; ``ANSHIN_LINT_EXTRA_DIR`` names a folder whose ``*.toml`` files are
merged in after them (entries and markers are appended, limits replaced).
The format is documented in ``docs/message-check.md``.

A malformed file is a :class:`LexiconError` naming the file and the entry,
never a stray ``AttributeError``: the app and ``anshin lint`` call
:func:`validate` before they start, and answer a clear error (not a 500) if a
file is broken later while they run.

Loading is cached on the extra folder's file names, sizes and modification
times, so the check stays fast while typing and still sees an edited file.
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from anshin.comms.lint.finding import SEVERITIES
from anshin.i18n import SUPPORTED_LOCALES

DATA_DIR = Path(__file__).parent / "data"
EXTRA_DIR_ENV = "ANSHIN_LINT_EXTRA_DIR"
LOCALES = SUPPORTED_LOCALES

# Rules whose findings come from matching entries, with their default severity.
ENTRY_RULES: dict[str, str] = {
    "speculation": "error",  # R3
    "jargon": "warning",  # R6
    "vague-deadline": "warning",  # R15
    "excuse": "error",  # R14
    "vague-responsibility": "error",  # R16
    "avoid-expression": "warning",  # R17
    "unconfirmed-as-fact": "error",  # R3
    # R6/R12: a notice in chat register (落ちています, "got kicked out") reads as if the
    # trouble were not taken seriously; a warning, since a friendly tone can be a choice.
    "casual-wording": "warning",
    # R3/R15: an outcome promised as certain (すぐに直ります, "should resolve itself")
    # before anyone knows it; a warning, since the record may in fact confirm it
    # (unconfirmed-as-fact is the error when the record says it is not confirmed).
    "unfounded-promise": "warning",
}
MARKERS: tuple[str, ...] = (
    "apology",  # R12: words that apologise
    "empathy",  # R13: words that picture the customer's situation
    "time",  # R5/R15: a date, a clock time or a span ("30分後")
    "past_time_after",  # after a time: it is when something started, not a promise
    "past_time_before",  # before a time: the same ("since 14:05")
    "contact",  # R5: words about contacting / updating the customer
    "hedge",  # R3: the statement says it is unconfirmed or an estimate
    "continuation",  # the next sentence talks about the same estimate ("ただし…")
    "negation_after",  # right after an expression: it is denied ("〜ではなく")
    "negation_before",  # right before an expression: it is denied ("not a guess")
    "explanation_after",  # right after a technical word: it is explained ("（…）")
    "explanation_before",  # right before a technical word: it is the explanation's label
    "concrete",  # R16: the sentence names the concrete cause after all
    "past",  # R15: before a vague time, the sentence speaks of the past ("we worked as quickly as")
    "future",  # R15: ...unless something future comes first ("...and we will update you soon")
    "announcement",  # R15: the contact is made right here (「以下のとおりご案内いたします」)
    "ownership",  # R14: this or the next sentence takes responsibility ("the buck stops with us")
)
ABOUTS: tuple[str, ...] = ("recovery", "cause")
DEFAULT_LIMITS: dict[str, int] = {"long_sentence_info": 100, "long_sentence_warning": 150}
_ENTRY_KEYS = frozenset(
    {
        "words",
        "pattern",
        "severity",
        "message",
        "suggestion",
        "alternative",
        "about",
        "unless_before",
        "unless_after",
        "unless_sentence",
        "compound",
        "rank",
    }
)
_ASCII_ALNUM = "A-Za-z0-9"
_KATAKANA = "\u30a1-\u30fa\u30fc"
FLAGS = re.IGNORECASE


class LexiconError(ValueError):
    """A data file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Entry:
    """One expression (or family of expressions) a rule looks for."""

    rule: str
    regex: re.Pattern[str]
    severity: str
    source: str
    message: str | None = None
    suggestion: str | None = None
    alternative: str | None = None
    about: str | None = None
    unless_before: re.Pattern[str] | None = None
    unless_after: re.Pattern[str] | None = None
    unless_sentence: re.Pattern[str] | None = None
    # For rules reported once per sentence (vague-deadline): when several entries match
    # in one sentence, the lowest rank names the problem (「早急に」 before the contact).
    rank: int = 0


@dataclass(frozen=True)
class Lexicon:
    """Everything one locale's rules need, compiled."""

    locale: str
    entries: dict[str, tuple[Entry, ...]]
    markers: dict[str, re.Pattern[str]]
    limits: dict[str, int]

    def marker(self, name: str) -> re.Pattern[str]:
        """A marker's combined pattern (one that never matches when none is defined)."""
        return self.markers[name]


def _is_katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fa" or ch == "\u30fc"


def _word_parts(word: str, compound: bool) -> tuple[str, str, str]:
    """(boundary before, the escaped word, boundary after) of one literal word."""
    word = unicodedata.normalize("NFKC", word)
    before = after = ""
    first, last = word[0], word[-1]
    if first.isascii() and first.isalnum():
        before = f"(?<![{_ASCII_ALNUM}])"
    elif _is_katakana(first) and not compound:
        before = f"(?<![{_KATAKANA}])"
    if last.isascii() and last.isalnum():
        after = f"(?![{_ASCII_ALNUM}])"
    elif _is_katakana(last) and not compound:
        after = f"(?![{_KATAKANA}])"
    return before, re.escape(word), after


def word_pattern(word: str, compound: bool = False) -> str:
    """A literal word as a regex that does not match inside a longer word.

    ``API`` must not match in ``RAPID`` and ``ログ`` not in ``ログイン``, yet
    ``API`` must match in ``APIの`` — ``\\b`` cannot do that in Japanese text,
    so the boundary depends on the script of the word's first and last letter.
    A ``compound`` word is one that keeps its meaning inside a katakana
    compound (サーバ in 決済サーバメンテナンス, プロキシサーバー): for it only the
    ASCII boundary applies.
    """
    word = unicodedata.normalize("NFKC", word)
    pattern = re.escape(word)
    first, last = word[0], word[-1]
    if first.isascii() and first.isalnum():
        pattern = f"(?<![{_ASCII_ALNUM}])" + pattern
    elif _is_katakana(first) and not compound:
        pattern = f"(?<![{_KATAKANA}])" + pattern
    if last.isascii() and last.isalnum():
        pattern += f"(?![{_ASCII_ALNUM}])"
    elif _is_katakana(last) and not compound:
        pattern += f"(?![{_KATAKANA}])"
    return pattern


def words_regex(words: list[str], compound: bool = False) -> str:
    """Alternation of literal words, longest first so the longest form wins.

    Words that share their boundaries share one group (``(?<!…)(?:a|b)(?!…)``):
    the check runs as the user types, and one look-behind per position is much
    cheaper than one per word.
    """
    unique = sorted({w for w in words if w.strip()}, key=len, reverse=True)
    groups: dict[tuple[str, str], list[str]] = {}
    for word in unique:
        before, core, after = _word_parts(word, compound)
        groups.setdefault((before, after), []).append(core)
    return "|".join(
        f"{before}(?:{'|'.join(cores)}){after}" for (before, after), cores in groups.items()
    )


def compile_pattern(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, FLAGS)
    except re.error as exc:
        raise LexiconError(f"{where}: invalid pattern {pattern!r}: {exc}") from exc


def _optional_text(raw: dict[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise LexiconError(f"{where}: {key!r} must be a non-empty string")
    return value


def _entry(rule: str, raw: Any, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise LexiconError(f"{where}: each [[{rule}]] entry must be a table")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise LexiconError(f"{where}: unknown keys {sorted(unknown)}")
    parts: list[str] = []
    compound = raw.get("compound", False)
    if not isinstance(compound, bool):
        raise LexiconError(f"{where}: 'compound' must be true or false")
    words = raw.get("words")
    if words is not None:
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise LexiconError(f"{where}: 'words' must be a list of strings")
        if words_regex(words, compound):
            parts.append(words_regex(words, compound))
    pattern = _optional_text(raw, "pattern", where)
    if pattern:
        parts.append(f"(?:{pattern})")
    if not parts:
        raise LexiconError(f"{where}: an entry needs 'words' or 'pattern'")
    severity = raw.get("severity", ENTRY_RULES[rule])
    if severity not in SEVERITIES:
        raise LexiconError(f"{where}: severity must be one of {SEVERITIES}")
    rank = raw.get("rank", 0)
    if not isinstance(rank, int) or isinstance(rank, bool) or rank < 0:
        raise LexiconError(f"{where}: 'rank' must be a whole number >= 0")
    about = raw.get("about")
    if rule == "unconfirmed-as-fact" and about not in ABOUTS:
        raise LexiconError(f"{where}: 'about' must be one of {ABOUTS}")
    guards = {
        key: compile_pattern(text, where)
        for key in ("unless_before", "unless_after", "unless_sentence")
        if (text := _optional_text(raw, key, where))
    }
    return Entry(
        rule=rule,
        regex=compile_pattern("|".join(parts), where),
        severity=severity,
        source=where,
        message=_optional_text(raw, "message", where),
        suggestion=_optional_text(raw, "suggestion", where),
        alternative=_optional_text(raw, "alternative", where),
        about=about,
        unless_before=guards.get("unless_before"),
        unless_after=guards.get("unless_after"),
        unless_sentence=guards.get("unless_sentence"),
        rank=rank,
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except UnicodeDecodeError:
        raise LexiconError(f"{path}: not UTF-8 text") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LexiconError(f"{path}: {exc}") from exc


def _table(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    """An optional ``[key]`` table; written as anything else it is an error, not ignored."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise LexiconError(f"{path}: '{key}' must be a table, written [{key}]")
    return value


def _merge_file(
    path: Path,
    locale: str,
    entries: dict[str, list[Entry]],
    markers: dict[str, list[str]],
    limits: dict[str, int],
) -> None:
    """Add one data file's contents for ``locale`` (files for other locales are skipped)."""
    data = _read(path)
    file_locale = data.get("locale")
    if file_locale not in LOCALES:
        raise LexiconError(f"{path}: 'locale' must be one of {LOCALES}")
    if file_locale != locale:
        return
    unknown = set(data) - {"locale", "markers", "limits"} - set(ENTRY_RULES)
    if unknown:
        raise LexiconError(f"{path}: unknown sections {sorted(unknown)}")
    for name, patterns in _table(data, "markers", path).items():
        if name not in MARKERS:
            raise LexiconError(f"{path}: unknown marker {name!r}; known: {MARKERS}")
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise LexiconError(f"{path}: marker {name!r} must be a list of patterns")
        for pattern in patterns:
            compile_pattern(pattern, f"{path} [markers] {name}")
        markers[name].extend(patterns)
    for name, value in _table(data, "limits", path).items():
        valid = isinstance(value, int) and not isinstance(value, bool) and value >= 1
        if name not in DEFAULT_LIMITS or not valid:
            raise LexiconError(f"{path}: limit {name!r} must be a known name and >= 1")
        limits[name] = value
    for rule in ENTRY_RULES:
        raw_entries = data.get(rule, [])
        if not isinstance(raw_entries, list):
            raise LexiconError(f"{path}: [{rule}] must be written [[{rule}]]")
        for number, raw in enumerate(raw_entries, start=1):
            entries[rule].append(_entry(rule, raw, f"{path.name} [[{rule}]] #{number}"))


def extra_files() -> tuple[tuple[str, int, int], ...]:
    """The extra folder's data files with size and mtime (the cache key)."""
    folder = os.environ.get(EXTRA_DIR_ENV, "").strip()
    if not folder:
        return ()
    root = Path(folder)
    if not root.is_dir():
        raise LexiconError(f"{EXTRA_DIR_ENV}={folder!r} is not a folder")
    found: list[tuple[str, int, int]] = []
    try:
        for path in sorted(root.glob("*.toml")):
            stat = path.stat()
            found.append((str(path), stat.st_size, stat.st_mtime_ns))
    except OSError as exc:
        raise LexiconError(f"{EXTRA_DIR_ENV}={folder!r}: {exc}") from exc
    return tuple(found)


@lru_cache(maxsize=16)
def _load(locale: str, extras: tuple[tuple[str, int, int], ...]) -> Lexicon:
    entries: dict[str, list[Entry]] = {rule: [] for rule in ENTRY_RULES}
    markers: dict[str, list[str]] = {name: [] for name in MARKERS}
    limits = dict(DEFAULT_LIMITS)
    paths = sorted(DATA_DIR.glob("*.toml")) + [Path(name) for name, _size, _mtime in extras]
    for path in paths:
        _merge_file(path, locale, entries, markers, limits)
    compiled = {
        name: re.compile("|".join(f"(?:{p})" for p in patterns) if patterns else r"(?!x)x", FLAGS)
        for name, patterns in markers.items()
    }
    return Lexicon(
        locale=locale,
        entries={rule: tuple(found) for rule, found in entries.items()},
        markers=compiled,
        limits=limits,
    )


def load(locale: str) -> Lexicon:
    """The compiled lexicon of ``locale``: shipped data plus ``ANSHIN_LINT_EXTRA_DIR``."""
    if locale not in LOCALES:
        raise LexiconError(f"unknown locale {locale!r}; expected one of {LOCALES}")
    return _load(locale, extra_files())


def validate() -> None:
    """Load every locale's lexicon now, so a malformed data file stops start-up.

    Without this a broken file in ``ANSHIN_LINT_EXTRA_DIR`` would only show when
    someone first checks a message — as a failure in the middle of an incident.
    Raises :class:`LexiconError` naming the file and the entry.
    """
    for locale in LOCALES:
        load(locale)
