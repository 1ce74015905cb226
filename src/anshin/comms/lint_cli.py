"""``anshin lint``: run the message check (伝え方チェック) from a terminal or a script.

Writers paste a draft into a file or a pipe before sending it; CI jobs check
the shipped templates. The exit code is the contract for scripts: 0 when
nothing blocks publishing, 1 when an error-severity finding does, 2 when the
command itself was used wrongly (unknown kind or locale, unreadable file) or
a word list in ``ANSHIN_LINT_EXTRA_DIR`` is malformed — every file is checked,
whatever the locale, so a broken one is found by the first run, not the one
that happens to need it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from anshin.comms.lint import KINDS, LOCALES, Finding, LexiconError, check, has_errors
from anshin.comms.lint.lexicon import validate as validate_word_lists
from anshin.i18n import N_, translate
from anshin.inputs import text_problem

FORMATS: tuple[str, ...] = ("text", "json")
_STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_LABELS = {"error": N_("error"), "warning": N_("warning"), "info": N_("info")}


def _fail(locale: str, msgid: str, **params: str) -> typer.Exit:
    """Print a usage problem to stderr in the user's language and return exit 2."""
    typer.echo(translate(locale, msgid, **params), err=True)
    return typer.Exit(code=2)


def _read(path: str, locale: str) -> str:
    """The text to check, from ``path`` or stdin (``-``); not UTF-8 or with a NUL: exit 2."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _fail(locale, N_("{path} is not UTF-8 text."), path=path) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _fail(locale, N_("Cannot read {path}: {reason}"), path=path, reason=reason) from None
    problem = text_problem(text)
    if problem is not None:
        raise _fail(locale, problem)
    return text


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset, as editors count them."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _print_text(text: str, findings: list[Finding], locale: str) -> None:
    console = Console(soft_wrap=True, highlight=False)
    if not findings:
        console.print(translate(locale, N_("No findings.")))
        return
    for finding in findings:
        line, column = line_col(text, finding.start)
        label = translate(locale, _LABELS[finding.severity])
        excerpt = text[finding.start : finding.end].replace("\n", " ")
        if len(excerpt) > 40:
            excerpt = excerpt[:39] + "…"
        console.print(
            f"{line}:{column}  [{_STYLES[finding.severity]}]{escape(label)}[/]  "
            f"{finding.rule}  {escape(excerpt)}"
        )
        console.print(f"    {escape(finding.message)}")
        console.print(f"    → {escape(finding.suggestion)}")
    counts = {sev: sum(1 for f in findings if f.severity == sev) for sev in _LABELS}
    console.print(
        translate(
            locale,
            N_("Errors: {errors}, warnings: {warnings}, notes: {infos}."),
            errors=str(counts["error"]),
            warnings=str(counts["warning"]),
            infos=str(counts["info"]),
        )
    )


def lint(
    kind: str = typer.Option(..., "--kind", help="Kind of message: " + ", ".join(KINDS)),
    locale: str = typer.Option("ja", "--locale", help="Language of the text: ja or en."),
    format: str = typer.Option("text", "--format", help="Output: text or json."),
    path: str = typer.Argument("-", help="File to check; '-' (the default) reads stdin."),
) -> None:
    """Check a customer-facing message before it is published (伝え方チェック)."""
    ui_locale = locale if locale in LOCALES else "en"
    if locale not in LOCALES:
        raise _fail(
            ui_locale,
            N_("Unknown locale: {value}. Choose one of: {choices}."),
            value=locale,
            choices=", ".join(LOCALES),
        )
    if kind not in KINDS:
        raise _fail(
            ui_locale,
            N_("Unknown kind: {value}. Choose one of: {choices}."),
            value=kind,
            choices=", ".join(KINDS),
        )
    if format not in FORMATS:
        raise _fail(
            ui_locale,
            N_("Unknown format: {value}. Choose one of: {choices}."),
            value=format,
            choices=", ".join(FORMATS),
        )
    text = _read(path, ui_locale)
    try:
        validate_word_lists()
        findings = check(text, kind=kind, locale=locale)
    except LexiconError as exc:
        raise _fail(
            ui_locale,
            N_("The message check could not load its word lists: {reason}"),
            reason=str(exc),
        ) from None
    if format == "json":
        typer.echo(json.dumps([f.as_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        _print_text(text, findings, ui_locale)
    raise typer.Exit(code=1 if has_errors(findings) else 0)


def register(app: typer.Typer) -> None:
    """Add the ``lint`` command to ``app`` (the main CLI mounts it this way)."""
    app.command("lint")(lint)
