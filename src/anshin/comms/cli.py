"""``anshin template``: read, edit and try message templates from a terminal (R11).

``show`` prints a template in the file format ``edit`` reads back (for email,
a ``件名:`` / ``Subject:`` line first), so a lead can keep templates in git:

    anshin template show first_notice ja email > ja/first_notice.email.txt
    anshin template edit ja/first_notice.email.txt --note "共感の一文を追加"
    anshin template render first_notice ja email --incident INC-2026-0001

Exit codes: 0 done, 1 refused (syntax error, unknown variable, no such
incident — the reason on stderr), 2 used wrongly (unknown kind, locale or
channel; unreadable file).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from anshin.cliutil import (
    FORMAT_HELP,
    actor,
    check_format,
    cli_locale,
    console,
    count,
    load_settings,
    open_session,
    parse_time,
    print_json,
    t,
)
from anshin.comms import records, rules, service
from anshin.i18n import N_
from anshin.inputs import text_problem
from anshin.timefmt import format_local

template_app = typer.Typer(help="Message templates: list, show, edit, versions, restore, render.")
FORMAT = typer.Option("text", "--format", callback=check_format, help=FORMAT_HELP)
KIND = typer.Argument(..., help="Kind: " + ", ".join(rules.KINDS))
LOCALE = typer.Argument(..., help="Language: ja or en.")
CHANNEL = typer.Argument(..., help="Channel: status_page, email, short (script for phone_script).")


def _check_key(kind: str, locale: str, channel: str) -> None:
    """An unknown kind, locale or channel is a usage error (exit 2), named with the choices."""
    if kind not in rules.KINDS:
        raise typer.BadParameter(
            t(
                N_("Unknown template kind: {value}. Choose one of: {choices}."),
                value=kind,
                choices=", ".join(rules.KINDS),
            ),
            param_hint="KIND",
        )
    if locale not in rules.LOCALES:
        raise typer.BadParameter(
            t(
                N_("Unknown language: {value}. Choose one of: {choices}."),
                value=locale,
                choices=", ".join(rules.LOCALES),
            ),
            param_hint="LOCALE",
        )
    if channel not in rules.KIND_CHANNELS[kind]:
        raise typer.BadParameter(
            t(
                N_("The {kind} template has no {value} channel. Choose one of: {choices}."),
                kind=kind,
                value=channel,
                choices=", ".join(rules.KIND_CHANNELS[kind]),
            ),
            param_hint="CHANNEL",
        )


def key_from_path(path: Path) -> tuple[str | None, str | None, str | None]:
    """Kind, locale and channel from a file named like the shipped defaults.

    ``ja/first_notice.email.txt`` or ``first_notice.ja.email.txt``; parts that
    cannot be read are None.
    """
    parts = path.name.split(".")
    if parts and parts[-1] == "txt":
        parts = parts[:-1]
    kind = parts[0] if parts and parts[0] in rules.KINDS else None
    locale = next((p for p in parts[1:] if p in rules.LOCALES), None)
    if locale is None and path.parent.name in rules.LOCALES:
        locale = path.parent.name
    channel = next((p for p in parts[1:] if p in rules.CHANNELS), None)
    return kind, locale, channel


def _read(path: str) -> str:
    """A template file's text; not UTF-8, a NUL, or unreadable is bad input (exit 2)."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise typer.BadParameter(
            t(N_("{path} is not UTF-8 text."), path=path), param_hint="FILE"
        ) from None
    except OSError as exc:
        raise typer.BadParameter(
            t(N_("Cannot read {path}: {reason}"), path=path, reason=exc.strerror or str(exc)),
            param_hint="FILE",
        ) from None
    problem = text_problem(text)
    if problem is not None:
        raise typer.BadParameter(t(problem), param_hint="FILE")
    return text


@template_app.command("list")
def list_command(format: str = FORMAT) -> None:
    """Every template and its active version (0 = the shipped default)."""
    settings = load_settings()
    with open_session(settings) as session:
        texts = service.list_templates(session)
    if format == "json":
        print_json({"templates": [text.as_dict(settings.timezone) for text in texts]})
        return
    table = Table()
    for title in (N_("Kind"), N_("Language"), N_("Channel"), N_("Version"), N_("Changed by")):
        table.add_column(t(title))
    for text in texts:
        version = t(N_("default")) if text.is_default else str(text.version)
        table.add_row(text.kind, text.locale, text.channel, version, text.created_by or "")
    console().print(table)


@template_app.command("show")
def show(
    kind: str = KIND,
    locale: str = LOCALE,
    channel: str = CHANNEL,
    version: int | None = typer.Option(
        None, "--version", parser=count, help="A past version (0 = default)."
    ),
    format: str = FORMAT,
) -> None:
    """Print a template in the file format `edit` reads back."""
    _check_key(kind, locale, channel)
    settings = load_settings()
    with open_session(settings) as session:
        if version is None:
            text = service.get_active(session, kind, locale, channel)
        else:
            text = service.get_version(session, kind, locale, channel, version)
    if format == "json":
        print_json(text.as_dict(settings.timezone))
        return
    typer.echo(rules.format_file(text.source, locale), nl=False)


