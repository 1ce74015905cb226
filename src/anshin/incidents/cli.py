"""``anshin incident|component|maintenance``: the incident record from a terminal or a script.

Every command takes every field the record has (R1), writes through the same
services as the console (events, component statuses, status page), and with
``--format json`` prints the stored record exactly as the JSON API returns it.
"""

from __future__ import annotations

import textwrap
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from anshin.cliutil import (
    FORMAT_HELP,
    actor,
    check_format,
    cli_locale,
    console,
    load_settings,
    open_session,
    parse_time,
    print_json,
    t,
)
from anshin.config import Settings
from anshin.db import utcnow
from anshin.i18n import N_
from anshin.incidents import service
from anshin.incidents.arguments import patched_input, update_arguments
from anshin.incidents.responses import IncidentList, IncidentOut, incident_out
from anshin.incidents.schemas import IncidentPatch
from anshin.timefmt import format_local

incident_app = typer.Typer(help="Incidents: declare, update, resolve, list, show (R1-R7).")

FORMAT = typer.Option("text", "--format", callback=check_format, help=FORMAT_HELP)
REF = typer.Argument(..., help="Incident reference (INC-2026-0001) or id.")
OVERRIDE_REASON = typer.Option(
    None,
    "--override-reason",
    help="Publish although the message check reports errors; the reason is recorded.",
)
# Whoever runs the command line holds the database's keys: they may override the message
# check like a senior, but only by giving a reason, which the event log keeps.
CLI_ROLE = "admin"
# The facts of an incident (R1), shared by declare and edit.
TITLE_EN = typer.Option(None, "--title-en", help="English title.")
SUMMARY = typer.Option(None, "--summary", help="What happened, in Japanese.")
SUMMARY_EN = typer.Option(None, "--summary-en", help="What happened, in English.")
COMPONENTS = typer.Option(
    None, "--component", "-c", help="Affected component by name or id (repeat for several)."
)
IMPACT = typer.Option(
    None, "--impact", help="Component status: degraded_performance, partial_outage, major_outage…"
)
AFFECTED = typer.Option(None, "--affected-customers", help="Estimated affected customers.")
RECOVERY_AT = typer.Option(
    None, "--recovery-at", help="Estimated recovery (ISO 8601; '' = unknown / 未定)."
)
RECOVERY_CONFIRMED = typer.Option(
    None, "--recovery-confirmed/--recovery-unconfirmed", help="Is the recovery time confirmed? (R3)"
)
CAUSE = typer.Option(None, "--cause", help="Cause as far as known.")
CAUSE_CONFIRMED = typer.Option(
    None, "--cause-confirmed/--cause-unconfirmed", help="Is the cause confirmed? (R3)"
)
WORKAROUND = typer.Option(None, "--workaround", help="Workaround, in Japanese.")
WORKAROUND_EN = typer.Option(None, "--workaround-en", help="Workaround, in English.")
NOTES = typer.Option(None, "--internal-notes", help="Notes for staff only, never published.")


# Words people read in text output; JSON keeps the codes.
KIND_LABELS: dict[str, str] = {
    "first_notice": N_("First notice"),
    "update": N_("Update"),
    "no_news_update": N_("No-news update"),
    "resolution": N_("Resolution notice"),
}
STATUS_LABELS: dict[str, str] = {
    "investigating": N_("Investigating"),
    "identified": N_("Identified"),
    "monitoring": N_("Monitoring"),
    "resolved": N_("Resolved"),
}


def _label(labels: dict[str, str], code: str) -> str:
    return t(labels[code]) if code in labels else code


def _show_incident(data: IncidentOut, settings: Settings, fmt: str) -> None:
    if fmt == "json":
        print_json(data)
        return
    locale = cli_locale()
    zone = settings.timezone
    out = console()
    status = _label(STATUS_LABELS, data.status)
    out.print(f"[bold]{data.reference}[/]  {escape(data.title)}  ({data.severity}, {status})")
    facts = Table(show_header=False, box=None)
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column(overflow="fold")
    rows: list[tuple[str, Any]] = [
        (t(N_("Started")), format_local(data.started_at, zone, locale)),
        (t(N_("Declared")), format_local(data.declared_at, zone, locale)),
        (t(N_("Components")), ", ".join(f"{c.name} ({c.impact})" for c in data.components)),
        (t(N_("Estimated affected customers")), data.estimated_affected_customers),
        (t(N_("Estimated recovery")), format_local(data.estimated_recovery_at, zone, locale)),
        (t(N_("Cause")), data.cause),
        (t(N_("Workaround")), data.workaround),
        (t(N_("Internal notes")), data.internal_notes),
    ]
    for label, value in rows:
        if value not in (None, ""):
            facts.add_row(label, escape(str(value)))
    out.print(facts)
    for update in data.updates:
        when = format_local(update.published_at, zone, locale)
        kind = _label(KIND_LABELS, update.kind)
        internal = f" [yellow]{t(N_('Internal'))}[/]" if update.audience == "internal" else ""
        out.print(f"[cyan]{when}[/] {kind} ({_label(STATUS_LABELS, update.status)}){internal}")
        out.print(textwrap.indent(update.body_ja, "  "), markup=False)
    if data.due:
        line = t(
            N_("Next message due: {kind} by {time}."),
            kind=_label(KIND_LABELS, data.due.kind),
            time=format_local(data.due.due_at, zone, locale),
        )
        out.print(f"[bold red]{line}[/]" if data.due.overdue else line)


