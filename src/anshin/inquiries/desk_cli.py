"""``anshin inquiry list|show|claim|release|escalate|stage``: the desk from a terminal (R22, R23).

The same services as the console and the API decide. Commands that act for an
agent name them with ``--as EMAIL``: a claim belongs to a person, and the rules
(level, holder, lead) are theirs, not the terminal's.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
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
from anshin.db import utcnow
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inputs import BadInput
from anshin.inquiries import claims, escalation, queues, rules, service
from anshin.inquiries.desk_api import inquiry_out
from anshin.team import users
from anshin.timefmt import format_local
from anshin.web.paging import Paging, page_number

FORMAT = typer.Option("text", "--format", callback=check_format, help=FORMAT_HELP)
AS = typer.Option(..., "--as", help="Email of the agent acting (their level and claims apply).")


def _as_bad_input(exc: InvalidInput, option: str) -> BadInput:
    """A value the command line got wrong: exit 2 naming the option, not a refusal (exit 1)."""
    return BadInput(exc.msgid, field=option, **exc.params)


def _clock(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    secs = abs(seconds)
    return f"{sign}{secs // 3600}:{(secs % 3600) // 60:02d}:{secs % 60:02d}"


def list_inquiries(
    level: str = typer.Option("", "--level", help="1, 2 or 3 (every level when not given)."),
    view: str = typer.Option("all", "--view", help="all, mine or unassigned."),
    incident: str = typer.Option("", "--incident", help="An incident reference, or none."),
    intent: str = typer.Option("", "--intent", help="Only this intent."),
    channel: str = typer.Option("", "--channel", help="form, chat, email or phone."),
    as_user: str = typer.Option("", "--as", help="Email of the agent whose queue 'mine' is."),
    page: str = typer.Option(
        "1", "--page", help=f"Which page of {queues.QUEUE_LIMIT} rows (1 is the first)."
    ),
    fmt: str = FORMAT,
) -> None:
    """A queue: open inquiries, earliest due first, the most upset first among equals."""
    settings = load_settings()
    with open_session(settings) as session:
        try:
            flt = queues.parse_filter(
                level=level, view=view, incident=incident, intent=intent, channel=channel
            )
            number = page_number(page)
        except InvalidInput as exc:
            raise _as_bad_input(exc, f"--{exc.field}") from None
        user = users.find_user(session, as_user) if as_user else None
        if flt.view == "mine" and user is None:
            raise BadInput(N_("Name the agent with --as EMAIL."), field="--as")
        now = utcnow()
        paging = Paging(number, queues.QUEUE_LIMIT, queues.count(session, flt, user))
        found = queues.queue(session, flt, user, limit=paging.size, offset=paging.offset)
        names = queues.names_of(session, {i.claimed_by_id for i in found if i.claimed_by_id})
        rows: list[dict[str, Any]] = []
        for i in found:
            due = queues.due_of(i, now)
            rows.append(
                {
                    "reference": i.reference,
                    "customer": i.customer_name or i.customer_email or i.customer_phone,
                    "intent": i.intent,
                    "level": i.level,
                    "temperature": i.temperature,
                    "holder": names.get(i.claimed_by_id) if i.claimed_by_id else None,
                    "due_at": due.due_at.isoformat() if due else None,
                    "seconds_left": due.seconds_left if due else None,
                }
            )
    if fmt == "json":
        print_json(rows)
        return
    table = Table()
    for header in (
        N_("Reference"),
        N_("Customer"),
        N_("Intent"),
        N_("Level"),
        N_("Temperature"),
        N_("Held by"),
        N_("Time left"),
    ):
        table.add_column(t(header))
    for row in rows:
        left = row["seconds_left"]
        clock = _clock(left)
        table.add_row(
            row["reference"],
            escape(str(row["customer"] or "—")),
            row["intent"],
            f"L{row['level']}",
            str(row["temperature"]),
            escape(str(row["holder"] or "—")),
            f"[red]{clock}[/red]" if left is not None and left < 0 else clock,
        )
    con = console()
    con.print(table)
    if paging.pages > 1:
        shown = t(
            N_("Rows {first}–{last} of {total}."),
            first=paging.first_row,
            last=paging.last_row,
            total=paging.total,
        )
        more = t(N_("Next: --page {n}"), n=paging.page + 1)
        con.print(shown + (" " + more if paging.page < paging.pages else ""))


def show(
    ref: str = typer.Argument(..., help="The inquiry's reference (Q-2026-000123)."),
    fmt: str = FORMAT,
) -> None:
    """One inquiry: the customer's words, triage, who holds it, its history."""
    settings = load_settings()
    with open_session(settings) as session:
        out = inquiry_out(session, service.get(session, ref), settings.timezone)
    if fmt == "json":
        print_json(out)
        return
    con = console()
    con.print(f"[bold]{out.reference}[/bold] {escape(out.customer_name or '')}", markup=True)
    con.print(
        f"L{out.level} · {out.intent} · {t(N_('Temperature'))} {out.temperature} · {out.stage}"
    )
    holder = out.holder.name if out.holder else "—"
    con.print(f"{t(N_('Held by'))}: {escape(holder)}", markup=True)
    con.print(out.original_text, markup=False)
    for e in out.history:
        con.print(f"  {e.at}  {e.action}  {escape(e.actor)}", markup=True)


