"""The review's notes and prevention actions: kinds, states and their checks; pure (R31).

An action moves open → done → effective or not_effective, by an effect
check with a date and a result. A failed check does not reopen the action:
it asks for a re-fix, a new action linked to it, so the review keeps what
was tried and that it did not work (the guides' "効果検証 and a fix if it did not work").
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

from anshin.errors import Conflict, InvalidInput
from anshin.i18n import N_

NOTE_MAX = 5_000
TITLE_MAX = 300


class NoteKind(StrEnum):
    WENT_WELL = "went_well"
    TO_IMPROVE = "to_improve"
    CAUSE = "cause"


class CauseClass(StrEnum):
    """R31: the cause is named as a person's, a process's or a system's."""

    PERSON = "person"
    PROCESS = "process"
    SYSTEM = "system"


class ActionState(StrEnum):
    OPEN = "open"
    DONE = "done"
    EFFECTIVE = "effective"
    NOT_EFFECTIVE = "not_effective"


# What an effect check found, as the console's form and ``anshin review action check`` say it.
CHECK_RESULTS: tuple[str, ...] = (ActionState.EFFECTIVE.value, ActionState.NOT_EFFECTIVE.value)


def check_result(value: object) -> bool:
    """An effect check's result: effective (True) or not_effective (False), nothing else."""
    if value not in CHECK_RESULTS:
        raise InvalidInput(N_("Choose effective or not effective."), field="result")
    return value == ActionState.EFFECTIVE


def check_note(kind: object, body: object, cause_class: object) -> tuple[str, str, str | None]:
    """A note's kind, text and (for a cause, required) its class."""
    if kind not in {k.value for k in NoteKind}:
        raise InvalidInput(
            N_("The note must be one of: {kinds}."),
            field="kind",
            kinds=", ".join(k.value for k in NoteKind),
        )
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        raise InvalidInput(N_("Write the note."), field="body")
    if len(text) > NOTE_MAX:
        raise InvalidInput(N_("The note must be at most {n} characters."), field="body", n=NOTE_MAX)
    if kind == NoteKind.CAUSE:
        if cause_class not in {c.value for c in CauseClass}:
            raise InvalidInput(
                N_("Classify the cause: person, process or system."), field="cause_class"
            )
        return str(kind), text, str(cause_class)
    return str(kind), text, None


def check_action(title: object, due_on: object, *, today: dt.date) -> tuple[str, dt.date]:
    """A prevention action needs what will change and a due date that is not in the past."""
    text = " ".join(title.split()) if isinstance(title, str) else ""
    if not text:
        raise InvalidInput(N_("Write what will change."), field="title")
    if len(text) > TITLE_MAX:
        raise InvalidInput(
            N_("The action must be at most {n} characters."), field="title", n=TITLE_MAX
        )
    if not isinstance(due_on, dt.date):
        raise InvalidInput(N_("Give the due date."), field="due_on")
    if due_on < today:
        raise InvalidInput(N_("The due date is in the past."), field="due_on")
    return text, due_on


def parse_day(value: object, field: str) -> dt.date:
    """A day typed as YYYY-MM-DD, ASCII digits only (「２０２６」 or "²" refused, not guessed)."""
    text = value.strip() if isinstance(value, str) else ""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise InvalidInput(N_("Give the date as YYYY-MM-DD."), field=field)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(N_("Give the date as YYYY-MM-DD."), field=field) from None
    if not 2000 <= day.year <= 2100:
        raise InvalidInput(N_("Give a date between 2000 and 2100."), field=field)
    return day


def check_done(state: str) -> None:
    if state != ActionState.OPEN:
        raise Conflict(N_("Only an open action can be marked done."), field="state")


def check_effect(
    state: str, checked_on: object, *, done_on: dt.date, today: dt.date | None = None
) -> dt.date:
    """An effect check is made on a done action, on or after the day it was done.

    With ``today`` (the console and the CLI give it), a check cannot be dated in the future:
    an effect is judged on what was seen, not on what is expected.
    """
    if state != ActionState.DONE:
        raise Conflict(N_("Check the effect of an action once it is done."), field="state")
    if not isinstance(checked_on, dt.date):
        raise InvalidInput(N_("Give the date of the check."), field="checked_on")
    if checked_on < done_on:
        raise InvalidInput(
            N_("The check cannot be before the action was done."), field="checked_on"
        )
    if today is not None and checked_on > today:
        raise InvalidInput(N_("The check cannot be dated in the future."), field="checked_on")
    return checked_on


def check_refix(state: str) -> None:
    if state != ActionState.NOT_EFFECTIVE:
        raise Conflict(N_("A re-fix follows an action whose effect check failed."), field="state")


def is_overdue(state: str, due_on: dt.date, today: dt.date) -> bool:
    """An open action past its due date (shown on the dashboard)."""
    return state == ActionState.OPEN and due_on < today
