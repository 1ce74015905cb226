"""``anshin department add|edit|list|disable|enable`` and ``anshin inquiry share`` (R21).

The same services as the console: a department's routing (``--intent``,
``--component``, ``--tier``, each repeatable) decides which departments an
inquiry is suggested for; ``inquiry share`` sends an inquiry to the departments
named (``--to``, repeatable), or without ``--to`` to the ones suggested.
Refusals (an unknown or disabled department, an empty note, a key taken)
exit 1 with one line in the terminal's language.
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
    load_settings,
    open_session,
    print_json,
    t,
)
from anshin.i18n import N_
from anshin.inquiries import departments, rules, service, share

department_app = typer.Typer(help="Departments inquiries are shared with, and their routing (R21).")
share_app = typer.Typer()
FORMAT = typer.Option("text", "--format", callback=check_format, help=FORMAT_HELP)
KEY = typer.Argument(..., help="The department's key (development, billing, …).")
INTENTS_HELP = "An intent it receives (repeatable): " + ", ".join(rules.INTENT_ORDER) + "."


@department_app.command("add")
def add_cmd(
    key: str = KEY,
    name_ja: str = typer.Option(..., "--name-ja", help="Name in Japanese (開発部)."),
    name_en: str = typer.Option(..., "--name-en", help="Name in English (Development)."),
    email: str = typer.Option(..., "--email", help="Its internal mail address."),
    locale: str = typer.Option("ja", "--locale", help="Language of its mail: ja or en."),
    webhook: str | None = typer.Option(None, "--webhook", help="A chat webhook URL (optional)."),
    intent: list[str] = typer.Option([], "--intent", help=INTENTS_HELP),
    component: list[str] = typer.Option(
        [], "--component", help="A component name it receives incidents on (repeatable)."
    ),
    tier: list[str] = typer.Option(
        [], "--tier", help="A customer tier it receives: important or standard (repeatable)."
    ),
) -> None:
    """Add a department with its routing."""
    settings = load_settings()
    with open_session(settings) as session:
        row = departments.add(
            session,
            settings,
            departments.DepartmentInput(
                key=key,
                name_ja=name_ja,
                name_en=name_en,
                email=email,
                locale=locale,
                webhook_url=webhook,
                intents=intent,
                components=component,
                tiers=tier,
            ),
            actor=actor(),
        )
        session.commit()
        typer.echo(t(N_("Department {key} added."), key=row.key))


@department_app.command("edit")
def edit_cmd(
    key: str = KEY,
    name_ja: str | None = typer.Option(None, "--name-ja", help="Name in Japanese."),
    name_en: str | None = typer.Option(None, "--name-en", help="Name in English."),
    email: str | None = typer.Option(None, "--email", help="Its internal mail address."),
    locale: str | None = typer.Option(None, "--locale", help="Language of its mail: ja or en."),
    webhook: str | None = typer.Option(None, "--webhook", help="A chat webhook URL; '' removes."),
    intent: list[str] | None = typer.Option(None, "--intent", help=INTENTS_HELP + " Replaces."),
    component: list[str] | None = typer.Option(
        None, "--component", help="A component name (repeatable). Replaces."
    ),
    tier: list[str] | None = typer.Option(None, "--tier", help="A customer tier. Replaces."),
) -> None:
    """Change what is given; the rest stays."""
    settings = load_settings()
    with open_session(settings) as session:
        row = departments.get(session, key)
        departments.update(
            session,
            settings,
            row,
            departments.DepartmentInput(
                key=row.key,
                name_ja=row.name_ja if name_ja is None else name_ja,
                name_en=row.name_en if name_en is None else name_en,
                email=row.email if email is None else email,
                locale=row.locale if locale is None else locale,
                webhook_url=row.webhook_url if webhook is None else webhook,
                intents=list(row.intents or ()) if intent is None else intent,
                components=(
                    [str(i) for i in row.component_ids or ()] if component is None else component
                ),
                tiers=list(row.tiers or ()) if tier is None else tier,
            ),
            actor=actor(),
        )
        session.commit()
        typer.echo(t(N_("Department {key} saved."), key=row.key))


@department_app.command("list")
def list_cmd(fmt: str = FORMAT) -> None:
    """Every department with its address and routing."""
    settings = load_settings()
    with open_session(settings) as session:
        rows = departments.listing(session)
        data = [departments.as_dict(d) for d in rows]
        names = {
            d.key: departments.component_names(session, list(d.component_ids or ()), "ja")
            for d in rows
        }
    if fmt == "json":
        print_json(data)
        return
    table = Table()
    for header in (N_("Key"), N_("Name"), N_("Email"), N_("Receives"), N_("Status")):
        table.add_column(t(header))
    for row in data:
        receives = ", ".join([*row["intents"], *names[row["key"]], *row["tiers"]])
        status = t(N_("active")) if row["active"] else t(N_("disabled"))
        table.add_row(
            escape(row["key"]),
            escape(f"{row['name_ja']} / {row['name_en']}"),
            escape(f"{row['email']} ({row['locale']})"),
            escape(receives),
            status,
        )
    console().print(table)


def _set_active(key: str, active: bool) -> None:
    settings = load_settings()
    with open_session(settings) as session:
        row = departments.get(session, key)
        departments.set_active(session, row, active, actor=actor())
        session.commit()
    if active:
        typer.echo(t(N_("Department {key} receives inquiries again."), key=row.key))
    else:
        typer.echo(t(N_("Department {key} is disabled."), key=row.key))


@department_app.command("disable")
def disable_cmd(key: str = KEY) -> None:
    """Stop suggesting and reaching a department; its history stays."""
    _set_active(key, False)


@department_app.command("enable")
def enable_cmd(key: str = KEY) -> None:
    """Let a disabled department receive inquiries again."""
    _set_active(key, True)


@share_app.command("share")
def share_cmd(
    ref: str = typer.Argument(..., help="The inquiry's reference (Q-2026-000123) or id."),
    to: list[str] = typer.Option(
        [], "--to", help="A department's key (repeatable; default: the suggested ones)."
    ),
    note: str = typer.Option(..., "--note", help="What the departments should know or do."),
    fmt: str = FORMAT,
) -> None:
    """Send an inquiry to the departments concerned, one internal message each (R21)."""
    settings = load_settings()
    with open_session(settings) as session:
        inquiry = service.get(session, ref)
        keys = to or share.suggested(session, inquiry)
        sent = share.share(session, settings, inquiry, keys, note, actor=actor())
        session.commit()
        reference = inquiry.reference
        shared = [{"key": s.key, "email": s.email} for s in sent]
    if fmt == "json":
        print_json({"reference": reference, "shared_with": shared})
    else:
        names = ", ".join(s["key"] for s in shared)
        typer.echo(t(N_("{ref} shared with {names}."), ref=reference, names=names))


def register(app: typer.Typer) -> None:
    """Add ``department`` to the root command and ``share`` to the ``inquiry`` group."""
    app.add_typer(department_app, name="department")
    for group in app.registered_groups:
        if group.name == "inquiry" and group.typer_instance is not None:
            group.typer_instance.registered_commands.extend(share_app.registered_commands)
            return
    app.add_typer(share_app, name="inquiry")
