"""CLI: ``anshin worker``, ``anshin subscribers import|export``, ``anshin deliveries …``.

Exit codes: 0 done, 1 refused (bad rows, nothing to retry), 2 wrong usage
(unreadable file, missing argument). Messages are in the terminal's language
(``LANG``), Japanese by default.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import typer

from anshin.config import Settings, get_settings
from anshin.db import make_engine, make_sessionmaker, transaction
from anshin.errors import AnshinError
from anshin.i18n import N_, negotiate, translate
from anshin.notify import csvio, queue, service

ACTOR = "cli"

subscribers_app = typer.Typer(
    help="Email subscribers: import and export as CSV.", no_args_is_help=True
)
deliveries_app = typer.Typer(
    help="Deliveries: retry dead letters, sweep, show counts.", no_args_is_help=True
)


def _locale(settings: Settings) -> str:
    lang = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return negotiate(None, None, lang.replace("_", "-"), settings.default_locale)


def _say(settings: Settings, msgid: str, *, err: bool = False, **params: object) -> None:
    typer.echo(translate(_locale(settings), msgid, **params), err=err)


def _refuse(settings: Settings, error: AnshinError) -> typer.Exit:
    typer.echo(translate(_locale(settings), error.msgid, **error.params), err=True)
    return typer.Exit(code=1)


def worker(
    workers: int = typer.Option(2, "--workers", "-w", min=1, max=64, help="Sending threads."),
) -> None:
    """Send deliveries: consume the queue until stopped (SIGTERM finishes the current sends)."""
    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        info = queue.describe(settings)
        queue.make_huey(settings)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from None
    _say(
        settings,
        N_("Delivery worker started ({backend}, {workers} threads)."),
        err=True,
        backend=info["backend"],
        workers=workers,
    )
    queue.run_worker(settings, workers=workers)


@subscribers_app.command("import")
def import_subscribers(
    path: str = typer.Argument(
        ..., help="CSV file (email, locale, components, status); '-' = stdin."
    ),
) -> None:
    """Import subscribers from CSV: every row is checked first; any error and nothing changes."""
    settings = get_settings()
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        _say(settings, N_("{path} is not UTF-8 text."), err=True, path=path)
        raise typer.Exit(code=2) from None
    except OSError as exc:
        _say(
            settings,
            N_("Cannot read {path}: {reason}"),
            err=True,
            path=path,
            reason=exc.strerror or str(exc),
        )
        raise typer.Exit(code=2) from None
    sessions = make_sessionmaker(make_engine(settings.database_url))
    try:
        with transaction(sessions) as session:
            report = csvio.import_csv(session, text, actor=ACTOR)
    except csvio.ImportFailed as exc:
        locale = _locale(settings)
        for row in exc.errors:
            message = translate(locale, row.error.msgid, **row.error.params)
            typer.echo(
                translate(locale, N_("line {line}: {message}"), line=row.line, message=message),
                err=True,
            )
        raise _refuse(settings, exc) from None
    except AnshinError as exc:
        raise _refuse(settings, exc) from None
    _say(
        settings,
        N_("Imported: {created} new, {updated} updated, {unchanged} unchanged."),
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
    )


@subscribers_app.command("export")
def export_subscribers(
    output: str = typer.Option("-", "--output", "-o", help="File to write; '-' = stdout."),
) -> None:
    """Export email subscribers as CSV (email, locale, components, status)."""
    settings = get_settings()
    sessions = make_sessionmaker(make_engine(settings.database_url))
    with transaction(sessions) as session:
        chunks = csvio.export_csv(session)
        if output == "-":
            for chunk in chunks:
                sys.stdout.write(chunk)
            sys.stdout.flush()
            return
        try:
            with Path(output).open("w", encoding="utf-8", newline="") as fh:
                for chunk in chunks:
                    fh.write(chunk)
        except OSError as exc:
            _say(
                settings,
                N_("Cannot write {path}: {reason}"),
                err=True,
                path=output,
                reason=exc.strerror or str(exc),
            )
            raise typer.Exit(code=2) from None


@deliveries_app.command("retry")
def retry(
    delivery_id: int | None = typer.Argument(None, help="Id of a dead delivery."),
    all_dead: bool = typer.Option(False, "--all-dead", help="Retry every dead letter."),
    message_id: int | None = typer.Option(
        None, "--message", help="With --all-dead: one message only."
    ),
) -> None:
    """Put dead letters back in the queue: one by id, or all with --all-dead."""
    settings = get_settings()
    if (delivery_id is None) == (not all_dead):
        _say(settings, N_("Give a delivery id or --all-dead (not both)."), err=True)
        raise typer.Exit(code=2)
    sessions = make_sessionmaker(make_engine(settings.database_url))
    try:
        with transaction(sessions) as session:
            if delivery_id is not None:
                service.retry(session, settings, delivery_id, actor=ACTOR)
                count = 1
            else:
                count = service.retry_dead(session, settings, message_id=message_id, actor=ACTOR)
    except AnshinError as exc:
        raise _refuse(settings, exc) from None
    _say(settings, N_("{n} deliveries queued again."), n=count)


@deliveries_app.command("sweep")
def sweep() -> None:
    """Recover deliveries whose worker stopped, and wake workers for anything due."""
    settings = get_settings()
    report = queue.get_queue(settings).sweep_now()
    _say(
        settings,
        N_("Recovered {recovered}, gave up {dead}, due now {due} (overdue {stale})."),
        recovered=report.recovered,
        dead=report.dead,
        due=report.due,
        stale=report.stale,
    )


@deliveries_app.command("status")
def status(message_id: int = typer.Argument(..., help="Message id.")) -> None:
    """Counts of one message's deliveries as JSON."""
    settings = get_settings()
    sessions = make_sessionmaker(make_engine(settings.database_url))
    try:
        with transaction(sessions) as session:
            counts = service.counts(session, message_id)
    except AnshinError as exc:
        raise _refuse(settings, exc) from None
    typer.echo(json.dumps(counts.as_dict(), ensure_ascii=False, indent=2))


def register(app: typer.Typer) -> None:
    """Add ``worker``, ``subscribers`` and ``deliveries`` to the main CLI."""
    app.command("worker")(worker)
    app.add_typer(subscribers_app, name="subscribers")
    app.add_typer(deliveries_app, name="deliveries")