@incident_app.command("declare")
def declare(
    title: str = typer.Option(..., "--title", help="Title in Japanese, as customers will read it."),
    severity: str = typer.Option(..., "--severity", help="sev1, sev2 or sev3 (decides cadence)."),
    title_en: str | None = TITLE_EN,
    summary: str | None = SUMMARY,
    summary_en: str | None = SUMMARY_EN,
    component: list[str] | None = COMPONENTS,
    impact: str | None = IMPACT,
    started_at: str | None = typer.Option(None, "--started-at", help="When it started."),
    detected_at: str | None = typer.Option(None, "--detected-at", help="When it was detected."),
    affected_customers: int | None = AFFECTED,
    recovery_at: str | None = RECOVERY_AT,
    recovery_confirmed: bool | None = RECOVERY_CONFIRMED,
    cause: str | None = CAUSE,
    cause_confirmed: bool | None = CAUSE_CONFIRMED,
    workaround: str | None = WORKAROUND,
    workaround_en: str | None = WORKAROUND_EN,
    internal_notes: str | None = NOTES,
    fmt: str = FORMAT,
) -> None:
    """Declare an incident; the first notice is then due within 15 minutes (R4)."""
    settings = load_settings()
    data = service.IncidentInput(
        title=title,
        severity=severity,
        summary=summary or "",
        title_en=title_en,
        summary_en=summary_en,
        components=list(component or []),
        component_impact=impact,
        started_at=parse_time(started_at, settings, "--started-at"),
        detected_at=parse_time(detected_at, settings, "--detected-at"),
        estimated_affected_customers=affected_customers,
        estimated_recovery_at=parse_time(recovery_at, settings, "--recovery-at"),
        recovery_confirmed=bool(recovery_confirmed),
        cause=cause,
        cause_confirmed=bool(cause_confirmed),
        workaround=workaround,
        workaround_en=workaround_en,
        internal_notes=internal_notes,
    )
    with open_session(settings) as session:
        incident = service.declare(session, settings, data, actor=actor())
        session.commit()
        result = incident_out(incident, settings)
    if fmt == "text":
        typer.echo(t(N_("Declared {ref}."), ref=result.reference))
    _show_incident(result, settings, fmt)


@incident_app.command("edit")
def edit(
    ref: str = REF,
    title: str | None = typer.Option(None, "--title", help="Title in Japanese."),
    severity: str | None = typer.Option(None, "--severity", help="sev1, sev2 or sev3."),
    title_en: str | None = TITLE_EN,
    summary: str | None = SUMMARY,
    summary_en: str | None = SUMMARY_EN,
    component: list[str] | None = COMPONENTS,
    impact: str | None = IMPACT,
    affected_customers: int | None = AFFECTED,
    recovery_at: str | None = RECOVERY_AT,
    recovery_confirmed: bool | None = RECOVERY_CONFIRMED,
    cause: str | None = CAUSE,
    cause_confirmed: bool | None = CAUSE_CONFIRMED,
    workaround: str | None = WORKAROUND,
    workaround_en: str | None = WORKAROUND_EN,
    internal_notes: str | None = NOTES,
    fmt: str = FORMAT,
) -> None:
    """Change facts of the shared record (R2); options not given keep their value, '' clears."""
    settings = load_settings()
    given: dict[str, Any] = {
        "title": title,
        "severity": severity,
        "title_en": title_en,
        "summary": summary,
        "summary_en": summary_en,
        "components": list(component) if component else None,
        "impact": impact,
        "estimated_affected_customers": affected_customers,
        "recovery_confirmed": recovery_confirmed,
        "cause": cause,
        "cause_confirmed": cause_confirmed,
        "workaround": workaround,
        "workaround_en": workaround_en,
        "internal_notes": internal_notes,
    }
    values = {k: (v if v != "" else None) for k, v in given.items() if v is not None}
    if recovery_at is not None:
        values["estimated_recovery_at"] = parse_time(recovery_at, settings, "--recovery-at")
    patch = IncidentPatch.model_construct(_fields_set=set(values), **values)
    with open_session(settings) as session:
        incident = service.get(session, ref)
        data = patched_input(incident, patch, settings.timezone)
        service.edit(session, settings, incident, data, actor=actor())
        session.commit()
        result = incident_out(incident, settings)
    _show_incident(result, settings, fmt)


