"""Pure decisions about inquiries: vocabularies, the flow, levels, authority, due times (no I/O).

R19 the flow: receive and record → listen and empathise → check the facts →
    propose a solution → report and carry it out → share internally.
R20 every handling is recorded (the service writes an event for each change).
R22 levels: L1 operator, L2 senior, L3 supervisor — who answers what.
R25 harassment goes to a path of its own (the supervisor's queue, level 3).
R27 authority is delegated by level: the authority matrix (data, ``policy.toml``)
    says which level may commit to what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from anshin.errors import Conflict, InvalidInput
from anshin.i18n import N_


class Channel(StrEnum):
    """How an inquiry reached us (R18): replies go back the same way (R21)."""

    FORM = "form"  # the form on the public status page
    CHAT = "chat"  # POST /api/inquiries from a chat widget; replies by webhook
    EMAIL = "email"  # anshin mail-in, anshin inquiry import
    PHONE = "phone"  # recorded by an agent during the call


class Tier(StrEnum):
    """The customer's tier: an important customer's complaint goes to level 3 (R22)."""

    STANDARD = "standard"
    IMPORTANT = "important"


class Intent(StrEnum):
    """What the customer wants, in triage order: the first that applies wins."""

    COMPENSATION_REQUEST = "compensation_request"
    DATA_CONCERN = "data_concern"
    COMPLAINT = "complaint"
    TECHNICAL_QUESTION = "technical_question"
    WORKAROUND_REQUEST = "workaround_request"
    STATUS_INQUIRY = "status_inquiry"
    UNRELATED = "unrelated"


INTENT_ORDER: tuple[str, ...] = tuple(Intent)


class Stage(StrEnum):
    """R19: the flow of a complaint, in order (受理 → 傾聴・共感 → … → 社内共有)."""

    RECEIVED = "received"  # 受理
    LISTENING = "listening"  # 傾聴・共感
    FACT_CHECKING = "fact_checking"  # 事実確認
    SOLUTION_PROPOSED = "solution_proposed"  # 解決策提示
    RESOLVED = "resolved"  # 結果報告・実行
    SHARED = "shared"  # 社内共有


STAGES: tuple[str, ...] = tuple(Stage)
# An inquiry in one of these stages is closed: it leaves the queues.
CLOSED_STAGES: frozenset[str] = frozenset({Stage.RESOLVED, Stage.SHARED})

# Each stage may move on to the next; a few may step back, because customers do:
# a proposal the customer disputes goes back to the facts, and a customer who
# writes again after the result reopens the conversation at listening.
TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.RECEIVED: frozenset({Stage.LISTENING}),
    Stage.LISTENING: frozenset({Stage.FACT_CHECKING}),
    Stage.FACT_CHECKING: frozenset({Stage.SOLUTION_PROPOSED, Stage.LISTENING}),
    Stage.SOLUTION_PROPOSED: frozenset({Stage.RESOLVED, Stage.FACT_CHECKING}),
    Stage.RESOLVED: frozenset({Stage.SHARED, Stage.LISTENING}),
    Stage.SHARED: frozenset({Stage.LISTENING}),
}

NOTE_MAX = 4000


def is_closed(stage: str) -> bool:
    """True when the inquiry has left the queues (R19: result reported, or shared)."""
    return stage in CLOSED_STAGES


def check_transition(
    current: str,
    target: str,
    *,
    has_result_reply: bool = False,
    note: str | None = None,
) -> None:
    """Refuse a move the flow does not allow, or one missing what its stage asks for (R19).

    ``resolved`` needs the reply that reported the result to the customer
    (``has_result_reply``); ``shared`` needs a note for the team.
    """
    if target not in STAGES:
        raise InvalidInput(N_("Unknown stage: {value}."), field="stage", value=target)
    if target == current:
        raise Conflict(N_("The inquiry is already at this stage."), field="stage")
    if target not in TRANSITIONS.get(current, frozenset()):
        raise Conflict(
            N_("An inquiry cannot move from {current} to {target}."),
            field="stage",
            current=current,
            target=target,
        )
    if target == Stage.RESOLVED and not has_result_reply:
        raise InvalidInput(
            N_("Send the reply that reports the result to the customer before closing."),
            field="reply",
        )
    if target == Stage.SHARED:
        text = (note or "").strip()
        if not text:
            raise InvalidInput(N_("Write a note for the team to share."), field="note")
        if len(text) > NOTE_MAX:
            raise InvalidInput(
                N_("The note must be at most {n} characters."), field="note", n=NOTE_MAX
            )


# R22, the call-centre table: what a level-1 operator hands on.
_HANDED_ON = frozenset({Intent.COMPLAINT, Intent.TECHNICAL_QUESTION, Intent.DATA_CONCERN})


def level_for(
    intent: str,
    *,
    harassment: bool,
    tier: str,
    incident_has_workaround: bool,
) -> int:
    """The level that answers first (R22, R25).

    3 (supervisor): a compensation request, harassment, or an important
      customer's complaint, technical question or data concern;
    2 (senior): a complaint, technical question or data concern, or a request
      for a workaround the incident does not have yet;
    1 (operator): the rest — status, a workaround that is recorded, unrelated.
    """
    if intent == Intent.COMPENSATION_REQUEST or harassment:
        return 3
    if tier == Tier.IMPORTANT and intent in _HANDED_ON:
        return 3
    if intent in _HANDED_ON:
        return 2
    if intent == Intent.WORKAROUND_REQUEST and not incident_has_workaround:
        return 2
    return 1


LEVELS: tuple[int, ...] = (1, 2, 3)
# A console role's level: operators answer at 1, seniors at 2, supervisors (and admins) at 3.
ROLE_LEVEL: dict[str, int] = {"operator": 1, "senior": 2, "supervisor": 3, "admin": 3}


def role_level(role: str) -> int:
    """The highest level a console role answers at (R22)."""
    return ROLE_LEVEL.get(role, 0)


def check_level(value: object) -> int:
    """A level 1–3 from user input, or a clear error."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(N_("The level must be 1, 2 or 3."), field="level")
    try:
        level = int(value)
    except ValueError:
        raise InvalidInput(N_("The level must be 1, 2 or 3."), field="level") from None
    if level not in LEVELS:
        raise InvalidInput(N_("The level must be 1, 2 or 3."), field="level")
    return level


