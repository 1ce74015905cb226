"""The shared input rules (anshin.inputs), hand-picked cases and Hypothesis's.

Every front end leans on these functions, so each one must do exactly one of
two things with any value at all: give back something the database can store
and the clock can convert, or refuse with :class:`BadInput`. Hypothesis feeds
them arbitrary text, datetimes at the edges of Python's range and every UTC
offset; a ``ValueError``, ``OverflowError`` or ``UnicodeEncodeError`` escaping
would be the 500s and tracebacks of issue 7.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from anshin.incidents.schemas import IncidentCreate, MaintenanceCreate
from anshin.inputs import (
    BIGINT_MAX,
    CLOCK_SKEW,
    BadInput,
    parse_count,
    parse_id,
    parse_time,
    printable,
    record_key,
    text_problem,
    to_utc,
)

ZONES = ("Asia/Tokyo", "Pacific/Kiritimati", "Etc/GMT+12", "UTC", "America/St_Johns")
quick = settings(max_examples=200, deadline=None, database=None)


def test_ids_are_ascii_digits_within_bigint() -> None:
    assert parse_id("42") == 42
    assert parse_id(" 7 ") == 7
    assert parse_id(str(BIGINT_MAX)) == BIGINT_MAX
    for text in ("²", "١٢", "１２", str(BIGINT_MAX + 1), "0", "-1", "1e3", "", "1_000", "0x10"):
        assert parse_id(text) is None, text
    assert parse_id(True) is None
    assert parse_count("０") == 0  # a number a person types with a Japanese IME
    assert parse_count("１２") == 12
    assert parse_count("١٢") is None


def test_a_record_key_is_an_id_or_a_reference_or_refused() -> None:
    assert record_key("12") == 12
    assert record_key(" inc-2026-0001 ") == "inc-2026-0001"
    assert record_key("ログイン") == "ログイン"  # a component's name
    for text in ("²", "١٢", str(2**63), "a\x00b", "\ud800", "x" * 65):
        with pytest.raises(BadInput):
            record_key(text)
    with pytest.raises(BadInput):
        record_key(2**63)


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("2026-11-22T15:30", False),
        ("2026-11-22 15:30:05+09:00", False),
        ("2026/11/22 15:30", False),
        ("2026-11-22T06:30Z", False),
        ("2026-11-22", True),  # a date is not a time
        ("1700000000", True),  # seconds since 1970
        ("1999-12-31T23:59", True),
        ("0001-01-01T00:00", True),
        ("9999-12-31T23:59:59-12:00", True),
        ("2026-W47-1T10:00", True),
        ("２０２６-11-22T15:30", True),
        ("2026-02-30T10:00", True),
        ("2026-11-22T24:00", True),
    ],
)
def test_times_people_type(text: str, refused: bool) -> None:
    if refused:
        with pytest.raises(BadInput):
            parse_time(text, "Asia/Tokyo", field="when")
    else:
        value = parse_time(text, "Asia/Tokyo", field="when")
        assert value.tzinfo is dt.UTC


def test_a_time_something_happened_is_not_in_the_future() -> None:
    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    ahead = now + CLOCK_SKEW / 2
    assert to_utc(ahead, "UTC", field="started_at", happened=True, now=now) == now
    with pytest.raises(BadInput) as refused:
        to_utc(now + 2 * CLOCK_SKEW, "UTC", field="started_at", happened=True, now=now)
    assert refused.value.field == "started_at"


@quick
@given(st.text())
def test_any_text_is_either_storable_or_named_and_always_printable(text: str) -> None:
    problem = text_problem(text)
    if problem is None:
        text.encode("utf-8")
        assert "\x00" not in text
    printable(text).encode("utf-8")


@quick
@given(st.text())
def test_any_text_as_a_time_is_a_utc_time_in_range_or_refused(text: str) -> None:
    for zone in ZONES[:2]:
        try:
            value = parse_time(text, zone)
        except BadInput:
            continue
        assert value.tzinfo is dt.UTC
        assert 1999 <= value.year <= dt.datetime.now(dt.UTC).year + 6


@quick
@given(
    st.datetimes(min_value=dt.datetime.min, max_value=dt.datetime.max),
    st.one_of(
        st.none(),
        st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
            lambda m: dt.timezone(dt.timedelta(minutes=m))
        ),
    ),
    st.sampled_from(ZONES),
)
def test_no_time_overflows_on_conversion(
    value: dt.datetime, offset: dt.tzinfo | None, zone: str
) -> None:
    try:
        converted = to_utc(value.replace(tzinfo=offset), zone, field="at")
    except BadInput:
        return
    assert converted is not None
    converted.astimezone(dt.timezone(dt.timedelta(hours=14)))
    converted.astimezone(dt.timezone(dt.timedelta(hours=-12)))


@quick
@given(st.text(max_size=30) | st.integers())
def test_any_key_is_an_id_a_reference_or_refused(value: str | int) -> None:
    try:
        key = record_key(value)
    except BadInput:
        return
    if isinstance(key, int):
        assert 1 <= key <= BIGINT_MAX
    else:
        assert text_problem(key) is None and not key.isdigit()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=5,
)


@quick
@given(st.dictionaries(st.sampled_from(sorted(IncidentCreate.model_fields)), JSON_VALUES))
def test_a_request_body_is_valid_or_refused_never_a_crash(body: dict[str, Any]) -> None:
    """Whatever JSON arrives, validation either refuses it or yields storable, typed values."""
    for model in (IncidentCreate, MaintenanceCreate):
        try:
            parsed = model.model_validate({"title": "x", "severity": "sev1", **body})
        except ValidationError:
            continue
        for name, value in parsed:
            if isinstance(value, str):
                assert text_problem(value) is None, name
            if isinstance(value, bool):
                assert body.get(name, value) is value, name
            if isinstance(value, dt.datetime):
                assert isinstance(body[name], str), name
