"""``anshin incident times`` and ``reopen``: an incident's life after the fact, from a terminal.

Kept apart from ``incidents.cli`` so each file stays readable; the commands
join the ``incident`` group through :func:`add_commands`.
"""

from __future__ import annotations

import typer

from anshin.cliutil import actor, load_settings, open_session, parse_time
from anshin.db import utcnow
from anshin.incidents import lifecycle, service
from anshin.incidents.cli import CLI_ROLE, FORMAT, OVERRIDE_REASON, REF, _show_incident
from anshin.incidents.responses import incident_out


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


def reopen(
    ref: str = REF,
    body_ja: str | None = typer.Option(
        None, "--body-ja", help="The notice in Japanese (default: the reopened template)."
    ),
    body_en: str | None = typer.Option(None, "--body-en", help="The notice in English."),
    status: str = typer.Option("investigating", "--status", help="investigating or identified."),
    next_update_at: str | None = typer.Option(
        None, "--next-update-at", help="When the next update comes (default: the cadence)."
    ),
    override_reason: str | None = OVERRIDE_REASON,
    fmt: str = FORMAT,
) -> None:
    """Reopen a resolved incident that came back; subscribers get the reopened notice (R5)."""
    settings = load_settings()
    promised = parse_time(next_update_at, settings, "--next-update-at")
    now = utcnow()
    with open_session(settings) as session:
        incident = service.get(session, ref)
        if body_ja is None:
            texts, _ = lifecycle.reopen_draft(session, settings, incident, now, promised)
            body_ja, body_en = texts["ja"], body_en or texts["en"]
        lifecycle.reopen(
            session,
            settings,
            incident,
            body_ja=body_ja,
            body_en=body_en,
            status=status,
            next_update_at=promised,
            actor=actor(),
            actor_role=CLI_ROLE,
            override_reason=override_reason,
            now=now,
        )
        session.commit()
        result = incident_out(incident, settings, now)
    _show_incident(result, settings, fmt)


def report(
    ref: str = REF,
    body_ja: str | None = typer.Option(
        None, "--body-ja", help="The notice in Japanese (default: the report_notice template)."
    ),
    body_en: str | None = typer.Option(None, "--body-en", help="The notice in English."),
    override_reason: str | None = OVERRIDE_REASON,
    fmt: str = FORMAT,
) -> None:
    """Announce the report the resolution notice promised (R8); clears the due item."""
    settings = load_settings()
    now = utcnow()
    with open_session(settings) as session:
        incident = service.get(session, ref)
        if body_ja is None:
            texts = lifecycle.report_draft(session, settings, incident, now)
            body_ja, body_en = texts["ja"], body_en or texts["en"]
        lifecycle.publish_report(
            session,
            settings,
            incident,
            body_ja=body_ja,
            body_en=body_en,
            actor=actor(),
            actor_role=CLI_ROLE,
            override_reason=override_reason,
            now=now,
        )
        session.commit()
        result = incident_out(incident, settings, now)
    _show_incident(result, settings, fmt)


def add_commands(app: typer.Typer) -> None:
    """Add ``times``, ``reopen`` and ``report`` to the ``incident`` group."""
    app.command("times")(times)
    app.command("reopen")(reopen)
    app.command("report")(report)
