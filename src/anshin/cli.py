"""``anshin``: the command line (Typer + Rich; docs/design.md "CLI").

The root app holds the process-level commands — ``serve``, ``db``, ``demo``,
``status export`` — and each domain adds its own (``incident``, ``component``,
``maintenance`` from incidents/cli.py; ``user``, ``token`` from team/cli.py;
``template`` from comms/cli.py; ``lint`` from comms/lint_cli.py; ``worker``,
``subscribers``, ``deliveries`` from notify/cli.py; ``inquiry …`` from inquiries/cli.py,
``mail-in`` and ``inquiry import`` from inquiries/mail_cli.py, ``triage`` from
inquiries/triage_cli.py, ``department`` and ``inquiry share`` from
inquiries/departments_cli.py, ``kb`` from knowledge/cli.py, ``incident import`` from
review/history_cli.py). Errors and exit codes:
see ``anshin.cliutil``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from alembic.util.exc import CommandError
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from anshin import __version__, migrations
from anshin.cliutil import (
    LANG_OVERRIDE,
    AnshinGroup,
    actor,
    console,
    count,
    fail,
    load_settings,
    open_session,
    require_current_schema,
    t,
)
from anshin.comms import cli as comms_cli
from anshin.comms import lint_cli
from anshin.i18n import N_, SUPPORTED_LOCALES
from anshin.incidents import cli as incidents_cli
from anshin.inputs import BadInput
from anshin.inquiries import cli as inquiries_cli
from anshin.inquiries import departments_cli, handoff_cli, reply_cli, triage_cli
from anshin.inquiries import mail_cli as inquiries_mail_cli
from anshin.inquiries.demo_burst import DEFAULT_BURST as DEMO_INQUIRIES
from anshin.knowledge import cli as knowledge_cli
from anshin.notify import cli as notify_cli
from anshin.review import cli as review_cli
from anshin.review import history_cli
from anshin.team import cli as team_cli

app = typer.Typer(
    cls=AnshinGroup,
    name="anshin",
    help="anshin (安心): incident communication and inquiry handling for support teams.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations shipped inside the package).")
status_app = typer.Typer(help="The public status page.")
app.add_typer(db_app, name="db")
app.add_typer(status_app, name="status")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"anshin {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    lang: str | None = typer.Option(
        None, "--lang", help="Language of messages: ja or en (default: from LANG)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """anshin (安心): incident communication and inquiry handling for support teams."""
    if lang is not None and lang not in SUPPORTED_LOCALES:
        raise typer.BadParameter("ja or en", param_hint="--lang")
    LANG_OVERRIDE.set(lang)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=0, max=65535, help="Port to listen on."),
) -> None:
    """Serve the console, the status page and the API (run `anshin db upgrade` first)."""
    import uvicorn

    from anshin.app import create_asgi
    from anshin.comms.lint.lexicon import validate as validate_word_lists
    from anshin.instance.secret import MIN_SECRET_LENGTH, is_loopback, weak_key_problem
    from anshin.notify import queue as notify_queue

    settings = load_settings()
    # A key anyone can read (the old development constant, an example) or guess signs
    # cookies and unsubscribe links anyone could forge: not off this machine (issue 7).
    problem = weak_key_problem(settings)
    if problem is not None:
        if not is_loopback(host):
            typer.echo(t(problem, n=MIN_SECRET_LENGTH), err=True)
            raise typer.Exit(code=2)
        typer.echo(t(problem, n=MIN_SECRET_LENGTH), err=True)
    # A malformed ANSHIN_LINT_EXTRA_DIR file refuses the start (AnshinGroup: exit 2 and
    # the file and entry on stderr) rather than failing a user's message check later.
    validate_word_lists()
    require_current_schema(settings)
    # docs/design.md "background work": with the SQLite queue, deliveries are sent by
    # threads inside this process; with Redis, by `anshin worker` processes.
    notify_queue.start_embedded_consumer(settings)
    try:
        uvicorn.run(create_asgi(settings), host=host, port=port, log_level="info")
    finally:
        notify_queue.stop_embedded_consumer()


@contextmanager
def _known_revision() -> Iterator[None]:
    """An unknown revision is bad input (exit 2, one line), not a traceback."""
    try:
        yield
    except CommandError as exc:
        raise BadInput(
            N_("Unknown revision: {reason}"), field="REVISION", reason=str(exc)
        ) from None


@db_app.command("upgrade")
def db_upgrade(
    revision: str = typer.Argument("head", help="Revision to reach (default: the newest)."),
) -> None:
    """Create or update the tables on ANSHIN_DATABASE_URL (safe to run again)."""
    settings = load_settings()
    with _known_revision():
        migrations.upgrade(settings.database_url, revision)
    typer.echo(
        t(
            N_("The database is at revision {revision}."),
            revision=", ".join(sorted(migrations.current(settings.database_url))) or "-",
        )
    )


@db_app.command("downgrade")
def db_downgrade(
    revision: str = typer.Argument(..., help="Revision to go back to ('base' drops every table)."),
) -> None:
    """Step the schema back (development; data in dropped columns is lost)."""
    settings = load_settings()
    with _known_revision():
        migrations.downgrade(settings.database_url, revision)
    typer.echo(
        t(
            N_("The database is at revision {revision}."),
            revision=", ".join(sorted(migrations.current(settings.database_url))) or "-",
        )
    )


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one this version ships."""
    settings = load_settings()
    have = ", ".join(sorted(migrations.current(settings.database_url))) or "-"
    want = ", ".join(sorted(migrations.heads()))
    typer.echo(t(N_("Database: {have}; newest: {want}."), have=have, want=want))


