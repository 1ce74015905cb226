"""What every ``anshin`` command shares: language, actor, session, errors, output.

Exit codes are the contract for scripts: 0 done, 1 refused (an
:class:`~anshin.errors.AnshinError` or a database that is not ready, with the
reason on stderr in the terminal's language), 2 bad input or used wrongly —
one line on stderr naming the option: a value :mod:`anshin.inputs` refuses
(text that is not valid UTF-8, a time that is not ISO 8601 or out of range,
an id that is not one), a value Click cannot convert, Click's usage errors —
or set up wrongly (a malformed word list in ``ANSHIN_LINT_EXTRA_DIR``). The
root command's :class:`AnshinGroup` is the one place that turns these into
exit codes. Nothing a user types ends in a traceback, and a refusal changes
nothing.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from zoneinfo import ZoneInfo

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from anshin.comms.lint.lexicon import LexiconError
from anshin.config import Settings
from anshin.db import is_storage_error, make_engine, make_sessionmaker, storage_cause
from anshin.errors import AnshinError
from anshin.i18n import N_, translate
from anshin.inputs import BIGINT_MAX, BadInput, parse_count, parse_id, printable, text_problem
from anshin.inputs import parse_time as parse_input_time
from anshin.instance.secret import ensure_secret

FORMATS: tuple[str, ...] = ("text", "json")
FORMAT_HELP = "Output: text (a table for people) or json (the stored record, for scripts)."


def env_locale() -> str:
    """ja when the terminal speaks Japanese (LC_ALL, LC_MESSAGES, LANG in POSIX order), else en."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


# Set by the root command's ``--lang`` for the rest of the invocation.
LANG_OVERRIDE: ContextVar[str | None] = ContextVar("anshin_cli_lang", default=None)


def cli_locale() -> str:
    """The language of this invocation: ``--lang`` on the root command, else the terminal's."""
    return LANG_OVERRIDE.get() or env_locale()


def t(msgid: str, /, **params: Any) -> str:
    """A message in the invocation's language."""
    return translate(cli_locale(), msgid, **params)


def actor() -> str:
    """Who the event log names for CLI changes: ``cli:<os user>``."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{name}"


def load_settings() -> Settings:
    """Settings read from the environment now (not cached: each invocation reads afresh).

    A setting that cannot be used (``ANSHIN_NUDGE_BEFORE_MINUTES=0``, a staff
    webhook that is not http(s)) stops the command with exit code 2 and one
    line per setting, not a traceback.
    """
    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "ANSHIN_" + ".".join(str(p) for p in error.get("loc", ())).upper()
            typer.echo(
                t(N_("{name}: {problem}"), name=name, problem=error.get("msg", "")), err=True
            )
        raise typer.Exit(code=2) from None


@contextmanager
def open_session(settings: Settings) -> Iterator[Session]:
    """A session on the configured database; the command commits, the rest is rolled back.

    The signing key is resolved first (anshin.instance.secret), so links the
    command prints are signed with the installation's key and no second
    connection is opened for it while this one holds SQLite's write lock.
    """
    engine = make_engine(settings.database_url, settings)
    ensure_secret(settings, engine)
    session = make_sessionmaker(engine)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
        engine.dispose()


def require_current_schema(settings: Settings) -> None:
    """Refuse (exit 1) a long-running command on a database behind the code's migrations.

    ``anshin serve`` and ``anshin mail-in`` would otherwise start and fail on
    every request or mail instead of once, here, with the fix named.
    """
    from anshin import migrations

    have, want = migrations.current(settings.database_url), migrations.heads()
    if have != want:
        raise fail(
            N_(
                "The database schema is not up to date (database: {have}, needed: {want}). "
                "Run `anshin db upgrade` first."
            ),
            have=", ".join(sorted(have)) or "-",
            want=", ".join(sorted(want)),
        )


def parse_time(
    value: str | None, settings: Settings, option: str, *, happened: bool = False
) -> dt.datetime | None:
    """An ISO 8601 time typed on the command line; without an offset it is the team's zone.

    A bare ``HH:MM`` means today in the team's zone (``--next-update-at 15:00``).
    The rules are the API's (``anshin.inputs``); a refusal is :class:`BadInput`
    naming ``option`` (exit 2). ``happened``: a time something happened, not in the future.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"[0-9]{1,2}:[0-9]{2}", text):
        today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
        text = f"{today.isoformat()}T{int(text.split(':')[0]):02d}:{text.split(':')[1]}"
    return parse_input_time(text, settings.timezone, field=option, happened=happened)


