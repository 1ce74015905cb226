"""``anshin incident import FILE.json [--replace]``: a past incident, its own times (§8).

Lives in the review domain (it writes incidents, inquiries and survey answers)
and joins the ``incident`` group at registration, so incidents never import
review. Exit codes follow ``anshin.cliutil``: 0 imported; 1 refused (the
reference is already stored and ``--replace`` was not given); 2 the file
cannot be used — not readable, not JSON, or a value the rules refuse, named by
its JSON path (``updates[2].published_at: …``). A refusal changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from anshin.cliutil import console, load_settings, open_session, t
from anshin.i18n import N_
from anshin.inputs import BadInput, printable
from anshin.review import history, history_rules

NOT_JSON = N_("The file is not JSON: {reason}")
UNREADABLE = N_("Cannot read {path}: {reason}")


def read(path: Path) -> object:
    """The file's JSON, or :class:`BadInput` (exit 2) saying why it cannot be read."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise BadInput(
            UNREADABLE, field="FILE", path=str(path), reason=exc.strerror or str(exc)
        ) from None
    except UnicodeDecodeError as exc:
        raise BadInput(NOT_JSON, field="FILE", reason=str(exc)) from None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadInput(NOT_JSON, field="FILE", reason=str(exc)) from None


def import_history(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="The incident as JSON (docs/review-import.md)."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Replace a stored incident of the same reference, whole."
    ),
) -> None:
    """Load a past incident with its own times; nothing is sent to anyone."""
    settings = load_settings()
    data = read(file)
    try:
        checked = history_rules.parse(data, settings.timezone)
    except history_rules.HistoryError as exc:
        typer.echo(printable(f"{exc.path}: {t(exc.msgid, **exc.params)}"), err=True)
        raise typer.Exit(code=2) from None
    out = console()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=out,
        transient=True,
        disable=checked.steps < 50,
    )
    with open_session(settings) as session, bar:
        task = bar.add_task(t(N_("Importing history")), total=checked.steps)
        incident = history.load(
            session,
            checked,
            actor=f"import:{file.name}"[:200],
            replace=replace,
            progress=lambda n: bar.advance(task, n),
        )
        session.commit()
        reference = incident.reference
    out.print(
        t(
            N_(
                "Imported {ref}: {updates} updates, {inquiries} inquiries, {answers} survey "
                "answers. Nothing was sent."
            ),
            ref=reference,
            updates=len(checked.updates),
            inquiries=len(checked.inquiries),
            answers=len(checked.feedback),
        ),
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``import`` to the ``incident`` group (registered before: see anshin.cli)."""
    for group in app.registered_groups:
        if group.name == "incident" and group.typer_instance is not None:
            group.typer_instance.command("import")(import_history)
            return
    raise RuntimeError("register the incident group before review.history_cli")
