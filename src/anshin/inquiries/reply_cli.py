"""``anshin inquiry reply-all``: one checked answer to everyone who asked about an incident.

The command line acts as an administrator (whoever runs it holds the
database's keys, as ``anshin incident update`` does): it may override the
message check, only with ``--override-reason``, which every inquiry's history
keeps. Many recipients show a Rich progress bar.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from anshin.cliutil import actor, check_format, console, load_settings, open_session, t
from anshin.comms.cli import _read as read_text_file
from anshin.i18n import N_
from anshin.incidents import service as incidents
from anshin.inquiries import reply_all, rules
from anshin.inquiries.mail_cli import inquiry_group

# The CLI's role for the message check: an administrator, overriding only with a reason.
CLI_ROLE = "admin"
# Fewer recipients than this finish before a bar would be read.
PROGRESS_FROM = 20


@dataclass(frozen=True)
class CliAgent:
    """The command line as the replying agent: no console user, an administrator's rights."""

    actor: str
    id: int | None = None
    role: str = CLI_ROLE


def _read(path: Path | None) -> str | None:
    """The answer's text from a UTF-8 file (``-`` reads stdin); unreadable, not UTF-8, NUL: exit 2.

    The template commands' reader (``comms.cli``), so every file a command
    reads is refused the same way.
    """
    return None if path is None else read_text_file(str(path))


def _choice(allowed: tuple[str, ...]) -> Callable[[str | None], str | None]:
    """A typer callback refusing a value outside ``allowed`` (exit 2, naming the choices)."""

    def check(value: str | None) -> str | None:
        if value is not None and value not in allowed:
            raise typer.BadParameter(", ".join(allowed))
        return value

    return check


def reply_all_command(
    ref: str = typer.Argument(..., help="Incident reference (INC-2026-0001) or id."),
    file: Path | None = typer.Option(
        None, "--file", help="The answer in Japanese, from a UTF-8 file (- for stdin)."
    ),
    file_en: Path | None = typer.Option(
        None, "--file-en", help="The answer in English, for customers who wrote in English."
    ),
    intent: str | None = typer.Option(
        None,
        "--intent",
        callback=_choice(rules.INTENT_ORDER),
        help="Only inquiries of this intent.",
    ),
    channel: str | None = typer.Option(
        None,
        "--channel",
        callback=_choice(tuple(rules.Channel)),
        help="Only inquiries of this channel.",
    ),
    include_claimed: bool = typer.Option(
        False, "--include-claimed", help="Also inquiries another agent holds."
    ),
    reports_result: bool = typer.Option(
        False, "--reports-result", help="This answer reports the result (R19)."
    ),
    override_reason: str | None = typer.Option(
        None, "--override-reason", help="Send although the message check reports errors."
    ),
    fmt: str = typer.Option("text", "--format", callback=check_format, help="text or json."),
) -> None:
    """Send one checked answer to every selected open inquiry on the incident (R21, R26)."""
    settings = load_settings()
    answers = {"ja": _read(file), "en": _read(file_en)}
    with open_session(settings) as session:
        incident = incidents.get(session, ref)
        selection = reply_all.Selection(intent, channel, include_claimed)
        total = len(reply_all.select_open(session, incident, selection))
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console(),
            disable=total < PROGRESS_FROM or fmt == "json",
            transient=True,
        )
        with bar:
            task = bar.add_task(t(N_("Sending")), total=total)
            outcome = reply_all.reply_all(
                session,
                settings,
                incident,
                CliAgent(actor()),
                answers=answers,
                selection=selection,
                reports_result=reports_result,
                override_reason=override_reason,
                progress=lambda done, _total: bar.update(task, completed=done, total=_total),
            )
        session.commit()
    if fmt == "json":
        result = {"sent": outcome.sent, "held": outcome.held, "to_call": outcome.to_call}
        typer.echo(json.dumps({"incident": incident.reference, **result}, ensure_ascii=False))
        return
    typer.echo(t(N_("The answer went to {n} inquiries."), n=len(outcome.sent)))
    if outcome.held:
        typer.echo(t(N_("Held by another agent, left out: {refs}"), refs=" ".join(outcome.held)))
    if outcome.to_call:
        typer.echo(
            t(
                N_("By phone without a mail address, to call: {refs}"),
                refs=" ".join(outcome.to_call),
            )
        )


def register(app: typer.Typer) -> None:
    """Add ``inquiry reply-all`` to the ``inquiry`` group (shared with ``inquiry import``)."""
    inquiry_group(app).command("reply-all")(reply_all_command)