class CommitmentKind(StrEnum):
    """What an agent may promise a customer (お約束); the authority matrix gives the level."""

    CALLBACK = "callback"  # a call back by a time
    INVESTIGATION_RESULT = "investigation_result"  # a written result of the investigation
    REFUND = "refund"
    CREDIT = "credit"
    CONTRACT_CHANGE = "contract_change"


class CommitmentState(StrEnum):
    """Where a commitment stands: open until kept, missed once its due time passes."""

    OPEN = "open"
    KEPT = "kept"
    MISSED = "missed"


class RequestDecision(StrEnum):
    """Our answer to a customer's request (お願い), R24."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ALTERNATIVE = "alternative"


@dataclass(frozen=True)
class Policy:
    """The team's data for inquiries (``policy.toml``): due times and the authority matrix.

    ``first_response_minutes[(level, tier)]``: minutes from receipt to the first
    response; ``authority[kind]``: the lowest level that may make that commitment
    (R27); ``wait_alert_minutes[level]``: the oldest wait that warns a lead (R28).
    """

    first_response_minutes: Mapping[tuple[int, str], int]
    authority: Mapping[str, int]
    wait_alert_minutes: Mapping[int, int] = field(default_factory=dict)


def first_response_due(
    policy: Policy, received_at: dt.datetime, *, level: int, tier: str
) -> dt.datetime:
    """When the first response is due for an inquiry of this level and tier (R18, R22)."""
    minutes = policy.first_response_minutes.get((level, tier))
    if minutes is None:
        minutes = policy.first_response_minutes.get((level, Tier.STANDARD), 60)
    return received_at + dt.timedelta(minutes=minutes)


def check_authority(policy: Policy, kind: str, level: int) -> None:
    """Refuse a commitment beyond the agent's level (R27): the matrix decides."""
    if kind not in policy.authority:
        raise InvalidInput(N_("Unknown kind of commitment: {value}."), field="kind", value=kind)
    needed = policy.authority[kind]
    if level < needed:
        raise Conflict(
            N_("Only level {needed} or above may commit to this; escalate the inquiry."),
            field="kind",
            needed=needed,
        )


