"""What a history file may hold, checked before anything is written (docs/review-import.md).

``anshin incident import FILE.json`` loads a past incident with its own times
(issue 10, section 8). Everything here is pure: :func:`parse` turns the decoded
JSON into :class:`History` or raises :class:`HistoryError` naming the JSON path
of the first value it cannot take (``updates[2].published_at``), so a refused
file changes nothing. The order checks are the ones a live incident cannot break
(R1: started ≤ detected ≤ declared; no update before the declaration; no reply
before the inquiry came; escalations only upwards, one after the other).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.incidents.rules import AUDIENCES, IMPACTS, SEVERITIES, STATUSES, UPDATE_KINDS
from anshin.inputs import BadInput, check_storable, parse_time
from anshin.inquiries.rules import Channel, CommitmentKind, Intent, Tier

REFERENCE = re.compile(r"[A-Za-z0-9-]{1,20}")
TEXT_MAX = 20_000
NAME_MAX = 200
EMAIL_MAX = 254
PHONE_MAX = 40
LEVELS = (1, 2, 3)
# A commitment in a spreadsheet rarely says what kind it was: a written result is the
# commonest promise of an incident (docs/review-import.md).
DEFAULT_COMMITMENT_KIND = CommitmentKind.INVESTIGATION_RESULT

REQUIRED = N_("This field is required.")
NOT_TEXT = N_("Expected text.")
NOT_OBJECT = N_("Expected an object.")
NOT_LIST = N_("Expected a list.")
NOT_BOOL = N_("Expected true or false.")
NOT_NUMBER = N_("Enter a whole number from {low} to {high}.")
TOO_LONG = N_("At most {n} characters.")
UNKNOWN = N_("Unknown value: {value}. Choose one of: {choices}.")
OUT_OF_ORDER = N_("This time is before {other}: the history must keep its order.")
BAD_REFERENCE = N_("A reference is ASCII letters, digits and '-', at most 20 characters.")
DUPLICATE_ID = N_("The id {value} is used twice in this file.")
LEVEL_NOT_UP = N_("An escalation goes up: from level {before} to {after} is not one.")
SECOND_ANSWER = N_("{value} already answered at feedback[{other}]: one answer per customer.")


class HistoryError(BadInput):
    """A value of the file that cannot be imported, with the JSON path that holds it."""

    def __init__(self, msgid: str, /, path: str, **params: Any) -> None:
        super().__init__(msgid, **params)
        self.path = path


@dataclass(frozen=True)
class Update:
    kind: str
    status: str
    audience: str
    body_ja: str
    body_en: str | None
    published_at: dt.datetime
    next_update_at: dt.datetime | None
    delivered: int | None
    last_delivered_at: dt.datetime | None


@dataclass(frozen=True)
class Escalation:
    at: dt.datetime
    from_level: int
    to_level: int
    reason: str


@dataclass(frozen=True)
class Promise:
    what: str
    owner: str
    kind: str
    due_at: dt.datetime
    kept_at: dt.datetime | None


@dataclass(frozen=True)
class Asked:
    source_id: str | None
    received_at: dt.datetime
    channel: str
    name: str | None
    email: str | None
    phone: str | None
    tier: str
    text: str
    intent: str | None
    first_response_at: dt.datetime | None
    closed_at: dt.datetime | None
    escalations: list[Escalation]
    commitments: list[Promise]

    @property
    def level(self) -> int:
        """The level it ended at: the last escalation's, else 1."""
        return self.escalations[-1].to_level if self.escalations else 1


@dataclass(frozen=True)
class Answer:
    email: str
    score: int
    comment: str
    at: dt.datetime


@dataclass(frozen=True)
class History:
    """One incident as the file tells it, every value checked."""

    reference: str
    title: str
    title_en: str | None
    summary: str
    severity: str
    status: str
    started_at: dt.datetime
    detected_at: dt.datetime
    declared_at: dt.datetime
    resolved_at: dt.datetime | None
    estimated_affected_customers: int | None
    cause: str | None
    cause_confirmed: bool
    components: list[tuple[str, str]]
    updates: list[Update] = field(default_factory=list)
    inquiries: list[Asked] = field(default_factory=list)
    feedback: list[Answer] = field(default_factory=list)

    @property
    def steps(self) -> int:
        """How many records the import writes, for the progress bar."""
        return 1 + len(self.updates) + len(self.inquiries) + len(self.feedback)