@template_app.command("edit")
def edit(
    path: str = typer.Argument(..., help="Template file ('-' reads stdin)."),
    kind: str | None = typer.Option(None, "--kind", help="Kind (default: from the file name)."),
    locale: str | None = typer.Option(None, "--locale", help="Language (default: from the path)."),
    channel: str | None = typer.Option(None, "--channel", help="Channel (default: file name)."),
    note: str | None = typer.Option(None, "--note", help="Why the wording changed."),
    override_reason: str | None = typer.Option(
        None,
        "--override-reason",
        help="Save although the message check finds errors on the sample facts, and why.",
    ),
) -> None:
    """Save a file as the template's new version; the old version stays in the history."""
    guessed = key_from_path(Path(path)) if path != "-" else (None, None, None)
    kind, locale, channel = kind or guessed[0], locale or guessed[1], channel or guessed[2]
    if not kind or not locale or not channel:
        raise typer.BadParameter(
            t(
                N_(
                    "Name the template with --kind, --locale and --channel, or name the file "
                    "like ja/first_notice.email.txt."
                )
            ),
            param_hint="FILE",
        )
    _check_key(kind, locale, channel)
    source = rules.parse_file(_read(path), channel)
    settings = load_settings()
    with open_session(settings) as session:
        text, changed = service.save(
            session,
            settings,
            kind,
            locale,
            channel,
            subject=source.subject,
            body=source.body,
            actor=actor(),
            note=note,
            override_reason=override_reason,
        )
        session.commit()
    if changed:
        typer.echo(
            t(
                N_("Saved version {version} of {kind}/{locale}/{channel}."),
                version=text.version,
                kind=kind,
                locale=locale,
                channel=channel,
            )
        )
    else:
        typer.echo(t(N_("The text is the same as the active version; nothing was saved.")))


@template_app.command("versions")
def versions(
    kind: str = KIND, locale: str = LOCALE, channel: str = CHANNEL, format: str = FORMAT
) -> None:
    """Every version of a template, newest first: who changed it and when."""
    _check_key(kind, locale, channel)
    settings = load_settings()
    with open_session(settings) as session:
        texts = service.list_versions(session, kind, locale, channel)
    if format == "json":
        print_json({"versions": [text.as_dict(settings.timezone) for text in texts]})
        return
    table = Table()
    for title in (N_("Version"), N_("Changed by"), N_("When"), N_("Note")):
        table.add_column(t(title))
    for text in texts:
        when = format_local(text.created_at, settings.timezone, cli_locale())
        label = t(N_("default")) if text.is_default else str(text.version)
        table.add_row(label, text.created_by or "", when, text.note or "")
    console().print(table)


@template_app.command("restore")
def restore(
    kind: str = KIND,
    locale: str = LOCALE,
    channel: str = CHANNEL,
    version: int = typer.Argument(
        ..., parser=count, help="Version to bring back (0 = the default)."
    ),
) -> None:
    """Bring back an old version as the newest one."""
    _check_key(kind, locale, channel)
    settings = load_settings()
    with open_session(settings) as session:
        text = service.restore(session, settings, kind, locale, channel, version, actor=actor())
        session.commit()
    typer.echo(
        t(
            N_("Saved version {version} of {kind}/{locale}/{channel}."),
            version=text.version,
            kind=kind,
            locale=locale,
            channel=channel,
        )
    )


@template_app.command("render")
def render(
    kind: str = KIND,
    locale: str = LOCALE,
    channel: str = CHANNEL,
    incident: str | None = typer.Option(None, "--incident", help="Incident reference or id."),
    maintenance: str | None = typer.Option(None, "--maintenance", help="Maintenance reference."),
    customer_name: str = typer.Option("", "--customer-name", help="Customer or client name."),
    inquiry: str = typer.Option("", "--inquiry", help="Inquiry reference."),
    reply_by: str | None = typer.Option(None, "--reply-by", help="When we reply (ISO 8601)."),
    file: str | None = typer.Option(None, "--file", help="Render this draft file instead."),
    format: str = FORMAT,
) -> None:
    """Render a template with an incident's facts, as the compose box would start."""
    _check_key(kind, locale, channel)
    settings = load_settings()
    draft = rules.parse_file(_read(file), channel) if file else None
    with open_session(settings) as session:
        options: dict[str, Any] = {
            "customer_name": customer_name,
            "inquiry_reference": inquiry,
            "reply_by": parse_time(reply_by, settings, "--reply-by"),
        }
        rendered, findings = records.preview(
            session,
            settings,
            kind,
            locale,
            channel,
            source=draft,
            incident_ref=incident,
            maintenance_ref=maintenance,
            sample=None,
            options=options,
        )
    if format == "json":
        print_json(
            {
                "subject": rendered.subject,
                "text": rendered.text,
                "html": rendered.html,
                "length": rendered.length,
                "limit": rendered.limit,
                "over_limit": rendered.over_limit,
                "findings": [f.as_dict() for f in findings],
            }
        )
        return
    if rendered.subject is not None:
        typer.echo(f"{rules.SUBJECT_HEADERS[locale]} {rendered.subject}\n")
    typer.echo(rendered.text)
    if rendered.limit is not None:
        typer.echo(
            t(N_("({length} of {limit} characters)"), length=rendered.length, limit=rendered.limit),
            err=True,
        )
    for finding in findings:
        typer.echo(f"[{finding.severity}] {finding.rule}: {finding.message}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``template`` to the root command."""
    app.add_typer(template_app, name="template")
