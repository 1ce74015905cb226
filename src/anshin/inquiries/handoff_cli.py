"""``anshin inquiry handoff|request|decide|commit|kept|next|evidence|hand-over`` (R24, R25, R27).

A commitment on the command line names the team member making it (``--as
EMAIL``): the authority matrix checks *their* role, as the console and the
API do, so the terminal is no way round it (an operator's refund is refused,
exit 1). Whoever runs the command is still the actor in the log
(``cli:<os user>`` on behalf of that member).
"""

from __future__ import annotations

import typer
from sqlalchemy.orm import Session

from anshin.cliutil import (
    FORMAT_HELP,
    actor,
    check_format,
    cli_locale,
    db_id,
    load_settings,
    open_session,
    parse_time,
    print_json,
    t,
)
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inquiries import commitments, handoff, harassment, service
from anshin.team import users
from anshin.team.models import User

inquiry_app = typer.Typer(help="Inquiries: the handoff sheet, requests, commitments, evidence.")
FORMAT = typer.Option("text", "--format", callback=check_format, help=FORMAT_HELP)
REF = typer.Argument(..., help="The inquiry's reference (Q-2026-000123) or id.")
AS = typer.Option(..., "--as", help="Email of the team member acting (their role is checked).")


def _member(session: Session, email: str) -> User:
    """The active team member named by email (team.users.find_user), else a refusal."""
    found = users.find_user(session, email.strip())
    if not found.active:
        raise InvalidInput(
            N_("No active team member with this email: {email}."), field="email", email=email
        )
    return found


def _on_behalf(member: User) -> str:
    return f"{actor()} as {member.actor}"


@inquiry_app.command("handoff")
def handoff_cmd(ref: str = REF) -> None:
    """Print the handoff sheet as plain text, in the terminal's language (R24)."""
    settings = load_settings()
    with open_session(settings) as session:
        inquiry = service.get(session, ref)
        typer.echo(handoff.text(session, settings, inquiry, locale=cli_locale()), nl=False)


@inquiry_app.command("request")
def request_cmd(
    ref: str = REF,
    text: str = typer.Option(..., "--text", help="What the customer asks for, in their terms."),
) -> None:
    """Record a customer's request (お願い)."""
    settings = load_settings()
    with open_session(settings) as session:
        row = commitments.add_request(session, service.get(session, ref), text, actor=actor())
        session.commit()
        typer.echo(t(N_("Request {id} recorded."), id=row.id))


@inquiry_app.command("decide")
def decide_cmd(
    ref: str = REF,
    request_id: int = typer.Argument(..., parser=db_id, help="The request's id."),
    decision: str = typer.Option(..., "--decision", help="accepted, declined or alternative."),
    alternative: str | None = typer.Option(None, "--alternative", help="The alternative offered."),
) -> None:
    """Decide a request: accepted, declined, or an alternative offered."""
    settings = load_settings()
    with open_session(settings) as session:
        row = commitments.decide_request(
            session,
            service.get(session, ref),
            request_id,
            decision,
            alternative=alternative,
            actor=actor(),
        )
        session.commit()
        typer.echo(t(N_("Request {id}: {decision}."), id=row.id, decision=row.decision))


@inquiry_app.command("commit")
def commit_cmd(
    ref: str = REF,
    kind: str = typer.Option(
        ..., "--kind", help="callback, investigation_result, refund, credit, contract_change."
    ),
    description: str = typer.Option(..., "--description", help="What we promise."),
    due: str = typer.Option(..., "--due", help="When it is due (ISO 8601, or HH:MM today)."),
    member: str = AS,
    owner: str | None = typer.Option(None, "--owner", help="Email of the owner (default: --as)."),
    fmt: str = FORMAT,
) -> None:
    """Record a commitment (お約束), within the authority of the member named by --as (R27)."""
    settings = load_settings()
    with open_session(settings) as session:
        by = _member(session, member)
        row = commitments.add_commitment(
            session,
            settings,
            service.get(session, ref),
            by=by,
            kind=kind,
            description=description,
            due_at=parse_time(due, settings, "--due"),
            owner=_member(session, owner) if owner else by,
            actor=_on_behalf(by),
        )
        session.commit()
        data = {
            "id": row.id,
            "kind": row.kind,
            "owner": row.owner_name,
            "due_at": row.due_at.isoformat(),
            "state": row.state,
        }
    if fmt == "json":
        print_json(data)
    else:
        typer.echo(t(N_("Commitment {id} recorded."), id=data["id"]))


@inquiry_app.command("kept")
def kept_cmd(
    ref: str = REF,
    commitment_id: int = typer.Argument(..., parser=db_id, help="The commitment's id."),
) -> None:
    """Mark a commitment kept."""
    settings = load_settings()
    with open_session(settings) as session:
        commitments.keep(session, service.get(session, ref), commitment_id, actor=actor())
        session.commit()
        typer.echo(t(N_("Commitment {id} is marked kept."), id=commitment_id))


@inquiry_app.command("next")
def next_cmd(
    ref: str = REF,
    step: str = typer.Option(..., "--step", help="The proposed next step."),
    due: str = typer.Option(..., "--due", help="Its deadline (ISO 8601, or HH:MM today)."),
) -> None:
    """Set the proposed next step and its deadline."""
    settings = load_settings()
    with open_session(settings) as session:
        commitments.set_next_action(
            session,
            service.get(session, ref),
            step,
            parse_time(due, settings, "--due"),
            actor=actor(),
        )
        session.commit()
        typer.echo(t(N_("The next step was saved.")))


@inquiry_app.command("evidence")
def evidence_cmd(
    ref: str = REF,
    fmt: str = typer.Option("json", "--format", callback=check_format, help=FORMAT_HELP),
) -> None:
    """Print the customer's words as stored, times, channel and history: the evidence (R25)."""
    settings = load_settings()
    with open_session(settings) as session:
        inquiry = service.get(session, ref)
        body = harassment.evidence_body(session, inquiry, fmt)
    typer.echo(body, nl=False)


@inquiry_app.command("hand-over")
def hand_over_cmd(ref: str = REF, member: str = AS) -> None:
    """Hand a contact to the supervisors: released, level 3 (R25)."""
    settings = load_settings()
    with open_session(settings) as session:
        inquiry = service.get(session, ref)
        harassment.hand_to_supervisor(session, inquiry, by=_member(session, member))
        session.commit()
        typer.echo(t(N_("{ref} was handed to a supervisor."), ref=inquiry.reference))


def register(app: typer.Typer) -> None:
    """Add these commands to ``inquiry`` (joining the group if another module made it)."""
    for group in app.registered_groups:
        if group.name == "inquiry" and group.typer_instance is not None:
            for command in inquiry_app.registered_commands:
                group.typer_instance.registered_commands.append(command)
            return
    app.add_typer(inquiry_app, name="inquiry")
