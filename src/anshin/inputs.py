"""What a person or a script may send, checked once for the JSON API, the console and the CLI.

Issue 7 found the same holes behind every front end: text the database cannot
store (NUL, which PostgreSQL refuses; lone surrogates, which no UTF-8 encoder
takes), ids past SQL ``bigint``, ``str.isdigit()`` letting "²" through to
``int()``, epoch numbers read as times in 1970, years that overflow when the
time is moved to another zone, ``true`` taken as a count. The rules live here:

- **text** is storable: no NUL, no lone surrogate (:func:`text_problem`);
- **ids** are ASCII digits from 1 to 2**63-1 (:func:`parse_id`, :func:`record_key`);
- **times** are ISO 8601 text with a date and a time, written between
  2000-01-01 and five years from today (:func:`parse_iso`, :func:`check_range`),
  moved to UTC by :func:`to_utc`, which therefore cannot overflow; a time
  something *happened* may be ahead of the server's clock by a small skew only.

The API's request models build on :class:`StrictInput` and the annotated types
below (:data:`Text`, :data:`Time`, :data:`DbId`, :data:`Count`, :data:`Ref`);
the console's forms and the CLI call the functions. A refusal is
:class:`BadInput`: HTTP 422 naming the field, or exit code 2 on the command line.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from anshin.errors import InvalidInput
from anshin.i18n import N_

BIGINT_MAX = 2**63 - 1
EARLIEST = dt.datetime(2000, 1, 1)
YEARS_AHEAD = 5
# How far ahead of the server's clock a time something happened may be (clocks differ).
CLOCK_SKEW = dt.timedelta(minutes=5)
REF_MAX = 64

NUL_MSGID = N_("Remove the NUL character (\\0): it cannot be stored.")
SURROGATE_MSGID = N_("The text is not valid Unicode (a lone surrogate). Send UTF-8 text.")
TIME_MSGID = N_("Enter a date and time (ISO 8601, e.g. 2026-11-22T15:30+09:00).")
EARLY_MSGID = N_("The time must be on or after 2000-01-01.")
LATE_MSGID = N_("The time must be at most {years} years from now.")
FUTURE_MSGID = N_("This time cannot be in the future.")
ID_MSGID = N_("An id is a whole number from 1 to {max} in ASCII digits (0-9).")
REF_MSGID = N_(
    "Give a reference such as INC-2026-0001 or a numeric id (ASCII letters, digits and '-')."
)

# A date and a time, ASCII digits only; "T" or a space between; an offset or Z optional.
_ISO = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_ASCII_ID = re.compile(r"[0-9]{1,19}")
_REF = re.compile(r"[A-Za-z0-9-]+")


class BadInput(InvalidInput):
    """A value no rule could accept: not storable, not a time, not an id (HTTP 422, CLI exit 2).

    Kept apart from the services' refusals (exit 1 on the command line) because
    nothing about the record's state could make it right: the input must change.
    """


# --- text -------------------------------------------------------------------------------


def text_problem(value: str) -> str | None:
    """The msgid saying why ``value`` cannot be stored, or None when it can."""
    if "\x00" in value:
        return NUL_MSGID
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MSGID
    return None


def check_storable(value: str, field: str | None = None) -> str:
    """``value`` unchanged, or :class:`BadInput` when the database could not store it."""
    problem = text_problem(value)
    if problem is not None:
        raise BadInput(problem, field=field)
    return value


def printable(value: str) -> str:
    """Text safe to send out: a lone surrogate becomes its escape (``\\ud800``), never a crash."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


# --- ids --------------------------------------------------------------------------------


# Digits an IME types (全角): read as ASCII where a person types a number, never for ids.
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def parse_count(text: str) -> int | None:
    """A number a person typed (0 … 2**63-1; full-width digits too), else None."""
    clean = text.strip().translate(_FULL_WIDTH_DIGITS)
    if not _ASCII_ID.fullmatch(clean):
        return None
    number = int(clean)
    return number if number <= BIGINT_MAX else None


