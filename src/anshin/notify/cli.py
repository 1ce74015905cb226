"""``anshin worker``, ``anshin subscribers import|export``, ``anshin deliveries …``.

Exit codes follow ``anshin.cliutil``: 0 done, 1 refused (a bad CSV row,
nothing to retry — reason on stderr in the terminal's language), 2 used
wrongly (unreadable file, an id and --all-dead together).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from anshin.cliutil import actor, db_id, fail, load_settings, open_session, print_json, t
from anshin.errors import InvalidInput
from anshin.i18n import N_, Locale
from anshin.inputs import text_problem
from anshin.notify import csvio, queue, service, subscribers
from anshin.notify.rules import WebhookFormat

subscribers_app = typer.Typer(
    help="Email subscribers: import and export as CSV (R26).", no_args_is_help=True
)
deliveries_app = typer.Typer(
    help="Deliveries: retry dead letters, sweep, show counts (R4).", no_args_is_help=True
)


def _usage(msgid: str, /, **params: object) -> typer.Exit:
    typer.echo(t(msgid, **params), err=True)
    return typer.Exit(code=2)


def worker(
    workers: int = typer.Option(2, "--workers", "-w", min=1, max=64, help="Sending threads."),
) -> None:
    """Send deliveries: consume the queue until stopped (SIGTERM lets current sends finish)."""
    settings = load_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        info = queue.describe(settings)
        queue.make_huey(settings)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from None
    typer.echo(
        t(
            N_("Delivery worker started ({backend}, {workers} threads)."),
            backend=info["backend"],
            workers=workers,
        ),
        err=True,
    )
    queue.run_worker(settings, workers=workers)


@subscribers_app.command("import")
def import_subscribers(
    path: str = typer.Argument(
        ..., help="CSV file (email, locale, components, status); '-' reads stdin."
    ),
) -> None:
    """Import subscribers from CSV: every row is checked first; one bad row and nothing changes."""
    settings = load_settings()
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _usage(N_("{path} is not UTF-8 text."), path=path) from None
    except OSError as exc:
        raise _usage(
            N_("Cannot read {path}: {reason}"), path=path, reason=exc.strerror or str(exc)
        ) from None
    problem = text_problem(text)
    if problem is not None:
        raise _usage(problem)
    with open_session(settings) as session:
        try:
            report = csvio.import_csv(session, text, actor=actor())
        except csvio.ImportFailed as exc:
            for row in exc.errors:
                typer.echo(
                    t(
                        N_("line {line}: {message}"),
                        line=row.line,
                        message=t(row.error.msgid, **row.error.params),
                    ),
                    err=True,
                )
            raise fail(exc.msgid, **exc.params) from None
        except csvio.Unreadable as exc:
            raise _usage(exc.msgid, **exc.params) from None
        session.commit()
    typer.echo(
        t(
            N_("Imported: {created} new, {updated} updated, {unchanged} unchanged."),
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
        )
    )


@subscribers_app.command("add-webhook")
def add_webhook(
    url: str = typer.Argument(..., help="The receiver's https:// (or http://) URL."),
    fmt: WebhookFormat = typer.Option(
        WebhookFormat.ANSHIN, "--format", help="anshin (signed JSON) or slack."
    ),
    locale: Locale = typer.Option(Locale.JA, "--locale", help="Language of the texts sent."),
    component: list[int] = typer.Option(
        [], "--component", parser=db_id, help="A component id (repeat; none = all)."
    ),
) -> None:
    """Add a webhook subscriber; its signing secret is printed once, here.

    A URL whose host is inside a private or local network is refused (exit 2)
    unless ANSHIN_WEBHOOK_ALLOWED_NETWORKS allows it.
    """
    settings = load_settings()
    with open_session(settings) as session:
        try:
            subscriber = subscribers.add_webhook(
                session,
                settings,
                url=url,
                fmt=fmt.value,
                locale=locale.value,
                component_ids=component,
                actor=actor(),
            )
        except InvalidInput as exc:  # the URL (or a component) must change: used wrongly
            raise _usage(exc.msgid, **exc.params) from None
        session.commit()
        print_json({"id": subscriber.id, "url": subscriber.address, "secret": subscriber.secret})


@subscribers_app.command("export")
def export_subscribers(
    output: str = typer.Option("-", "--output", "-o", help="File to write; '-' is stdout."),
) -> None:
    """Export the email subscribers as CSV (email, locale, components, status)."""
    settings = load_settings()
    with open_session(settings) as session:
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
            raise _usage(
                N_("Cannot write {path}: {reason}"), path=output, reason=exc.strerror or str(exc)
            ) from None


@deliveries_app.command("retry")
def retry(
    delivery_id: int | None = typer.Argument(None, parser=db_id, help="Id of a dead delivery."),
    all_dead: bool = typer.Option(False, "--all-dead", help="Retry every dead letter."),
    message_id: int | None = typer.Option(
        None, "--message", parser=db_id, help="With --all-dead: only this message's dead letters."
    ),
) -> None:
    """Put dead letters back in the queue: one by id, or all with --all-dead."""
    if (delivery_id is None) == (not all_dead):
        raise _usage(N_("Give a delivery id or --all-dead (not both)."))
    settings = load_settings()
    with open_session(settings) as session:
        if delivery_id is not None:
            service.retry(session, settings, delivery_id, actor=actor())
            count = 1
        else:
            count = service.retry_dead(session, settings, message_id=message_id, actor=actor())
        session.commit()
    typer.echo(t(N_("{n} deliveries queued again."), n=count))


@deliveries_app.command("sweep")
def sweep() -> None:
    """Recover deliveries whose worker stopped, and wake workers for anything due."""
    settings = load_settings()
    report = queue.get_queue(settings).sweep_now()
    typer.echo(
        t(
            N_("Recovered {recovered}, gave up {dead}, due now {due} (overdue {stale})."),
            recovered=report.recovered,
            dead=report.dead,
            due=report.due,
            stale=report.stale,
        )
    )


@deliveries_app.command("status")
def status(message_id: int = typer.Argument(..., parser=db_id, help="Message id.")) -> None:
    """A message's delivery counts as JSON (queued, sent, failed, dead, last_delivered_at)."""
    settings = load_settings()
    with open_session(settings) as session:
        counts = service.counts(session, message_id)
    print_json(counts.as_dict(settings.timezone))


def register(app: typer.Typer) -> None:
    """Add ``worker``, ``subscribers`` and ``deliveries`` to the main CLI."""
    app.command("worker")(worker)
    app.add_typer(subscribers_app, name="subscribers")
    app.add_typer(deliveries_app, name="deliveries")
