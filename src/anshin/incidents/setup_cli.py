"""Commands for what incidents happen to: components and maintenance windows (R10).

Kept apart from the incident commands (incidents/cli.py), as setup_views.py is
from views.py in the console.
"""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from anshin.cliutil import (
    actor,
    cli_locale,
    console,
    load_settings,
    open_session,
    parse_time,
    print_json,
    t,
)
from anshin.i18n import N_
from anshin.incidents import components as component_service
from anshin.incidents import maintenance as maintenance_service
from anshin.incidents.cli import COMPONENTS, FORMAT
from anshin.incidents.responses import (
    ComponentList,
    MaintenanceList,
    component_out,
    maintenance_out,
)
from anshin.timefmt import format_local

component_app = typer.Typer(help="Components customers see a status for.")
maintenance_app = typer.Typer(help="Maintenance announced in advance (R10).")


@component_app.command("add")
def component_add(
    name: str = typer.Argument(..., help="Name in Japanese, as on the status page."),
    group: str | None = typer.Option(None, "--group", help="Group heading (created if new)."),
    name_en: str | None = typer.Option(None, "--name-en", help="Name in English."),
    description: str | None = typer.Option(None, "--description", help="What it is."),
    fmt: str = FORMAT,
) -> None:
    """Add a component customers see a status for."""
    settings = load_settings()
    with open_session(settings) as session:
        component = component_service.add_component(
            session,
            name,
            settings=settings,
            actor=actor(),
            group=group,
            name_en=name_en,
            description=description,
        )
        session.commit()
        result = component_out(component)
    if fmt == "json":
        print_json(result)
    else:
        typer.echo(t(N_("Added component {name}."), name=result.name))


@component_app.command("list")
def component_list(fmt: str = FORMAT) -> None:
    """Every component with its group and current status."""
    settings = load_settings()
    with open_session(settings) as session:
        items = [component_out(c) for c in component_service.list_components(session)]
    if fmt == "json":
        print_json(ComponentList(components=items))
        return
    table = Table()
    for header in (N_("Group"), N_("Name"), N_("English name"), N_("Status")):
        table.add_column(t(header))
    for item in items:
        table.add_row(
            escape(item.group or ""), escape(item.name), escape(item.name_en or ""), item.status
        )
    console().print(table)


@maintenance_app.command("schedule")
def maintenance_schedule(
    title: str = typer.Option(..., "--title", help="Title in Japanese."),
    start: str = typer.Option(..., "--start", help="Scheduled start (ISO 8601)."),
    end: str = typer.Option(..., "--end", help="Scheduled end (ISO 8601)."),
    body: str = typer.Option("", "--body", help="Announcement in Japanese."),
    title_en: str | None = typer.Option(None, "--title-en", help="Title in English."),
    body_en: str | None = typer.Option(None, "--body-en", help="Announcement in English."),
    component: list[str] | None = COMPONENTS,
    no_notify: bool = typer.Option(
        False, "--no-notify", help="Show it on the status page only; do not mail subscribers."
    ),
    fmt: str = FORMAT,
) -> None:
    """Announce a maintenance window on the status page and to subscribers (R10)."""
    settings = load_settings()
    starts = parse_time(start, settings, "--start")
    ends = parse_time(end, settings, "--end")
    assert starts is not None and ends is not None  # required options
    with open_session(settings) as session:
        window = maintenance_service.schedule(
            session,
            settings,
            title=title,
            scheduled_start=starts,
            scheduled_end=ends,
            body=body,
            title_en=title_en,
            body_en=body_en,
            components=list(component or []),
            notify_subscribers=not no_notify,
            actor=actor(),
        )
        session.commit()
        result = maintenance_out(window, settings.timezone)
    if fmt == "json":
        print_json(result)
    else:
        typer.echo(t(N_("Scheduled {ref}."), ref=result.reference))


@maintenance_app.command("status")
def maintenance_status(
    ref: str = typer.Argument(..., help="Maintenance reference (MNT-2026-0001) or id."),
    status: str = typer.Argument(..., help="in_progress, verifying or completed."),
    fmt: str = FORMAT,
) -> None:
    """Move a window along; in progress puts its components under maintenance."""
    settings = load_settings()
    with open_session(settings) as session:
        window = maintenance_service.get(session, ref)
        maintenance_service.set_status(session, settings, window, status, actor=actor())
        session.commit()
        result = maintenance_out(window, settings.timezone)
    if fmt == "json":
        print_json(result)
    else:
        typer.echo(f"{result.reference}: {result.status}")


@maintenance_app.command("list")
def maintenance_list(
    all_: bool = typer.Option(False, "--all", help="Include completed windows."),
    fmt: str = FORMAT,
) -> None:
    """Maintenance windows by start time."""
    settings = load_settings()
    with open_session(settings) as session:
        windows = maintenance_service.list_maintenances(session, include_completed=all_)
        items = [maintenance_out(m, settings.timezone) for m in windows]
    if fmt == "json":
        print_json(MaintenanceList(maintenances=items))
        return
    table = Table()
    for header in (N_("Reference"), N_("Status"), N_("Title"), N_("Start"), N_("End")):
        table.add_column(t(header))
    locale = cli_locale()
    for item in items:
        table.add_row(
            item.reference,
            item.status,
            escape(item.title),
            format_local(item.scheduled_start, settings.timezone, locale),
            format_local(item.scheduled_end, settings.timezone, locale),
        )
    console().print(table)