class _Reader:
    """Reads one JSON object, naming ``path.key`` in every refusal."""

    def __init__(self, data: Any, path: str, zone: str) -> None:
        if not isinstance(data, dict):
            raise HistoryError(NOT_OBJECT, path=path or "$")
        self.data, self.path, self.zone = data, path, zone

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None and required:
            raise HistoryError(REQUIRED, path=self.at(key))
        return value

    def text(self, key: str, limit: int = TEXT_MAX, *, required: bool = False) -> str | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise HistoryError(NOT_TEXT, path=self.at(key))
        value = value.strip()
        if required and not value:
            raise HistoryError(REQUIRED, path=self.at(key))
        if len(value) > limit:
            raise HistoryError(TOO_LONG, path=self.at(key), n=limit)
        try:
            check_storable(value)
        except InvalidInput as exc:
            raise HistoryError(exc.msgid, path=self.at(key), **exc.params) from None
        return value or None

    def need(self, key: str, limit: int = TEXT_MAX) -> str:
        value = self.text(key, limit, required=True)
        assert value is not None
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.text(key, 40, required=default is None) or default
        assert value is not None
        if value not in choices:
            raise HistoryError(UNKNOWN, path=self.at(key), value=value, choices=", ".join(choices))
        return value

    def number(self, key: str, low: int, high: int, *, required: bool = False) -> int | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise HistoryError(NOT_NUMBER, path=self.at(key), low=low, high=high)
        return value

    def flag(self, key: str) -> bool:
        value = self.raw(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise HistoryError(NOT_BOOL, path=self.at(key))
        return value

    def time(self, key: str, *, required: bool = False) -> dt.datetime | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise HistoryError(NOT_TEXT, path=self.at(key))
        try:
            return parse_time(value, self.zone, happened=True)
        except InvalidInput as exc:
            raise HistoryError(exc.msgid, path=self.at(key), **exc.params) from None

    def when(self, key: str) -> dt.datetime:
        value = self.time(key, required=True)
        assert value is not None
        return value

    def items(self, key: str) -> list[_Reader]:
        value = self.raw(key, False)
        if value is None:
            return []
        if not isinstance(value, list):
            raise HistoryError(NOT_LIST, path=self.at(key))
        return [_Reader(item, f"{self.at(key)}[{i}]", self.zone) for i, item in enumerate(value)]

    def after(self, key: str, value: dt.datetime | None, other: str, earliest: dt.datetime) -> None:
        """Refuse ``value`` (at ``key``) when it comes before ``earliest`` (named ``other``)."""
        if value is not None and value < earliest:
            raise HistoryError(OUT_OF_ORDER, path=self.at(key), other=other)


def parse(data: Any, zone: str) -> History:
    """The whole file checked, or :class:`HistoryError` for the first value that is wrong."""
    top = _Reader(data, "", zone)
    reference = top.need("reference", 20)
    if not REFERENCE.fullmatch(reference):
        raise HistoryError(BAD_REFERENCE, path="reference")
    started_at, detected_at, declared_at = (
        top.when(k) for k in ("started_at", "detected_at", "declared_at")
    )
    top.after("detected_at", detected_at, "started_at", started_at)
    top.after("declared_at", declared_at, "detected_at", detected_at)
    resolved_at = top.time("resolved_at")
    top.after("resolved_at", resolved_at, "declared_at", declared_at)
    updates = [_update(item, declared_at) for item in top.items("updates")]
    inquiries = [_inquiry(item) for item in top.items("inquiries")]
    seen: dict[str, int] = {}
    for index, (reader, asked) in enumerate(zip(top.items("inquiries"), inquiries, strict=True)):
        if asked.source_id is None:
            continue
        if asked.source_id in seen:
            raise HistoryError(DUPLICATE_ID, path=reader.at("id"), value=asked.source_id)
        seen[asked.source_id] = index
    status = "resolved" if resolved_at else (updates[-1].status if updates else "investigating")
    return History(
        reference=reference,
        title=top.need("title", 200),
        title_en=top.text("title_en", 200),
        summary=top.text("summary") or "",
        severity=top.choice("severity", SEVERITIES),
        status=status,
        started_at=started_at,
        detected_at=detected_at,
        declared_at=declared_at,
        resolved_at=resolved_at,
        estimated_affected_customers=top.number("estimated_affected_customers", 0, 2**31 - 1),
        cause=top.text("cause"),
        cause_confirmed=top.flag("cause_confirmed"),
        components=[
            (c.need("name", NAME_MAX), c.choice("impact", IMPACTS, "major_outage"))
            for c in top.items("components")
        ],
        updates=sorted(updates, key=lambda u: u.published_at),
        inquiries=inquiries,
        feedback=_feedback(top, declared_at),
    )


def _update(item: _Reader, declared_at: dt.datetime) -> Update:
    published_at = item.when("published_at")
    item.after("published_at", published_at, "declared_at", declared_at)
    next_update_at = item.time("next_update_at")
    item.after("next_update_at", next_update_at, "published_at", published_at)
    last_delivered_at = item.time("last_delivered_at")
    item.after("last_delivered_at", last_delivered_at, "published_at", published_at)
    return Update(
        kind=item.choice("kind", UPDATE_KINDS),
        status=item.choice("status", STATUSES),
        audience=item.choice("audience", AUDIENCES),
        body_ja=item.need("body_ja"),
        body_en=item.text("body_en"),
        published_at=published_at,
        next_update_at=next_update_at,
        delivered=item.number("delivered", 0, 2**31 - 1),
        last_delivered_at=last_delivered_at,
    )


def _inquiry(item: _Reader) -> Asked:
    received_at = item.when("received_at")
    source = item.raw("id", False)
    if isinstance(source, int) and not isinstance(source, bool):
        source_id: str | None = str(source)
    else:
        source_id = item.text("id", 64)
    customer = _Reader(item.raw("customer", False) or {}, item.at("customer"), item.zone)
    first_response_at = item.time("first_response_at")
    item.after("first_response_at", first_response_at, "received_at", received_at)
    closed_at = item.time("closed_at")
    item.after("closed_at", closed_at, "received_at", received_at)
    escalations: list[Escalation] = []
    level, since, since_name = 1, received_at, "received_at"
    for step in item.items("escalations"):
        at = step.when("at")
        step.after("at", at, since_name, since)
        to_level = step.number("to_level", 1, 3, required=True)
        assert to_level is not None
        if to_level <= level:
            raise HistoryError(LEVEL_NOT_UP, path=step.at("to_level"), before=level, after=to_level)
        escalations.append(Escalation(at, level, to_level, step.text("reason") or ""))
        level, since, since_name = to_level, at, step.at("at")
    promises = [
        Promise(
            what=c.need("what"),
            owner=c.need("owner", NAME_MAX),
            kind=c.choice("kind", tuple(CommitmentKind), DEFAULT_COMMITMENT_KIND),
            due_at=c.when("due_at"),
            kept_at=c.time("kept_at"),
        )
        for c in item.items("commitments")
    ]
    return Asked(
        source_id=source_id,
        received_at=received_at,
        channel=item.choice("channel", tuple(Channel)),
        name=customer.text("name", NAME_MAX),
        email=customer.text("email", EMAIL_MAX),
        phone=customer.text("phone", PHONE_MAX),
        tier=customer.choice("tier", tuple(Tier), Tier.STANDARD),
        text=item.need("text"),
        intent=item.text("intent", 40) and item.choice("intent", tuple(Intent)),
        first_response_at=first_response_at,
        closed_at=closed_at,
        escalations=escalations,
        commitments=promises,
    )


def _feedback(top: _Reader, declared_at: dt.datetime) -> list[Answer]:
    answers: list[Answer] = []
    first: dict[str, int] = {}
    for index, item in enumerate(top.items("feedback")):
        email = item.need("email", EMAIL_MAX).lower()
        if email in first:
            raise HistoryError(
                SECOND_ANSWER, path=item.at("email"), value=email, other=first[email]
            )
        first[email] = index
        at = item.when("at")
        item.after("at", at, "declared_at", declared_at)
        score = item.number("score", 1, 5, required=True)
        assert score is not None
        answers.append(Answer(email, score, item.text("comment") or "", at))
    return answers
