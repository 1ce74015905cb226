"""``anshin review report|publish|followups``: the incident's reports from a terminal (R7–R9).

``report`` writes the customer report or the internal review report as
Markdown, HTML or PDF (stdout for text formats, ``--output FILE`` for any);
``publish`` checks and publishes the customer report as the report notice
(``anshin incident report``'s path, with its message check and override);
``followups`` lists the important customers with their drafted next-day
follow-up and, with ``--save``, stores each as the inquiry's next step.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from anshin.cliutil import (
    FORMAT_HELP,
    actor,
    check_format,
    cli_locale,
    console,
    load_settings,
    open_session,
    print_json,
    t,
)
from anshin.db import utcnow
from anshin.errors import InvalidInput
from anshin.i18n import N_, SUPPORTED_LOCALES
from anshin.incidents import service as incidents
from anshin.inputs import BadInput
from anshin.review import customer, document, export, followups
from anshin.timefmt import format_local, iso_local

CLI_ROLE = "admin"  # as ``anshin incident report``: whoever holds the terminal holds the database
FORMAT = typer.Option("text", "--format", callback=check_format, help=FORMAT_HELP)
REF = typer.Argument(..., help="The incident's reference (INC-2026-0001).")


def _checked(check: Any) -> Any:
    """A Typer callback running a domain check: its refusal becomes a usage error (exit 2)."""

    def callback(value: str) -> str:
        try:
            return str(check(value))
        except InvalidInput as exc:
            raise typer.BadParameter(t(exc.msgid, **exc.params)) from exc

    return callback


def _lang(value: str | None) -> str:
    if value is None:
        return cli_locale()
    if value not in SUPPORTED_LOCALES:
        raise typer.BadParameter(
            t(
                N_("Unknown language: {value}. Choose one of: {choices}."),
                value=value,
                choices=", ".join(SUPPORTED_LOCALES),
            )
        )
    return value


LANG = typer.Option(None, "--lang", callback=_lang, help="ja or en (default: the terminal's).")
CHANGES = typer.Option(None, "--changes", help="What we are changing (Japanese).")
REFLECTION = typer.Option(None, "--reflection", help="Our reflection (Japanese).")
CHANGES_EN = typer.Option(None, "--changes-en", help="What we are changing (English).")
REFLECTION_EN = typer.Option(None, "--reflection-en", help="Our reflection (English).")


def _written(*texts: str | None) -> customer.Written:
    changes, reflection, changes_en, reflection_en = texts
    return customer.Written(
        {"ja": changes or "", "en": changes_en or ""},
        {"ja": reflection or "", "en": reflection_en or ""},
    )


def report(
    ref: str = REF,
    kind: str = typer.Option(
        "customer", "--kind", callback=_checked(document.check_kind), help="customer or internal."
    ),
    fmt: str = typer.Option(
        "md", "--format", callback=_checked(export.check_format), help="md, html or pdf."
    ),
    output: Path | None = typer.Option(None, "--output", help="Write to this file."),
    lang: str = LANG,
    changes: str | None = CHANGES,
    reflection: str | None = REFLECTION,
    changes_en: str | None = CHANGES_EN,
    reflection_en: str | None = REFLECTION_EN,
) -> None:
    """Write the customer report or the internal review report as Markdown, HTML or PDF."""
    if fmt == "pdf" and output is None:
        raise BadInput(N_("A PDF is written to a file: give --output FILE."), field="output")
    settings = load_settings()
    written = _written(changes, reflection, changes_en, reflection_en)
    spinner = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),  # stdout carries the report itself
        transient=True,
    )
    with open_session(settings) as session, spinner:
        spinner.add_task(t(N_("Writing the report")), total=None)
        doc = document.build(session, settings, ref, kind, lang, utcnow(), written)
        data = export.write(doc, fmt)
    if output is None:
        typer.echo(data.decode(), nl=False)
        return
    try:
        output.write_bytes(data)
    except OSError as exc:  # a missing folder, no permission: the path must change (exit 2)
        raise BadInput(
            N_("Cannot write {path}: {reason}"),
            field="output",
            path=str(output),
            reason=exc.strerror or str(exc),
        ) from None
    console().print(t(N_("Report written to {path}."), path=str(output)), markup=False)


def publish(
    ref: str = REF,
    changes: str | None = CHANGES,
    reflection: str | None = REFLECTION,
    changes_en: str | None = CHANGES_EN,
    reflection_en: str | None = REFLECTION_EN,
    override_reason: str | None = typer.Option(
        None,
        "--override-reason",
        help="Publish although the message check reports errors; the reason is recorded.",
    ),
) -> None:
    """Check and publish the customer report as the report notice; subscribers are told (R8)."""
    settings = load_settings()
    now = utcnow()
    with open_session(settings) as session:
        incident = incidents.get(session, ref)
        update = customer.publish(
            session,
            settings,
            incident,
            _written(changes, reflection, changes_en, reflection_en),
            actor=actor(),
            actor_role=CLI_ROLE,
            override_reason=override_reason,
            now=now,
        )
        session.commit()
        at = format_local(update.published_at, settings.timezone, cli_locale())
    console().print(t(N_("Report published {at}."), at=at), markup=False)


def _followup_json(found: followups.Followup, zone: str) -> dict[str, Any]:
    return {
        "inquiry": found.inquiry,
        "customer": found.customer,
        "email": found.email,
        "phone": found.phone,
        "locale": found.locale,
        "subject": found.subject,
        "draft": found.draft,
        "task": found.task,
        "due_at": iso_local(found.due_at, zone),
        "saved": found.saved,
    }


def show_followups(
    ref: str = REF,
    save: bool = typer.Option(
        False, "--save", help="Store each follow-up as the inquiry's next step, due tomorrow."
    ),
    fmt: str = FORMAT,
) -> None:
    """Important customers who asked about the incident, with their next-day follow-up (R9)."""
    settings = load_settings()
    now: dt.datetime = utcnow()
    with open_session(settings) as session:
        incident = incidents.get(session, ref)
        if save:
            found = followups.save(session, settings, incident, actor=actor(), now=now)
            session.commit()
        else:
            found = followups.for_incident(session, settings, incident, now)
    if fmt == "json":
        print_json([_followup_json(f, settings.timezone) for f in found])
        return
    table = Table(title=t(N_("Important customers: next-day follow-up")))
    for heading in (N_("Inquiry"), N_("Customer"), N_("Task"), N_("Due")):
        table.add_column(t(heading))
    for f in found:
        table.add_row(
            f.inquiry,
            f.customer,
            f.task if f.saved else t(N_("(not saved yet)")),
            format_local(f.due_at, settings.timezone, cli_locale()),
        )
    console().print(table)
    if not found:
        console().print(t(N_("No important customer asked about this incident.")), markup=False)


def add_commands(app: typer.Typer) -> None:
    """Add ``report``, ``publish`` and ``followups`` to the ``review`` group."""
    app.command("report")(report)
    app.command("publish")(publish)
    app.command("followups")(show_followups)