def _number(text: str, minimum: int) -> int:
    number = parse_id(text) if minimum > 0 else parse_count(text)
    if number is None:
        raise typer.BadParameter(
            t(N_("Enter a whole number from {low} to {high}."), low=minimum, high=BIGINT_MAX)
        )
    return number


def db_id(text: str) -> int:
    """``parser=`` for a record's id: ASCII digits, 1 … 2**63-1 (never "²" or "١٢")."""
    return _number(text, 1)


def count(text: str) -> int:
    """``parser=`` for a count or a version: 0 … 2**63-1 (full-width digits too)."""
    return _number(text, 0)


def check_format(value: str) -> str:
    """Refuse an output format other than text or json (a usage error, exit 2)."""
    if value not in FORMATS:
        raise typer.BadParameter(
            t(
                N_("Unknown format: {value}. Choose one of: {choices}."),
                value=value,
                choices=", ".join(FORMATS),
            ),
            param_hint="--format",
        )
    return value


def print_json(data: BaseModel | dict[str, Any] | list[Any]) -> None:
    """Machine-readable output: one JSON document on stdout, nothing else."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def console() -> Console:
    """Rich output for people on stdout (no colour when not a terminal)."""
    return Console(soft_wrap=True, highlight=False)


def fail(msgid: str, /, **params: Any) -> typer.Exit:
    """Print a refusal on stderr in the invocation's language and return exit 1 to raise."""
    typer.echo(t(msgid, **params), err=True)
    return typer.Exit(code=1)


# Service field names whose command-line option is spelled differently.
OPTION_NAMES: dict[str, str] = {
    "estimated_affected_customers": "--affected-customers",
    "estimated_recovery_at": "--recovery-at",
    "components": "--component",
    "component_status": "--impact",
    "scheduled_start": "--start",
    "scheduled_end": "--end",
    "email": "EMAIL",
    "ref": "REF",
    "departments": "--to",  # anshin inquiry share
    "intents": "--intent",  # anshin department add|edit
    "tiers": "--tier",
    "webhook_url": "--webhook",
}


def option_name(field: str) -> str:
    """The option a refused field came from, so the message says what to fix."""
    if field.startswith("-") or field.isupper():  # already an option or an argument's name
        return field
    return OPTION_NAMES.get(field, "--" + field.replace("_", "-"))


def detail_lines(details: dict[str, Any]) -> list[str]:
    """The message check's findings under a refusal, one line each, so the fix is in view."""
    lines: list[str] = []
    findings = details.get("findings")
    if isinstance(findings, dict):
        for locale, items in findings.items():
            for item in items:
                line = f"  [{locale}] {item['severity']} {item['rule']}: {item['message']}"
                if item.get("suggestion"):
                    line += f" → {item['suggestion']}"
                lines.append(line)
    return lines


def _refuse_unstorable(ctx: Any, args: list[str]) -> None:
    """Exit 2 on an argument the database could not store, before any command runs.

    Python reads bytes that are not UTF-8 from the command line as lone
    surrogates (``surrogateescape``); no option of any command can use them.
    """
    for index, arg in enumerate(args):
        problem = text_problem(arg)
        if problem is None:
            continue
        before = args[index - 1] if index else ""
        if arg.startswith("--") and "=" in arg:
            where = arg.split("=", 1)[0]
        elif before.startswith("-"):
            where = before
        else:
            where = t(N_("argument {n}"), n=index + 1)
        typer.echo(printable(f"{where}: {t(problem)}"), err=True)
        ctx.exit(2)


