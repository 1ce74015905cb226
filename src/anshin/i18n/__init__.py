"""Catalogs and locale negotiation: Japanese first, English complete (docs/design.md "i18n").

msgids are English; Japanese lives in ``locales/ja/LC_MESSAGES/*.po``. Each
domain keeps its own ``.po`` file (``incidents.po``, ``team.po``…) and all of a
locale's files are merged at load, so domains can grow without touching one
shared catalog. ``tests/test_i18n.py`` fails when a string in the code or the
templates has no Japanese translation.
"""

from __future__ import annotations

import gettext as _gettext
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po


class Locale(StrEnum):
    """A language anshin speaks: Japanese first, English complete."""

    JA = "ja"
    EN = "en"


# The one list of languages: console, templates, notices, subscribers, the check.
SUPPORTED_LOCALES: tuple[str, ...] = tuple(Locale)
DEFAULT_LOCALE = "ja"
LOCALES_DIR = Path(__file__).parent / "locales"


class CatalogTranslations(_gettext.NullTranslations):
    """gettext translations backed by a dict read from ``.po`` files (no compile step)."""

    def __init__(self, messages: dict[str, str], plurals: dict[str, list[str]]) -> None:
        super().__init__()
        self._messages = messages
        self._plurals = plurals

    def gettext(self, message: str) -> str:
        return self._messages.get(message) or message

    def has(self, message: str) -> bool:
        """True when the catalog holds a translation for this msgid (singular or plural)."""
        return message in self._messages or message in self._plurals

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        forms = self._plurals.get(msgid1)
        if forms:
            return forms[0] if len(forms) == 1 or n == 1 else forms[min(1, len(forms) - 1)]
        return msgid1 if n == 1 else msgid2

    def pgettext(self, context: str, message: str) -> str:
        return self.gettext(message)

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return self.ngettext(msgid1, msgid2, n)


def catalog_files(locale: str) -> list[Path]:
    """Every domain's ``.po`` file of one locale, in a stable order."""
    return sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po"))


@lru_cache(maxsize=len(SUPPORTED_LOCALES))
def translations(locale: str) -> CatalogTranslations:
    """The merged catalog of a locale; unknown locales fall back to the default."""
    if locale not in SUPPORTED_LOCALES:
        locale = DEFAULT_LOCALE
    messages: dict[str, str] = {}
    plurals: dict[str, list[str]] = {}
    for path in catalog_files(locale):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            if isinstance(message.id, tuple | list):
                strings = [s for s in message.string if s] if message.string else []
                if strings:
                    plurals[message.id[0]] = list(strings)
            elif message.string:
                messages[message.id] = str(message.string)
    return CatalogTranslations(messages, plurals)


def translate(locale: str, msgid: str, /, **params: Any) -> str:
    """One message in one locale, with ``{name}`` parameters filled in."""
    text = translations(locale).gettext(msgid)
    return text.format(**params) if params else text


def N_(msgid: str) -> str:
    """Mark a string for extraction without translating it yet (translated at the edge)."""
    return msgid


def negotiate(
    query: str | None = None,
    cookie: str | None = None,
    accept_language: str | None = None,
    default: str = DEFAULT_LOCALE,
) -> str:
    """Pick the locale: an explicit ``?lang=`` wins, then the cookie, then Accept-Language."""
    for explicit in (query, cookie):
        if explicit and explicit.lower()[:2] in SUPPORTED_LOCALES:
            return explicit.lower()[:2]
    if accept_language:
        ranked: list[tuple[float, int, str]] = []
        for index, part in enumerate(accept_language.split(",")):
            pieces = part.strip().split(";")
            tag = pieces[0].strip().lower()
            quality = 1.0
            for param in pieces[1:]:
                key, _, value = param.strip().partition("=")
                if key == "q":
                    try:
                        quality = float(value)
                    except ValueError:
                        quality = 0.0
            ranked.append((-quality, index, tag[:2]))
        for neg_quality, _index, tag in sorted(ranked):
            if neg_quality < 0 and tag in SUPPORTED_LOCALES:
                return tag
    return default if default in SUPPORTED_LOCALES else DEFAULT_LOCALE
