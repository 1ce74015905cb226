"""``anshin mail-in`` (the SMTP listener) and ``anshin inquiry import FILE.eml|DIR`` (R18).

Exit codes follow ``anshin.cliutil``: 0 done; 1 refused (the listener cannot
start, the schema is behind, a file of the import failed — the others are
imported all the same); 2 used wrongly (a path that does not exist).
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy.exc import SQLAlchemyError

from anshin.cliutil import (
    actor,
    console,
    fail,
    load_settings,
    open_session,
    require_current_schema,
    t,
)
from anshin.db import storage_cause
from anshin.errors import AnshinError, InvalidInput
from anshin.i18n import N_
from anshin.inputs import BadInput
from anshin.inquiries import inbound, mail

INQUIRY_HELP = "Inquiries from customers (R18–R28)."


def mail_in(
    host: str | None = typer.Option(
        None, help="Address to listen on (default: ANSHIN_MAIL_IN_HOST, 127.0.0.1)."
    ),
    port: int | None = typer.Option(
        None, min=1, max=65535, help="Port to listen on (default: ANSHIN_MAIL_IN_PORT, 2525)."
    ),
) -> None:
    """Receive customers' mail over SMTP and file each one as an inquiry (behind your MTA)."""
    from anshin.inquiries import mail_server

    settings = load_settings()
    host = host or settings.mail_in_host
    port = settings.mail_in_port if port is None else port
    require_current_schema(settings)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command chatter
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        with mail_server.listening(settings, host, port):
            typer.echo(
                t(
                    N_("Listening for mail on {host}:{port} (Ctrl-C to stop)."),
                    host=host,
                    port=port,
                ),
                err=True,
            )
            while not stop.wait(0.5):
                pass
    except (OSError, RuntimeError, TimeoutError) as exc:
        raise fail(
            N_("Cannot listen on {host}:{port}: {reason}"), host=host, port=port, reason=str(exc)
        ) from None
    typer.echo(t(N_("Stopped: mail already accepted is stored.")), err=True)


@dataclass
class ImportReport:
    """What ``anshin inquiry import`` did, file by file."""

    created: int = 0
    threaded: int = 0
    duplicates: int = 0
    ignored: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.glob("*.eml") if p.is_file())
    if path.is_file():
        return [path]
    raise BadInput(N_("No such file or folder: {path}"), field="PATH", path=str(path))


def import_mail(
    path: Path = typer.Argument(..., help="A .eml file, or a folder: every *.eml in it, sorted."),
) -> None:
    """File saved mails (.eml) as inquiries, threading replies as the listener does."""
    settings = load_settings()
    files = _files(path)
    report = ImportReport()
    who = actor()
    out = console()
    with (
        open_session(settings) as session,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=out,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task(t(N_("Importing mail")), total=len(files))
        for file in files:
            name = str(file)
            try:
                if file.stat().st_size > settings.mail_max_bytes:
                    raise InvalidInput(
                        mail.TOO_LARGE, size=file.stat().st_size, limit=settings.mail_max_bytes
                    )
                parsed = mail.parse(file.read_bytes(), max_bytes=settings.mail_max_bytes)
                outcome = inbound.store(session, settings, parsed, actor=who)
                session.commit()
            except AnshinError as exc:
                session.rollback()
                report.failed.append((name, t(exc.msgid, **exc.params)))
            except OSError as exc:
                session.rollback()
                report.failed.append((name, exc.strerror or str(exc)))
            except SQLAlchemyError as exc:
                session.rollback()
                report.failed.append((name, storage_cause(exc)))
            else:
                if outcome.kind == "created":
                    report.created += 1
                elif outcome.kind == "threaded":
                    report.threaded += 1
                elif outcome.kind == "duplicate":
                    report.duplicates += 1
                else:
                    report.ignored += 1
            progress.advance(task)
    out.print(
        t(
            N_(
                "Created {created}, threaded {threaded}, skipped duplicates {duplicates}, "
                "ignored automatic replies {ignored}, failed {failed}."
            ),
            created=report.created,
            threaded=report.threaded,
            duplicates=report.duplicates,
            ignored=report.ignored,
            failed=len(report.failed),
        ),
        markup=False,
    )
    for name, reason in report.failed:
        typer.echo(f"{name}: {reason}", err=True)
    if report.failed:
        raise typer.Exit(code=1)


def inquiry_group(app: typer.Typer) -> typer.Typer:
    """The ``inquiry`` sub-app: the one already registered, or a new one."""
    for group in app.registered_groups:
        if group.name == "inquiry" and group.typer_instance is not None:
            return group.typer_instance
    sub = typer.Typer(help=INQUIRY_HELP, no_args_is_help=True)
    app.add_typer(sub, name="inquiry")
    return sub


def register(app: typer.Typer) -> None:
    """Add ``mail-in`` and ``inquiry import`` to the main CLI."""
    app.command("mail-in")(mail_in)
    inquiry_group(app).command("import")(import_mail)