@incident_app.command("update")
def update(
    ref: str = REF,
    body_ja: str | None = typer.Option(None, "--body-ja", help="The message in Japanese."),
    body_en: str | None = typer.Option(None, "--body-en", help="The message in English."),
    status: str | None = typer.Option(
        None, "--status", help="investigating, identified, monitoring (resolved = resolve)."
    ),
    next_update_at: str | None = typer.Option(
        None, "--next-update-at", help="When the next update comes (default: the cadence, R5)."
    ),
    internal: bool = typer.Option(False, "--internal", help="A note for staff, not published."),
    no_news: bool = typer.Option(
        False, "--no-news", help="Post the prepared 「引き続き対応中です」 update (R5)."
    ),
    override_reason: str | None = OVERRIDE_REASON,
    fmt: str = FORMAT,
) -> None:
    """Publish the first notice or an update; the first public message is the first notice."""
    settings = load_settings()
    promised = parse_time(next_update_at, settings, "--next-update-at")
    now = utcnow()
    with open_session(settings) as session:
        incident = service.get(session, ref)
        text_ja, text_en, when, kind = update_arguments(
            session,
            settings,
            incident,
            body_ja=body_ja,
            body_en=body_en,
            next_update_at=promised,
            no_news=no_news,
            now=now,
        )
        service.publish_update(
            session,
            settings,
            incident,
            body_ja=text_ja,
            body_en=text_en,
            status=status,
            next_update_at=when,
            audience="internal" if internal else "public",
            kind=kind,
            actor=actor(),
            actor_role=CLI_ROLE,
            override_reason=override_reason,
            now=now,
        )
        session.commit()
        result = incident_out(incident, settings)
    _show_incident(result, settings, fmt)


@incident_app.command("resolve")
def resolve(
    ref: str = REF,
    body_ja: str = typer.Option(..., "--body-ja", help="The resolution notice in Japanese (R7)."),
    body_en: str | None = typer.Option(None, "--body-en", help="The notice in English."),
    override_reason: str | None = OVERRIDE_REASON,
    resolved_at: str | None = typer.Option(
        None, "--resolved-at", help="When the service actually recovered (default: now)."
    ),
    report_due_at: str | None = typer.Option(
        None, "--report-due-at", help="When the report is promised (default: 7 days later)."
    ),
    fmt: str = FORMAT,
) -> None:
    """Resolve the incident with a resolution notice; its components recover (R7)."""
    settings = load_settings()
    recovered = parse_time(resolved_at, settings, "--resolved-at", happened=True)
    report_due = parse_time(report_due_at, settings, "--report-due-at")
    with open_session(settings) as session:
        incident = service.get(session, ref)
        service.resolve(
            session,
            settings,
            incident,
            body_ja=body_ja,
            body_en=body_en,
            actor=actor(),
            actor_role=CLI_ROLE,
            override_reason=override_reason,
            resolved_at=recovered,
            report_due_at=report_due,
        )
        session.commit()
        result = incident_out(incident, settings)
    _show_incident(result, settings, fmt)


@incident_app.command("list")
def list_(
    status: str = typer.Option("all", "--status", help="open, resolved or all."),
    fmt: str = FORMAT,
) -> None:
    """Incidents, newest first, with what each owes its customers next."""
    if status not in ("open", "resolved", "all"):
        raise typer.BadParameter("open, resolved, all", param_hint="--status")
    settings = load_settings()
    now = utcnow()
    with open_session(settings) as session:
        rows = service.list_incidents(session, open_only=status == "open")
        items = [incident_out(i, settings, now) for i in rows]
    if status == "resolved":
        items = [i for i in items if i.status == "resolved"]
    if fmt == "json":
        print_json(IncidentList(incidents=items, total=len(items)))
        return
    locale = cli_locale()
    table = Table()
    for header in (N_("Reference"), N_("Severity"), N_("Status"), N_("Title"), N_("Next due")):
        table.add_column(t(header), overflow="fold")
    for item in items:
        due = format_local(item.due.due_at, settings.timezone, locale) if item.due else ""
        if item.due and item.due.overdue:
            due = f"[bold red]{due}[/]"
        status = _label(STATUS_LABELS, item.status)
        table.add_row(item.reference, item.severity, status, escape(item.title), due)
    console().print(table)


@incident_app.command("show")
def show(ref: str = REF, fmt: str = FORMAT) -> None:
    """One incident: its facts, every message, and the next one due."""
    settings = load_settings()
    with open_session(settings) as session:
        result = incident_out(service.get(session, ref), settings)
    _show_incident(result, settings, fmt)


def register(app: typer.Typer) -> None:
    """Add ``incident``, ``component`` and ``maintenance`` to the root command."""
    from anshin.incidents import lifecycle_cli
    from anshin.incidents.setup_cli import component_app, maintenance_app

    lifecycle_cli.add_commands(incident_app)

    app.add_typer(incident_app, name="incident")
    app.add_typer(component_app, name="component")
    app.add_typer(maintenance_app, name="maintenance")
