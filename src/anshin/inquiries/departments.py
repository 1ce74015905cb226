"""The departments an inquiry may be shared with, managed by administrators (R21).

Each department is data (``models.Department``): labels in Japanese and
English, an internal mail address read in the department's language, an
optional webhook (the outbox's webhook lane, the same SSRF guard as a
subscriber's), and the routing — intents, components of the linked incident,
customer tiers — that ``rules.suggest_departments`` reads. Changes are events
(entity type ``department``) in the caller's transaction; nothing is deleted:
a department is disabled, so the history of what was shared with it stays whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events
from anshin.components.models import Component
from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Conflict, InvalidInput, NotFound
from anshin.i18n import N_
from anshin.inputs import text_problem
from anshin.inquiries import rules
from anshin.inquiries.models import Department
from anshin.notify import rules as notify_rules
from anshin.notify import subscribers

ENTITY = "department"
NAME_MAX = 200


@dataclass
class DepartmentInput:
    """What an administrator gives for a department (console form, CLI, API).

    ``components`` are component names (Japanese or English) or ids as text.
    """

    key: str
    name_ja: str
    name_en: str
    email: str
    locale: str = "ja"
    webhook_url: str | None = None
    intents: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)


def _name(value: str | None, field_name: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise InvalidInput(N_("Give the department a name in both languages."), field=field_name)
    if len(text) > NAME_MAX:
        raise InvalidInput(
            N_("{label} must be at most {n} characters."),
            field=field_name,
            label=field_name,
            n=NAME_MAX,
        )
    problem = text_problem(text)
    if problem:
        raise InvalidInput(problem, field=field_name)
    return text


def _component_ids(session: Session, names: list[str]) -> list[int]:
    """Component ids for names (ja or en) or ids; an unknown one is refused by name."""
    wanted = [n.strip() for n in names if n and n.strip()]
    if not wanted:
        return []
    known = list(session.scalars(select(Component).order_by(Component.position, Component.id)))
    found: list[int] = []
    for name in wanted:
        match = next(
            (c for c in known if name in (c.name, c.name_en) or name == str(c.id)),
            None,
        )
        if match is None:
            raise InvalidInput(N_("No such component: {name}."), field="components", name=name)
        if match.id not in found:
            found.append(match.id)
    return found


def _values(session: Session, settings: Settings, data: DepartmentInput) -> dict[str, Any]:
    """The checked column values, or the first refusal (its field names the form's)."""
    try:
        email = notify_rules.normalise_email(data.email)
    except InvalidInput as exc:
        raise InvalidInput(exc.msgid, field="email", **exc.params) from None
    webhook = (data.webhook_url or "").strip() or None
    if webhook is not None:
        try:
            webhook = subscribers.check_webhook_target(settings, webhook)
        except InvalidInput as exc:
            raise type(exc)(exc.msgid, field="webhook_url", **exc.params) from None
    return {
        "name_ja": _name(data.name_ja, "name_ja"),
        "name_en": _name(data.name_en, "name_en"),
        "email": email,
        "locale": notify_rules.check_locale(data.locale),
        "webhook_url": webhook,
        "intents": rules.check_department_intents(data.intents),
        "component_ids": _component_ids(session, data.components),
        "tiers": rules.check_department_tiers(data.tiers),
    }


def snapshot(row: Department) -> dict[str, Any]:
    """What an event records of a department."""
    return {
        "key": row.key,
        "name_ja": row.name_ja,
        "name_en": row.name_en,
        "email": row.email,
        "locale": row.locale,
        "webhook_url": row.webhook_url,
        "intents": list(row.intents or ()),
        "component_ids": list(row.component_ids or ()),
        "tiers": list(row.tiers or ()),
        "active": row.active,
    }


def _record(
    session: Session, row: Department, *, actor: str, action: str, before: Any, after: Any
) -> None:
    events.record(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=row.id,
        action=action,
        before=before,
        after=after,
    )


def add(
    session: Session,
    settings: Settings,
    data: DepartmentInput,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> Department:
    """A new department; a key already taken is refused (409)."""
    now = now or utcnow()
    key = rules.check_department_key(data.key)
    values = _values(session, settings, data)
    if session.scalar(select(Department.id).where(Department.key == key)) is not None:
        raise Conflict(N_("A department with the key {key} exists already."), field="key", key=key)
    row = Department(key=key, active=True, created_at=now, updated_at=now, **values)
    session.add(row)
    session.flush()
    _record(session, row, actor=actor, action="department.added", before=None, after=snapshot(row))
    return row


def update(
    session: Session,
    settings: Settings,
    row: Department,
    data: DepartmentInput,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> Department:
    """Change a department's labels, address, webhook or routing (its key stays)."""
    values = _values(session, settings, data)
    before = snapshot(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = now or utcnow()
    session.flush()
    _record(
        session, row, actor=actor, action="department.changed", before=before, after=snapshot(row)
    )
    return row


def set_active(
    session: Session, row: Department, active: bool, *, actor: str, now: dt.datetime | None = None
) -> Department:
    """Disable (no longer suggested nor reachable) or enable again."""
    if row.active == active:
        return row
    row.active = active
    row.updated_at = now or utcnow()
    session.flush()
    _record(
        session,
        row,
        actor=actor,
        action="department.enabled" if active else "department.disabled",
        before={"active": not active},
        after={"active": active},
    )
    return row


def get(session: Session, key: str) -> Department:
    """The department by key; 404 otherwise (text that could name none, a NUL, too)."""
    wanted = (key or "").strip().lower()
    found = None
    if len(wanted) <= rules.DEPARTMENT_KEY_MAX and not text_problem(wanted):
        found = session.scalar(select(Department).where(Department.key == wanted))
    if found is None:
        raise NotFound(N_("No such department: {key}."), key=key)
    return found


def listing(session: Session, *, active_only: bool = False) -> list[Department]:
    """Every department (or the active ones), by key."""
    stmt = select(Department).order_by(Department.key)
    if active_only:
        stmt = stmt.where(Department.active.is_(True))
    return list(session.scalars(stmt))


def routes(session: Session) -> list[rules.DepartmentRoute]:
    """The active departments' routing, for ``rules.suggest_departments``."""
    return [
        rules.DepartmentRoute(
            key=d.key,
            intents=frozenset(d.intents or ()),
            component_ids=frozenset(d.component_ids or ()),
            tiers=frozenset(d.tiers or ()),
        )
        for d in listing(session, active_only=True)
    ]


def component_names(session: Session, ids: list[int], locale: str) -> list[str]:
    """The names of the components ``ids``, in ``locale`` where there is one."""
    if not ids:
        return []
    rows = session.scalars(select(Component).where(Component.id.in_(ids)))
    return [c.name_en if locale == "en" and c.name_en else c.name for c in rows]


def as_dict(row: Department) -> dict[str, Any]:
    """A department as the API and ``anshin department list --format json`` show it."""
    return {
        "key": row.key,
        "name_ja": row.name_ja,
        "name_en": row.name_en,
        "email": row.email,
        "locale": row.locale,
        "webhook": bool(row.webhook_url),
        "intents": list(row.intents or ()),
        "component_ids": list(row.component_ids or ()),
        "tiers": list(row.tiers or ()),
        "active": row.active,
    }
