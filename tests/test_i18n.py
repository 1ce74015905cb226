"""Japanese first, English complete: every msgid in code and templates has a Japanese text."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from anshin.i18n import negotiate, translate, translations

SRC = Path(__file__).resolve().parent.parent / "src" / "anshin"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [
    ("**/comms/templates_default/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.xml", "jinja2"),
]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(SRC), METHODS, OPTIONS, keywords=KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids[:1]:
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_every_message_has_a_japanese_translation() -> None:
    catalog = translations("ja")
    missing = {msgid: where for msgid, where in _msgids().items() if not catalog.has(msgid)}
    assert not missing, "msgids without a Japanese translation:\n" + "\n".join(
        f"  {where}: {msgid!r}" for msgid, where in sorted(missing.items(), key=lambda i: i[1])
    )


def test_parameters_are_filled_in_both_languages() -> None:
    assert "sev9" in translate("ja", "Unknown severity: {value}.", value="sev9")
    assert translate("en", "Unknown severity: {value}.", value="sev9") == "Unknown severity: sev9."


def test_negotiation_order() -> None:
    assert negotiate("en", "ja", "ja") == "en"
    assert negotiate(None, "en", "ja") == "en"
    assert negotiate(None, None, "en-US,en;q=0.9,ja;q=0.8") == "en"
    assert negotiate(None, None, "fr-FR, ja;q=0.5, en;q=0.4") == "ja"
    assert negotiate(None, None, None) == "ja"
    assert negotiate("xx", None, "zz") == "ja"


def test_catalogs_agree_on_every_shared_msgid() -> None:
    """Domain catalogs are merged: one msgid must read the same everywhere (one vocabulary)."""
    from babel.messages.pofile import read_po

    from anshin.i18n import catalog_files

    seen: dict[str, dict[str, str]] = {}
    for path in catalog_files("ja"):
        with path.open("rb") as fh:
            for message in read_po(fh, locale="ja"):
                if message.id and isinstance(message.id, str) and message.string:
                    seen.setdefault(message.id, {})[path.name] = str(message.string)
    conflicts = {msgid: found for msgid, found in seen.items() if len(set(found.values())) > 1}
    assert not conflicts, "the same msgid is translated differently:\n" + "\n".join(
        f"  {msgid!r}: {found}" for msgid, found in conflicts.items()
    )
