"""``anshin incident times`` (and ``reopen``): an incident's life after the fact, from a terminal.

Kept apart from ``incidents.cli`` so each file stays readable; the commands
join the ``incident`` group through :func:`add_commands`.
"""

from __future__ import annotations

import typer

from anshin.cliutil import actor, load_settings, open_session, parse_time
from anshin.incidents import lifecycle, service
from anshin.incidents.cli import FORMAT, REF, _show_incident
from anshin.incidents.schemas import incident_out


def times(
    ref: str = REF,
    started_at: str | None = typer.Option(
        None, "--started-at", help="When the outage really started."
    ),
    resolved_at: str | None = typer.Option(
        None, "--resolved-at", help="When the service really recovered (resolved incidents)."
    ),
    fmt: str = FORMAT,
) -> None:
    """Correct the start and recovery times (R1, R7); the event log keeps the old ones."""
    settings = load_settings()
    started = parse_time(started_at, settings, "--started-at", happened=True)
    recovered = parse_time(resolved_at, settings, "--resolved-at", happened=True)
    with open_session(settings) as session:
        incident = service.get(session, ref)
        lifecycle.correct_times(
            session,
            settings,
            incident,
            started_at=started,
            resolved_at=recovered,
            actor=actor(),
        )
        session.commit()
        result = incident_out(incident, settings)
    _show_incident(result, settings, fmt)


def add_commands(app: typer.Typer) -> None:
    """Add ``times`` to the ``incident`` group."""
    app.command("times")(times)