def claim(
    ref: str = typer.Argument(..., help="The inquiry's reference."),
    as_user: str = AS,
    release: bool = typer.Option(False, "--release", help="Let go of it instead."),
) -> None:
    """Hold an inquiry for an agent (or let go of it); exactly one agent holds it (R23)."""
    settings = load_settings()
    with open_session(settings) as session:
        user = users.find_user(session, as_user)
        inquiry = service.get(session, ref)
        if release:
            claims.release(session, inquiry, user, zone=settings.timezone)
        else:
            claims.claim(session, inquiry, user, zone=settings.timezone)
        session.commit()
    if release:
        typer.echo(t(N_("Released {ref}."), ref=inquiry.reference))
    else:
        typer.echo(t(N_("{name} holds {ref}."), name=user.name, ref=inquiry.reference))


def escalate(
    ref: str = typer.Argument(..., help="The inquiry's reference."),
    level: str = typer.Option(..., "--level", help="The new level: 1, 2 or 3."),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the history)."),
    as_user: str = AS,
) -> None:
    """Escalate, or hand back down, with a reason (R22); the due time follows the level."""
    try:
        rules.check_level(level)
    except InvalidInput as exc:
        raise _as_bad_input(exc, "--level") from None
    try:
        claims.check_reason(reason)
    except InvalidInput as exc:
        raise _as_bad_input(exc, "--reason") from None
    settings = load_settings()
    with open_session(settings) as session:
        user = users.find_user(session, as_user)
        inquiry = service.get(session, ref)
        escalation.change_level(session, settings, inquiry, user, level, reason)
        session.commit()
        due = format_local(inquiry.first_response_due_at, settings.timezone)
    typer.echo(
        t(
            N_("{ref} is at level {level}; first response due {due}."),
            ref=inquiry.reference,
            level=inquiry.level,
            due=due,
        )
    )


def stage(
    ref: str = typer.Argument(..., help="The inquiry's reference."),
    target: str = typer.Argument(..., help="The next stage (listening, fact_checking, …)."),
    note: str | None = typer.Option(None, "--note", help="The note for the team (shared)."),
    as_user: str = AS,
) -> None:
    """Move an inquiry to another stage of the flow (R19)."""
    settings = load_settings()
    with open_session(settings) as session:
        user = users.find_user(session, as_user)
        inquiry = service.get(session, ref)
        escalation.move_stage(session, settings, inquiry, user, target, note=note)
        session.commit()
    typer.echo(t(N_("{ref} moved to {stage}."), ref=inquiry.reference, stage=inquiry.stage))


def register(group: typer.Typer) -> None:
    """Add the desk's commands to ``anshin inquiry``."""
    group.command("list")(list_inquiries)
    group.command("show")(show)
    group.command("claim")(claim)
    group.command("escalate")(escalate)
    group.command("stage")(stage)