def _one_line(exc: UsageError) -> str:
    """What Click refused, in one line for scripts (no usage box).

    A value: ``--option: reason``. Anything else (a missing option, an
    unknown one): Click's sentence and where to read the command's help.
    """
    if isinstance(exc, typer.BadParameter) and exc.message:
        if exc.param is not None and exc.param.param_type_name == "option":
            where = " / ".join(exc.param.opts)
        elif exc.param is not None:
            where = (exc.param.name or "").upper()
        else:
            where = str(exc.param_hint or "")
        return printable(f"{where}: {exc.message}" if where else exc.message)
    command = exc.ctx.command_path if exc.ctx is not None else "anshin"
    return printable(
        t(N_("{problem} (see {command} --help)"), problem=exc.format_message(), command=command)
    )


class AnshinGroup(TyperGroup):
    """The root command group: the one place that turns errors into a line on stderr and a code.

    Wrapping ``parse_args`` and ``invoke`` here covers every subcommand, so no
    command has to remember to catch errors, and ``CliRunner`` sees the same
    behaviour as a terminal: bad input exits 2 (:class:`BadInput`, a value
    Click refuses, an argument that is not UTF-8), a refusal exits 1.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _refuse_unstorable(ctx, args)
        try:
            return super().parse_args(ctx, args)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            typer.echo(_one_line(exc), err=True)
            ctx.exit(2)
            raise  # not reached: ctx.exit raises

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BadInput as exc:
            prefix = f"{option_name(exc.field)}: " if exc.field else ""
            typer.echo(printable(prefix + t(exc.msgid, **exc.params)), err=True)
            ctx.exit(2)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            typer.echo(_one_line(exc), err=True)
            ctx.exit(2)
        except AnshinError as exc:
            prefix = f"{option_name(exc.field)}: " if exc.field else ""
            typer.echo(printable(prefix + t(exc.msgid, **exc.params)), err=True)
            for line in detail_lines(exc.details()):
                typer.echo(printable(line), err=True)
            ctx.exit(1)
        except LexiconError as exc:
            # A malformed word list of the message check (ANSHIN_LINT_EXTRA_DIR): a setup
            # to fix, named by file and entry, not a refusal of what was typed.
            typer.echo(
                t(N_("The message check could not load its word lists: {reason}"), reason=str(exc)),
                err=True,
            )
            ctx.exit(2)
        except (OperationalError, ProgrammingError) as exc:
            if _is_not_ready(exc):
                reason = storage_cause(exc)
                typer.echo(
                    t(
                        N_(
                            "The database is not ready ({reason}). Check ANSHIN_DATABASE_URL "
                            "and run `anshin db upgrade`."
                        ),
                        reason=reason,
                    ),
                    err=True,
                )
                ctx.exit(1)
            _storage_failed(ctx, exc)
        except (DBAPIError, PoolTimeout) as exc:
            _storage_failed(ctx, exc)


# What a database that was never migrated (or is not there) says, per backend.
_NOT_READY = ("no such table", "does not exist", "unable to open database", "connection refused")


def _is_not_ready(exc: DBAPIError) -> bool:
    cause = storage_cause(exc).lower()
    return isinstance(exc, ProgrammingError) or any(words in cause for words in _NOT_READY)


def _storage_failed(ctx: Any, exc: Exception) -> None:
    """A database that cannot do the work (read-only, full, locked, gone): one line, exit 1."""
    if not is_storage_error(exc):
        raise exc
    typer.echo(
        t(
            N_(
                "The database could not complete this ({reason}). Nothing was changed; "
                "try again once it is writable and reachable."
            ),
            reason=storage_cause(exc),
        ),
        err=True,
    )
    ctx.exit(1)
