"""The incident as a message reads it: one SELECT, and a copy reused while its rows stay the same.

Every inquiry of a surge that triage links to an incident gets an
acknowledgement with that incident's facts (``inquiries.intake_ack``, R18):
hundreds a minute, nearly always the same incident. Through the ORM each one
costs three SELECTs (the row, its components, its updates) and the objects
built from them. Here one ``UNION ALL`` statement reads the same rows, and the
rows themselves are the key of a per-process cache of the objects, as the
triager's cache in ``inquiries.triage`` is keyed: whatever changes — a new
update, an edited field, a renamed component — and whichever process or
server changed it, the next read returns other rows, so another copy. Nothing
is assumed about time or about one process.

What is cached is a detached copy (never added to a session, no lazy loads),
shared by threads and only read: ``incidents.context`` builds a message's
variables from it. Code that changes an incident loads it through the ORM.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Table, bindparam, cast, literal, null, select, union_all
from sqlalchemy.orm import Session

from anshin.components.models import Component
from anshin.incidents.models import Incident, IncidentComponent, IncidentUpdate

CACHE_MAX = 32  # distinct incident states kept per process; then the cache starts again
_PARTS: tuple[tuple[str, Any], ...] = (
    ("i", Incident),
    ("c", IncidentComponent),
    ("m", Component),
    ("u", IncidentUpdate),
)
_cache: dict[tuple[Any, ...], Incident] = {}
_lock = threading.Lock()
_statement: Any = None
_REFERENCES = "anshin.incidents.reading.references"  # session.info: id → reference


def _columns() -> list[tuple[str, Column[Any]]]:
    """Every column of the four tables, with the part it belongs to (a fixed order)."""
    found: list[tuple[str, Column[Any]]] = []
    for part, model in _PARTS:
        table: Table = model.__table__
        found.extend((part, column) for column in table.columns)
    return found


def _select(kind: str, present: set[str]) -> Any:
    """One branch of the union: its own tables' columns, typed NULLs for the others."""
    chosen: list[Any] = [literal(kind).label("k")]
    for part, column in _columns():
        label = f"{part}_{column.name}"
        value = column if part in present else cast(null(), column.type)
        chosen.append(value.label(label))
    return select(*chosen)


def _build_statement() -> Any:
    """incident row ("i"), a row per component it affects ("c"), a row per update ("u")."""
    wanted: Any = bindparam("incident_id")
    head = _select("i", {"i"}).where(Incident.id == wanted)
    parts = (
        _select("c", {"c", "m"})
        .select_from(IncidentComponent)
        .join(Component, Component.id == IncidentComponent.component_id)
        .where(IncidentComponent.incident_id == wanted)
    )
    updates = _select("u", {"u"}).where(IncidentUpdate.incident_id == wanted)
    return union_all(head, parts, updates)


def _rows(session: Session, incident_id: int) -> tuple[tuple[Any, ...], ...]:
    global _statement
    if _statement is None:
        _statement = _build_statement()
    result = session.connection().execute(_statement, {"incident_id": incident_id})
    # Components in the order they were added, updates oldest first (as the ORM orders them).
    return tuple(sorted((tuple(row) for row in result), key=_order))


_INDEX: dict[str, int] = {}


def _index(name: str) -> int:
    if not _INDEX:
        _INDEX.update({f"{p}_{c.name}": i + 1 for i, (p, c) in enumerate(_columns())})
    return _INDEX[name]


def _order(row: tuple[Any, ...]) -> tuple[Any, ...]:
    kind = row[0]
    if kind == "c":
        return (1, row[_index("c_id")])
    if kind == "u":
        return (2, str(row[_index("u_published_at")]), row[_index("u_id")])
    return (0,)


def _made(model: Any, part: str, row: Sequence[Any]) -> Any:
    """A transient ``model`` with the row's values of its columns."""
    table: Table = model.__table__
    values = {column.key: row[_index(f"{part}_{column.name}")] for column in table.columns}
    return model(**values)


def _build(rows: Sequence[tuple[Any, ...]]) -> Incident:
    incident: Incident = _made(Incident, "i", next(r for r in rows if r[0] == "i"))
    incident.components = [
        _with_component(_made(IncidentComponent, "c", row), _made(Component, "m", row))
        for row in rows
        if row[0] == "c"
    ]
    incident.updates = [_made(IncidentUpdate, "u", row) for row in rows if row[0] == "u"]
    return incident


def _with_component(part: IncidentComponent, component: Component) -> IncidentComponent:
    part.component = component
    return part


def for_messages(session: Session, incident_id: int) -> Incident | None:
    """The incident with its components and updates as they are now, for composing (read only).

    One SELECT in the caller's transaction; the objects are built only when
    the rows differ from every copy this process keeps. None when there is no
    such incident.
    """
    rows = _rows(session, incident_id)
    if not any(row[0] == "i" for row in rows):
        return None
    with _lock:
        found = _cache.get(rows)
    if found is None:
        found = _build(rows)
        with _lock:
            if len(_cache) >= CACHE_MAX:
                _cache.clear()
            _cache[rows] = found
    session.info.setdefault(_REFERENCES, {})[incident_id] = found.reference
    return found


def reference(session: Session, incident_id: int) -> str | None:
    """The incident's reference: the one this session's ``for_messages`` read, else one SELECT.

    A reference never changes once given (``anshin.references``).
    """
    known: dict[int, str] = session.info.get(_REFERENCES, {})
    if incident_id in known:
        return known[incident_id]
    return session.scalar(select(Incident.reference).where(Incident.id == incident_id))