def commitment_state(
    state: str, due_at: dt.datetime, now: dt.datetime, kept_at: dt.datetime | None = None
) -> str:
    """An open commitment whose due time has passed is missed (R24: the dashboard alerts)."""
    if state == CommitmentState.KEPT or kept_at is not None:
        return CommitmentState.KEPT
    if state == CommitmentState.OPEN and now > due_at:
        return CommitmentState.MISSED
    return state


def check_escalation(current: int, target: int, *, actor_level: int) -> None:
    """Escalate upwards, or de-escalate downwards by someone at the current level or above."""
    if target == current:
        raise Conflict(N_("The inquiry is already at level {level}."), field="level", level=target)
    if target < current and actor_level < current:
        raise Conflict(
            N_("Only level {level} or above may hand this inquiry back down."),
            field="level",
            level=current,
        )


def can_handle(agent_level: int, inquiry_level: int) -> bool:
    """An agent answers inquiries at their level and below (R22)."""
    return agent_level >= inquiry_level


TEMPERATURES: tuple[int, ...] = (0, 1, 2, 3)  # calm, worried, irritated, furious


def queue_order_key(
    due_at: dt.datetime | None, temperature: int, received_at: dt.datetime
) -> tuple[dt.datetime, int, dt.datetime]:
    """Queues list the earliest due first, the hottest first among equals (R22)."""
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return (due_at or far, -temperature, received_at)


# R21: what concerns other departments is shared with them. A department's routing
# is data (``models.Department``); these decide from it without I/O.
DEPARTMENT_KEY_MAX = 40
SHARE_NOTE_MAX = NOTE_MAX
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class DepartmentRoute:
    """One active department's routing: who it is and what it receives."""

    key: str
    intents: frozenset[str] = frozenset()
    component_ids: frozenset[int] = frozenset()
    tiers: frozenset[str] = frozenset()


def suggest_departments(
    routes: list[DepartmentRoute],
    *,
    intent: str,
    component_ids: frozenset[int] | set[int] = frozenset(),
    tier: str = Tier.STANDARD,
) -> list[str]:
    """The departments an inquiry concerns, in the routes' order (R21).

    A department is suggested when it receives the inquiry's intent (a technical
    question: development), a component of the linked incident, or the customer's
    tier (an important customer: sales). The agent adds or removes before sending.
    """
    found: list[str] = []
    for route in routes:
        if (
            intent in route.intents
            or bool(route.component_ids & set(component_ids))
            or tier in route.tiers
        ):
            found.append(route.key)
    return found


def check_department_key(value: str | None) -> str:
    """A department key: lower-case letters, digits, - and _, at most 40 characters."""
    key = (value or "").strip().lower()
    if not key:
        raise InvalidInput(N_("Give the department a key, e.g. development."), field="key")
    if len(key) > DEPARTMENT_KEY_MAX or not set(key) <= _KEY_CHARS:
        raise InvalidInput(
            N_("The key may hold only a-z, 0-9, - and _ (at most {n} characters)."),
            field="key",
            n=DEPARTMENT_KEY_MAX,
        )
    return key


def check_department_intents(values: list[str]) -> list[str]:
    """The intents a department receives: known ones only, each once, in triage order."""
    chosen = {v.strip() for v in values if v.strip()}
    unknown = sorted(chosen - set(INTENT_ORDER))
    if unknown:
        raise InvalidInput(
            N_("Unknown intent: {value}."), field="intents", value=", ".join(unknown)
        )
    return [i for i in INTENT_ORDER if i in chosen]


def check_department_tiers(values: list[str]) -> list[str]:
    """The customer tiers a department receives (standard, important)."""
    chosen = {v.strip() for v in values if v.strip()}
    if not chosen <= set(Tier):
        raise InvalidInput(N_("The customer tier must be standard or important."), field="tiers")
    return [t for t in Tier if t in chosen]


def check_share_note(note: str | None) -> str:
    """What the agent tells the departments: required, at most :data:`SHARE_NOTE_MAX`."""
    text = (note or "").strip()
    if not text:
        raise InvalidInput(N_("Write a note for the departments."), field="note")
    if len(text) > SHARE_NOTE_MAX:
        raise InvalidInput(
            N_("The note must be at most {n} characters."), field="note", n=SHARE_NOTE_MAX
        )
    return text