def parse_id(value: str | int) -> int | None:
    """A database id from ASCII digits within ``bigint`` (1 … 2**63-1), else None.

    ``str.isdigit()`` is not enough: it accepts "²" and "١٢", which ``int()``
    refuses or reads as another number.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif _ASCII_ID.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if 1 <= number <= BIGINT_MAX else None


def looks_numeric(value: str) -> bool:
    """True for text of digits of any script ("42", "²", "١٢"): meant as an id."""
    text = value.strip()
    return bool(text) and all(ch.isdigit() or ch.isnumeric() for ch in text)


def record_key(value: str | int, field: str | None = None) -> int | str:
    """How to look a record up: an id (int) or a reference (stripped text).

    Refuses with :class:`BadInput` what can name no record: unstorable text,
    digits that are not an id (past 2**63-1, or not ASCII), a reference past
    :data:`REF_MAX` characters. Callers raise their own NotFound when nothing matches.
    """
    if isinstance(value, int):
        number = parse_id(value)
        if number is None:
            raise BadInput(ID_MSGID, field=field, max=BIGINT_MAX)
        return number
    text = check_storable(value, field).strip()
    number = parse_id(text)
    if number is not None:
        return number
    if looks_numeric(text):
        raise BadInput(ID_MSGID, field=field, max=BIGINT_MAX)
    if len(text) > REF_MAX:
        raise BadInput(REF_MSGID, field=field)
    return text


# --- times ------------------------------------------------------------------------------


def parse_iso(text: str, field: str | None = None) -> dt.datetime:
    """ISO 8601 text with a date and a time (offset optional) as a datetime, in range.

    Not a number of seconds since 1970, not a date alone, not week dates: what
    the docs show is what is read.
    """
    clean = check_storable(text, field).strip()
    if not _ISO.fullmatch(clean):
        raise BadInput(TIME_MSGID, field=field)
    try:
        value = dt.datetime.fromisoformat(clean)
    except ValueError:
        raise BadInput(TIME_MSGID, field=field) from None
    return check_range(value, field)


def check_range(value: dt.datetime, field: str | None = None) -> dt.datetime:
    """Refuse a time written before 2000 or more than :data:`YEARS_AHEAD` years from today.

    Compared as written (wall clock): the bounds are years away from where an
    offset could overflow, which is what makes :func:`to_utc` safe.
    """
    wall = value.replace(tzinfo=None)
    if wall < EARLIEST:
        raise BadInput(EARLY_MSGID, field=field)
    latest = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=366 * YEARS_AHEAD)
    if wall > latest:
        raise BadInput(LATE_MSGID, field=field, years=YEARS_AHEAD)
    return value


def to_utc(
    value: dt.datetime | None,
    zone: str,
    *,
    field: str | None = None,
    happened: bool = False,
    now: dt.datetime | None = None,
) -> dt.datetime | None:
    """A time someone sent, in range, as aware UTC; without an offset it is in ``zone``.

    ``happened`` marks a time something happened (started, detected): it may
    be ahead of the server's clock by :data:`CLOCK_SKEW` — then it is now —
    and no further.
    """
    if value is None:
        return None
    check_range(value, field)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    utc = value.astimezone(dt.UTC)
    if happened:
        current = now or dt.datetime.now(dt.UTC)
        if utc > current + CLOCK_SKEW:
            raise BadInput(FUTURE_MSGID, field=field)
        utc = min(utc, current)
    return utc


def parse_time(
    text: str, zone: str, *, field: str | None = None, happened: bool = False
) -> dt.datetime:
    """A time typed in a form or on the command line (``2026/11/22 15:30`` too) as UTC."""
    value = parse_iso(text.strip().replace("/", "-"), field)
    utc = to_utc(value, zone, field=field, happened=happened)
    assert utc is not None
    return utc


# --- the API's request models -----------------------------------------------------------


def _storable(value: str) -> str:
    problem = text_problem(value)
    if problem == NUL_MSGID:
        raise PydanticCustomError("text_nul", "NUL character")
    if problem is not None:
        raise PydanticCustomError("text_surrogate", "lone surrogate")
    return value


def _iso_time(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return check_range(value)
    if not isinstance(value, str):
        raise PydanticCustomError("time_format", "ISO 8601 text expected")
    try:
        return parse_iso(value)
    except BadInput as exc:
        kinds = {EARLY_MSGID: "time_too_early", LATE_MSGID: "time_too_late"}
        raise PydanticCustomError(
            kinds.get(exc.msgid, "time_format"), "time refused", {"years": YEARS_AHEAD}
        ) from None


def _ref(value: str) -> str:
    _storable(value)
    try:
        record_key(value)
    except BadInput as exc:
        kind = "id_range" if exc.msgid == ID_MSGID else "ref_format"
        raise PydanticCustomError(kind, "not a reference", {"max": BIGINT_MAX}) from None
    if not _REF.fullmatch(value.strip()):
        raise PydanticCustomError("ref_format", "not a reference")
    return value


Text = Annotated[str, AfterValidator(_storable)]
"""Text the database can store: no NUL, no lone surrogate."""
Time = Annotated[dt.datetime, BeforeValidator(_iso_time)]
"""ISO 8601 text (never a number) within :func:`check_range`; documented as date-time."""
DbId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
"""A record's id: 1 … 2**63-1 (in a path or query, ASCII digits)."""
Count = Annotated[int, Field(ge=0, le=BIGINT_MAX)]
"""A number of things: 0 … 2**63-1."""
Ref = Annotated[str, Field(max_length=REF_MAX), AfterValidator(_ref)]
"""An incident or maintenance reference (INC-2026-0001) or a numeric id, in a path."""

# The pydantic error types above, for the API's message table (anshin.app).
ERROR_MESSAGES: dict[str, str] = {
    "text_nul": NUL_MSGID,
    "text_surrogate": SURROGATE_MSGID,
    "time_format": TIME_MSGID,
    "time_too_early": EARLY_MSGID,
    "time_too_late": LATE_MSGID,
    "id_range": ID_MSGID,
    "ref_format": REF_MSGID,
    # A message kind or a language outside the vocabulary, naming the valid ones.
    "kind_unknown": N_("Unknown template kind: {value}. Choose one of: {choices}."),
    "locale_unknown": N_("Unknown language: {value}. Choose one of: {choices}."),
}


class StrictInput(BaseModel):
    """A request body: unknown fields are refused, types are not coerced.

    ``true`` is not a count, ``1`` is not ``true``, ``12`` is not text, and a
    time is ISO 8601 text (:data:`Time`). A typo'd field name is a 422, not
    silently ignored.
    """

    model_config = ConfigDict(extra="forbid", strict=True)
