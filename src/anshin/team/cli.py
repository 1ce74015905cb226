"""``anshin user|token``: people who sign in, and tokens for integrations.

Roles follow R22 (operator L1, senior L2, supervisor L3) plus admin. Changing a
user's role or password, or deactivating them, ends their console sessions
(team.users). A token's secret is printed once and only its hash is kept, so it
cannot be shown again; a token may be given an expiry.
"""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from anshin.cliutil import (
    FORMAT_HELP,
    actor,
    check_format,
    console,
    count,
    db_id,
    fail,
    load_settings,
    open_session,
    print_json,
    t,
)
from anshin.i18n import N_
from anshin.team import rules, users
from anshin.team import service as team_service

user_app = typer.Typer(help="People who sign in to the console.")
token_app = typer.Typer(help="API tokens for integrations (Authorization: Bearer …).")
FORMAT = typer.Option("text", "--format", callback=check_format, help=FORMAT_HELP)


@user_app.command("add")
def user_add(
    email: str = typer.Argument(..., help="Sign-in email address."),
    name: str = typer.Option(..., "--name", help="Name shown in the console and the log."),
    role: str = typer.Option(..., "--role", help="One of: " + ", ".join(rules.ROLES) + "."),
    password: str | None = typer.Option(
        None, "--password", help="Password (asked for, hidden, when not given)."
    ),
    locale: str = typer.Option("ja", "--locale", help="Console language: ja or en."),
    fmt: str = FORMAT,
) -> None:
    """Add a console user; the password is asked for twice when not given."""
    if password is None:
        password = typer.prompt(t(N_("Password")), hide_input=True, confirmation_prompt=True)
    settings = load_settings()
    with open_session(settings) as session:
        user = team_service.create_user(
            session,
            email=email,
            name=name,
            role=role,
            password=password,
            locale=locale,
            actor=actor(),
        )
        session.commit()
        data = {"id": user.id, "email": user.email, "name": user.name, "role": user.role}
    if fmt == "json":
        print_json(data)
    else:
        typer.echo(t(N_("Added {email} ({role})."), email=data["email"], role=data["role"]))


@user_app.command("list")
def user_list(fmt: str = FORMAT) -> None:
    """Everyone who can sign in."""
    settings = load_settings()
    with open_session(settings) as session:
        rows = [
            {"id": u.id, "email": u.email, "name": u.name, "role": u.role, "active": u.active}
            for u in team_service.list_users(session)
        ]
    if fmt == "json":
        print_json(rows)
        return
    table = Table()
    for header in (N_("Email"), N_("Name"), N_("Role"), N_("Status")):
        table.add_column(t(header))
    for row in rows:
        status = t(N_("active")) if row["active"] else t(N_("inactive"))
        table.add_row(escape(str(row["email"])), escape(str(row["name"])), str(row["role"]), status)
    console().print(table)


@user_app.command("role")
def user_role(
    email: str = typer.Argument(..., help="Sign-in email address."),
    role: str = typer.Argument(..., help="One of: " + ", ".join(rules.ROLES) + "."),
) -> None:
    """Give a user another role (R22); their console sessions end."""
    settings = load_settings()
    with open_session(settings) as session:
        user = users.find_user(session, email)
        changed = users.change_role(session, user, role, actor=actor())
        session.commit()
    if changed:
        typer.echo(
            t(N_("{email} is now {role}; their sessions were ended."), email=user.email, role=role)
        )
    else:
        typer.echo(t(N_("{email} already has this role; nothing changed."), email=user.email))


def _set_active(email: str, active: bool) -> None:
    settings = load_settings()
    with open_session(settings) as session:
        user = users.find_user(session, email)
        changed = users.set_active(session, user, active, actor=actor())
        session.commit()
    if not changed:
        typer.echo(t(N_("Nothing changed: {email} was already so."), email=user.email))
    elif active:
        typer.echo(t(N_("{email} can sign in again."), email=user.email))
    else:
        typer.echo(
            t(
                N_("{email} can no longer sign in; their sessions and tokens stopped."),
                email=user.email,
            )
        )


@user_app.command("deactivate")
def user_deactivate(email: str = typer.Argument(..., help="Sign-in email address.")) -> None:
    """Stop a user from signing in; their sessions end and their tokens stop working."""
    _set_active(email, False)


@user_app.command("activate")
def user_activate(email: str = typer.Argument(..., help="Sign-in email address.")) -> None:
    """Let a deactivated user sign in again."""
    _set_active(email, True)


@user_app.command("password")
def user_password(
    email: str = typer.Argument(..., help="Sign-in email address."),
    password: str | None = typer.Option(
        None, "--password", help="New password (asked for, hidden, when not given)."
    ),
) -> None:
    """Set a new password for a user; every session of theirs ends."""
    if password is None:
        password = typer.prompt(t(N_("Password")), hide_input=True, confirmation_prompt=True)
    settings = load_settings()
    with open_session(settings) as session:
        user = users.find_user(session, email)
        users.reset_password(session, user, password, actor=actor())
        session.commit()
    typer.echo(t(N_("New password set for {email}; their sessions were ended."), email=user.email))


@token_app.command("create")
def token_create(
    user: str = typer.Option(..., "--user", help="Email of the user the token acts as."),
    name: str = typer.Option(..., "--name", help="What the token is for (e.g. monitoring)."),
    expires_in_days: int | None = typer.Option(
        None,
        "--expires-in-days",
        parser=count,
        help="Refuse the token after this many days, 1 to 3650 (default: never).",
    ),
    fmt: str = FORMAT,
) -> None:
    """Create an API token; its secret is shown once, keep it now."""
    days = expires_in_days
    settings = load_settings()
    with open_session(settings) as session:
        owner = team_service.get_user_by_email(session, user)
        if owner is None:
            raise fail(N_("No user with this email: {email}."), email=user)
        raw, token = team_service.create_token(
            session,
            user=owner,
            name=name,
            actor=actor(),
            expires_at=team_service.token_expiry(days),
        )
        session.commit()
        data = {
            "id": token.id,
            "name": token.name,
            "user": owner.email,
            "token": raw,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        }
    if fmt == "json":
        print_json(data)
        return
    typer.echo(raw)
    typer.echo(t(N_("This token is shown only once. Store it now.")), err=True)


@token_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(..., parser=db_id, help="Token id.")) -> None:
    """Stop a token from working (the record stays for the audit trail)."""
    settings = load_settings()
    with open_session(settings) as session:
        token = team_service.revoke_token(session, token_id, actor=actor())
        session.commit()
        typer.echo(t(N_("Revoked token {name}."), name=token.name))


def register(app: typer.Typer) -> None:
    """Add ``user`` and ``token`` to the root command."""
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
