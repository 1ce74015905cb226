"""``anshin review …``: the review of an incident from the terminal (R30, R31).

``anshin review metrics INC-2026-0001 --format json`` prints every metric of
docs/review.md under its exact name, for scripts and spreadsheets; the text
form is a table for people, durations as h:mm:ss and shares as percentages.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from anshin.cliutil import (
    FORMAT_HELP,
    check_format,
    console,
    load_settings,
    open_session,
    print_json,
    t,
)
from anshin.i18n import N_
from anshin.review import metrics

review_app = typer.Typer(help="After an incident: metrics for the review (docs/review.md).")
FORMAT = typer.Option("text", "--format", callback=check_format, help=FORMAT_HELP)


def _shown(name: str, value: Any) -> str:
    """A metric for people: seconds as h:mm:ss, shares as %, nothing measured as —."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"L{level}: {n}" for level, n in value.items())
    if name.endswith("_seconds"):
        secs = round(value)
        return f"{secs // 3600}:{(secs % 3600) // 60:02d}:{secs % 60:02d}"
    if name in ("cadence_kept", "commitments_kept"):
        return f"{value:.0%}"
    return str(value)


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
            table.add_row(name, _shown(name, value))
    console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
