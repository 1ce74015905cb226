"""``anshin review note|action|actions``: the review's notes and prevention actions (R31).

The terminal does what the review page's forms do (review.action_views), through the
same services: ``anshin review note INC-… --kind cause --cause-class process TEXT``,
``anshin review action add|done|check|refix …`` and ``anshin review actions INC-…``.
Whoever runs the command is the actor in the log (``cli:<os user>``), as for the other
commands that change records; the console's role split (notes by anyone, actions by
seniors and above) is for signed-in staff, the shell account is trusted like ``anshin
incident``. A value that cannot be read (a day that is not YYYY-MM-DD, an unknown kind)
exits 2; a refusal (a due date in the past, checking an open action) exits 1.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from anshin.cliutil import (
    FORMAT_HELP,
    actor,
    check_format,
    console,
    db_id,
    load_settings,
    open_session,
    print_json,
    t,
)
from anshin.errors import AnshinError, InvalidInput
from anshin.i18n import N_
from anshin.incidents import service as incidents
from anshin.review import action_rules, actions
from anshin.review.models import PreventionAction
from anshin.team import users
from anshin.team.models import User
from anshin.timefmt import today_local

action_app = typer.Typer(help="Prevention actions of a review: add, done, check, refix.")
FORMAT = typer.Option("text", "--format", callback=check_format, help=FORMAT_HELP)
REF = typer.Argument(..., help="The incident's reference (INC-2026-0001).")
ACTION_ID = typer.Argument(..., parser=db_id, help="The prevention action's id.")
OWNER = typer.Option(..., "--owner", help="Email of the active team member who owns it.")


def _choice(allowed: tuple[str, ...]) -> Any:
    """``parser=`` refusing anything but one of ``allowed`` (a usage error, exit 2)."""

    def parse(value: str) -> str:
        if value not in allowed:
            raise typer.BadParameter(
                t(
                    N_("Unknown value: {value}. Choose one of: {choices}."),
                    value=value,
                    choices=", ".join(allowed),
                )
            )
        return value

    return parse


def _day(value: str) -> dt.date:
    """``parser=`` for a day as YYYY-MM-DD (exit 2 when it cannot be read)."""
    try:
        return action_rules.parse_day(value, "day")
    except AnshinError as exc:
        raise typer.BadParameter(t(exc.msgid, **exc.params)) from None


DUE = typer.Option(..., "--due-on", parser=_day, help="The due date, YYYY-MM-DD.")


def _owner(session: Session, email: str) -> User:
    found = users.find_user(session, email.strip())
    if not found.active:
        raise InvalidInput(
            N_("No active team member with this email: {email}."), field="owner", email=email
        )
    return found


def _action_json(session: Session, action: PreventionAction) -> dict[str, Any]:
    return {
        "id": action.id,
        "title": action.title,
        "owner": action.owner_name,
        "due_on": action.due_on.isoformat(),
        "state": action.state,
        "refix_of": action.refix_of_id,
        "checks": [
            {"checked_on": c.checked_on.isoformat(), "effective": c.effective, "note": c.note}
            for c in actions.checks(session, action)
        ],
    }


def _done(message: str, action: PreventionAction, **params: Any) -> None:
    typer.echo(t(message, id=action.id, **params))


@action_app.command("add")
def add_cmd(
    ref: str = REF,
    title: str = typer.Argument(..., help="What will change."),
    owner: str = OWNER,
    due_on: dt.date = DUE,
) -> None:
    """Add a prevention action with its owner and due date."""
    settings = load_settings()
    with open_session(settings) as session:
        action = actions.add_action(
            session,
            incidents.get(session, ref),
            title=title,
            owner=_owner(session, owner),
            due_on=due_on,
            today=today_local(settings.timezone),
            actor=actor(),
        )
        session.commit()
        _done(N_("Prevention action {id} added."), action)


@action_app.command("done")
def done_cmd(action_id: int = ACTION_ID) -> None:
    """Mark an open action done; check its effect later."""
    settings = load_settings()
    with open_session(settings) as session:
        action = actions.mark_done(session, actions.get_action(session, action_id), actor=actor())
        session.commit()
        _done(N_("Prevention action {id} marked done."), action)


@action_app.command("check")
def check_cmd(
    action_id: int = ACTION_ID,
    result: str = typer.Option(
        ...,
        "--result",
        parser=_choice(action_rules.CHECK_RESULTS),
        help="effective or not_effective.",
    ),
    checked_on: dt.date | None = typer.Option(
        None, "--checked-on", parser=_day, help="The day of the check (default: today)."
    ),
    note: str = typer.Option("", "--note", help="What was seen."),
) -> None:
    """Record the effect check of a done action; not effective asks for a re-fix."""
    settings = load_settings()
    today = today_local(settings.timezone)
    with open_session(settings) as session:
        checked = actions.record_check(
            session,
            actions.get_action(session, action_id),
            checked_on=checked_on or today,
            effective=action_rules.check_result(result),
            note=note,
            actor=actor(),
            zone=ZoneInfo(settings.timezone),
            today=today,
        )
        session.commit()
        _done(N_("Effect check of {id} recorded: {state}."), checked.action, state=result)


@action_app.command("refix")
def refix_cmd(
    action_id: int = ACTION_ID,
    title: str = typer.Argument(..., help="What will change this time."),
    owner: str = OWNER,
    due_on: dt.date = DUE,
) -> None:
    """Add a re-fix to an action whose effect check failed (linked to it)."""
    settings = load_settings()
    with open_session(settings) as session:
        action = actions.add_refix(
            session,
            actions.get_action(session, action_id),
            title=title,
            owner=_owner(session, owner),
            due_on=due_on,
            today=today_local(settings.timezone),
            actor=actor(),
        )
        session.commit()
        _done(N_("Re-fix {id} added."), action)


def note_cmd(
    ref: str = REF,
    text: str = typer.Argument(..., help="The note."),
    kind: str = typer.Option(
        ...,
        "--kind",
        parser=_choice(tuple(action_rules.NoteKind)),
        help="went_well, to_improve or cause.",
    ),
    cause_class: str | None = typer.Option(
        None,
        "--cause-class",
        parser=_choice(tuple(action_rules.CauseClass)),
        help="For a cause: person, process or system.",
    ),
) -> None:
    """Add a note to the review: went well, to improve, or a classified cause."""
    settings = load_settings()
    with open_session(settings) as session:
        note = actions.add_note(
            session,
            incidents.get(session, ref),
            kind=kind,
            body=text,
            cause_class=cause_class,
            actor=actor(),
        )
        session.commit()
        typer.echo(t(N_("Note {id} added."), id=note.id))


def list_cmd(ref: str = REF, fmt: str = FORMAT) -> None:
    """The incident's prevention actions with their checks, overdue ones marked."""
    settings = load_settings()
    today = today_local(settings.timezone)
    with open_session(settings) as session:
        incident = incidents.get(session, ref)
        reference = incident.reference
        rows = [_action_json(session, a) for a in actions.actions(session, incident)]
    for row in rows:
        row["overdue"] = action_rules.is_overdue(
            row["state"], dt.date.fromisoformat(row["due_on"]), today
        )
    if fmt == "json":
        print_json({"incident": reference, "actions": rows})
        return
    table = Table(title=t(N_("Prevention actions of {ref}"), ref=reference))
    for column in (N_("Id"), N_("Prevention action"), N_("Owner"), N_("Due"), N_("State")):
        table.add_column(t(column), overflow="fold")  # titles wrap, never cut short
    for row in rows:
        due = row["due_on"] + (" " + t(N_("(overdue)")) if row["overdue"] else "")
        table.add_row(str(row["id"]), escape(row["title"]), escape(row["owner"]), due, row["state"])
    console().print(table)


def register(review_app: typer.Typer) -> None:
    """Put the commands under ``anshin review`` (called from review.cli.register)."""
    review_app.command("note")(note_cmd)
    review_app.command("actions")(list_cmd)
    review_app.add_typer(action_app, name="action")
