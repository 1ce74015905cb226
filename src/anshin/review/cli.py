"""``anshin review …``: the review of an incident from the terminal (R30, R31).

``anshin review metrics INC-2026-0001 --format json`` prints every metric of
docs/review.md under its exact name, for scripts and spreadsheets; the text
form is a table for people, durations as h:mm:ss and shares as percentages.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from anshin.cliutil import (
    FORMAT_HELP,
    check_format,
    cli_locale,
    console,
    load_settings,
    open_session,
    parse_time,
    print_json,
    t,
)
from anshin.db import utcnow
from anshin.errors import InvalidInput
from anshin.events import jsonable
from anshin.i18n import N_
from anshin.inputs import BadInput
from anshin.review import action_cli, gaps, metrics, summary, timeline
from anshin.review.document import shown
from anshin.timefmt import format_local, iso_local

review_app = typer.Typer(help="After an incident: metrics for the review (docs/review.md).")
FORMAT = typer.Option("text", "--format", callback=check_format, help=FORMAT_HELP)


@review_app.command("metrics")
def show_metrics(
    ref: str = typer.Argument(..., help="The incident's reference (INC-2026-0001)."),
    fmt: str = FORMAT,
) -> None:
    """Every review metric of one incident, by the names docs/review.md defines."""
    settings = load_settings()
    with open_session(settings) as session:
        out = metrics.for_incident(session, ref)
    if fmt == "json":
        print_json(out)
        return
    table = Table(title=t(N_("Review metrics of {ref}"), ref=out["incident"]))
    table.add_column(t(N_("Metric")))
    table.add_column(t(N_("Value")), justify="right")
    for name, value in out.items():
        if name != "incident":
            table.add_row(name, shown(name, value))
    console().print(table)


def _bound(value: str | None, settings: Any, option: str, *, end: bool) -> dt.datetime | None:
    """A time typed for a period; a bare date is that day in the team's zone (``--to`` whole)."""
    if value and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        start = parse_time(value.strip() + "T00:00", settings, option)
        return start + dt.timedelta(days=1) if end and start else start
    return parse_time(value, settings, option)


@review_app.command("summary")
def show_summary(
    start: str = typer.Option("", "--from", help="Incidents declared from (a date or a time)."),
    end: str = typer.Option("", "--to", help="… up to (a date includes the whole day)."),
    component: str = typer.Option("", "--component", help="Only incidents on this component."),
    severity: str = typer.Option("", "--severity", help="Only incidents of sev1, sev2 or sev3."),
    fmt: str = FORMAT,
) -> None:
    """The review metrics across incidents, pooled (docs/review.md "Across incidents")."""
    settings = load_settings()
    selection = summary.Selection(
        start=_bound(start, settings, "--from", end=False),
        end=_bound(end, settings, "--to", end=True),
        component=component.strip() or None,
        severity=severity.strip() or None,
    )
    with open_session(settings) as session:
        try:
            out = summary.across(session, selection)
        except InvalidInput as exc:
            raise BadInput(exc.msgid, field=f"--{exc.field}", **exc.params) from None
    if fmt == "json":
        print_json(out)
        return
    table = Table(title=t(N_("Review metrics of {n} incidents"), n=len(out["incidents"])))
    table.add_column(t(N_("Metric")))
    table.add_column(t(N_("Value")), justify="right")
    for name, value in out.items():
        if name != "incidents":
            table.add_row(name, shown(name, value))
    console().print(table)
    if out["incidents"]:
        console().print(", ".join(out["incidents"]))


@review_app.command("timeline")
def show_timeline(
    ref: str = typer.Argument(..., help="The incident's reference (INC-2026-0001)."),
    fmt: str = FORMAT,
) -> None:
    """The incident's timeline from stored rows and events, oldest first (R31)."""
    settings = load_settings()
    with open_session(settings) as session:
        entries = timeline.for_incident(session, ref, now=utcnow())
    if fmt == "json":
        print_json(
            [
                {
                    "at": iso_local(e.at, settings.timezone),
                    "kind": e.kind,
                    "detail": jsonable(
                        {
                            k: iso_local(v, settings.timezone) if isinstance(v, dt.datetime) else v
                            for k, v in e.detail.items()
                        }
                    ),
                    "source": e.source,
                }
                for e in entries
            ]
        )
        return
    table = Table(title=t(N_("Timeline of {ref}"), ref=ref))
    table.add_column(t(N_("Time")))
    table.add_column(t(N_("What happened")))
    table.add_column(t(N_("Detail")))
    for e in entries:
        detail = ", ".join(f"{k}={v}" for k, v in e.detail.items() if v is not None)
        table.add_row(format_local(e.at, settings.timezone), e.kind, escape(detail))
    console().print(table)


@review_app.command("gaps")
def show_gaps(
    ref: str = typer.Argument(..., help="The incident's reference (INC-2026-0001)."),
    fmt: str = FORMAT,
) -> None:
    """What customers asked against what the public updates told them, per 30 minutes (R30)."""
    settings = load_settings()
    locale = cli_locale()
    with open_session(settings) as session:
        out = gaps.as_json(gaps.analyse(session, ref), locale, settings.timezone)
    if fmt == "json":
        print_json(out)
        return
    if not out["gaps"]:
        console().print(
            t(N_("No gaps: every question asked had its answer in the update of the time."))
        )
        return
    for gap in out["gaps"]:
        console().print(escape(gap["text"]))
        console().print(
            "  "
            + escape(
                t(
                    N_("Inquiries: {inquiries}; updates: {updates}"),
                    inquiries=", ".join(gap["inquiries"]),
                    updates=", ".join(f"#{u}" for u in gap["updates"]) or "—",
                )
            )
        )


def register(app: typer.Typer) -> None:
    from anshin.review import report_cli  # the reports' commands, kept in their own file

    report_cli.add_commands(review_app)
    action_cli.register(review_app)
    app.add_typer(review_app, name="review")