@db_app.command("revision")
def db_revision(
    message: str = typer.Option(..., "-m", "--message", help="What the migration does."),
    empty: bool = typer.Option(
        False, "--empty", help="Write an empty script instead of comparing with the models."
    ),
) -> None:
    """Write a new migration from the difference between the models and the database.

    Run it in a source checkout against a database at head (`anshin db upgrade`
    first); the script lands in src/anshin/migrations/versions/.
    """
    settings = load_settings()
    if not empty and migrations.current(settings.database_url) != migrations.heads():
        raise fail(
            N_("Run `anshin db upgrade` first: a new migration must start from the newest one.")
        )
    path = migrations.revision(settings.database_url, message, autogenerate=not empty)
    typer.echo(t(N_("Wrote {path}. Read it before committing."), path=str(path)))


DEMO_INQUIRIES_MAX = 5000  # each one is triaged: beyond this the demo would take many minutes


def _demo_size(value: int | None) -> int | None:
    """Refuse a surge past :data:`DEMO_INQUIRIES_MAX` (a usage error, exit 2)."""
    if value is not None and value > DEMO_INQUIRIES_MAX:
        raise typer.BadParameter(
            t(N_("The demo surge takes at most {n} inquiries."), n=DEMO_INQUIRIES_MAX),
            param_hint="--inquiries",
        )
    return value


@app.command()
def demo(
    inquiries: int | None = typer.Option(
        None,
        "--inquiries",
        parser=count,
        callback=_demo_size,
        help=f"Inquiries in the demo surge (default {DEMO_INQUIRIES}, 0: none); only into a "
        "database without any.",
    ),
) -> None:
    """Load demo data: components, one user per role, incidents, maintenance, an inquiry surge."""
    from anshin.demo import load_demo

    if inquiries is None:
        inquiries = DEMO_INQUIRIES
    settings = load_settings()
    out = console()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=out,
        disable=inquiries < 20,
        transient=True,
    )
    with open_session(settings) as session, bar:
        task = bar.add_task(t(N_("Inquiries through intake")), total=inquiries)
        report = load_demo(
            session,
            settings,
            actor=actor(),
            inquiries=inquiries,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        session.commit()
    if report.created:
        out.print(
            t(N_("Demo data loaded: {items}."), items=", ".join(report.created)), markup=False
        )
    else:
        out.print(t(N_("Demo data is already loaded; nothing changed.")))
    if report.inquiries:
        out.print(
            t(
                N_(
                    "{n} inquiries taken in and triaged; {held} of them in hand "
                    "(claimed, escalated, answered): see /console/inquiries."
                ),
                n=report.inquiries,
                held=len(report.in_hand),
            )
        )
    if report.mailed:
        out.print(
            t(
                N_(
                    "{n} acknowledgements to the demo customers who wrote by mail "
                    "(example.com) are in the outbox. Without a mail server at {host}:{port} "
                    "they are retried, then given up (/console/deliveries); set "
                    "ANSHIN_SMTP_HOST and ANSHIN_SMTP_PORT to a test mail server to see them sent."
                ),
                n=report.mailed,
                host=settings.smtp_host,
                port=settings.smtp_port,
            ),
            markup=False,
        )
    if report.password:
        title = t(N_("Demo accounts (password: {password})"), password=report.password)
    else:
        title = t(
            N_("Demo accounts (passwords as set before; a new one: anshin user password EMAIL)")
        )
    table = Table(title=title)
    table.add_column(t(N_("Role")))
    table.add_column(t(N_("Email")))
    table.add_column(t(N_("Name")))
    for role, email, name in report.accounts:
        table.add_row(role, escape(email), escape(name))
    out.print(table)


@status_app.command("export")
def status_export(
    directory: Path = typer.Argument(..., help="Folder to write the static status page into."),
) -> None:
    """Write the published status page as static files (for nginx, a CDN, object storage)."""
    from anshin.statuspage import service as statuspage

    settings = load_settings()
    with open_session(settings) as session:
        try:
            written = statuspage.export(session, settings, directory)
        except OSError as exc:
            raise BadInput(
                N_("Cannot write {path}: {reason}"),
                field="DIRECTORY",
                path=str(directory),
                reason=exc.strerror or str(exc),
            ) from None
        session.commit()
    typer.echo(t(N_("Wrote {count} files to {path}."), count=len(written), path=str(directory)))


incidents_cli.register(app)
team_cli.register(app)
comms_cli.register(app)
notify_cli.register(app)
lint_cli.register(app)
inquiries_cli.register(app)  # the `inquiry` group first: mail_cli adds `import` to it
inquiries_mail_cli.register(app)
triage_cli.register(app)
reply_cli.register(app)
handoff_cli.register(app)  # joins the `inquiry` group
departments_cli.register(app)  # `department`, and `share` in the `inquiry` group
knowledge_cli.register(app)
review_cli.register(app)
history_cli.register(app)  # adds `import` to the `incident` group


def main() -> None:
    """The ``anshin`` console script."""
    app()


if __name__ == "__main__":
    main()
