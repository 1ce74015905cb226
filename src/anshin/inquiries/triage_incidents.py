"""The open incidents as triage sees them: what each says about itself, read in one SELECT.

``IncidentProfile`` is an open incident's words (title, summary, components,
public updates, workaround, in both languages); ``open_profiles`` reads every
open incident's profile from the database. ``inquiries.triage`` matches
inquiries against them (and caches a triager per distinct set of rows).
Internal notes and internal updates never come in: triage reads only what
customers could have read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class IncidentProfile:
    """What an open incident tells about itself: the words triage matches inquiries against."""

    reference: str
    title: str
    summary: str = ""
    components: tuple[str, ...] = ()
    updates: tuple[str, ...] = ()
    workaround: str = ""
    has_workaround: bool = False
    id: int | None = None

    def text(self) -> str:
        """Every word of the profile in one text (for the word index)."""
        parts = [self.title, self.summary, *self.components, *self.updates, self.workaround]
        return "\n".join(p for p in parts if p)

    def heading(self) -> str:
        """Title and components: the words that name the incident (they weigh most)."""
        return "\n".join(p for p in (self.title, *self.components) if p)

    def body(self) -> str:
        """Summary, updates and workaround: what the incident says beyond its name."""
        return "\n".join(p for p in (self.summary, *self.updates, self.workaround) if p)

    def gist(self) -> str:
        """Title, components and summary: what the encoder compares an inquiry with."""
        return " / ".join(p for p in (self.title, " ".join(self.components), self.summary) if p)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IncidentProfile:
        """A profile from the labelled data set's JSON."""
        return cls(
            reference=str(data["reference"]),
            title=str(data.get("title", "")),
            summary=str(data.get("summary", "")),
            components=tuple(data.get("components", ())),
            updates=tuple(data.get("updates", ())),
            workaround=str(data.get("workaround") or ""),
            has_workaround=bool(data.get("has_workaround", False)),
        )


# One row per piece of an open incident's profile, in one statement (intake runs it per
# inquiry): ("i", id, reference, title, title_en, summary, summary_en, workaround,
# workaround_en), ("c", incident id, name, name_en, …) per component, ("u", incident id,
# body_ja, body_en, …) per public update. Padded with NULLs to one width for UNION ALL.
_WIDTH = 7


def _profile_rows() -> Any:
    from sqlalchemy import String, cast, literal, null, union_all

    from anshin.components.models import Component
    from anshin.incidents.models import Incident, IncidentComponent, IncidentUpdate
    from anshin.incidents.rules import Audience, IncidentStatus

    is_open = Incident.status != IncidentStatus.RESOLVED

    def padded(kind: str, key: Any, order: Any, *columns: Any) -> Any:
        cols = [*columns] + [null()] * (_WIDTH - len(columns))
        return select(literal(kind).label("k"), key.label("incident"), order.label("o"), *cols)

    incidents = padded(
        "i",
        Incident.id,
        Incident.id,
        Incident.reference,
        Incident.title,
        Incident.title_en,
        Incident.summary,
        Incident.summary_en,
        Incident.workaround,
        Incident.workaround_en,
    ).where(is_open)
    parts = (
        padded(
            "c",
            IncidentComponent.incident_id,
            IncidentComponent.id,
            Component.name,
            Component.name_en,
        )
        .join(Component, Component.id == IncidentComponent.component_id)
        .join(Incident, Incident.id == IncidentComponent.incident_id)
        .where(is_open)
    )
    updates = (
        padded(
            "u",
            IncidentUpdate.incident_id,
            IncidentUpdate.id,
            IncidentUpdate.body_ja,
            IncidentUpdate.body_en,
            cast(IncidentUpdate.published_at, String),  # text, to share the column with words
        )
        .join(Incident, Incident.id == IncidentUpdate.incident_id)
        .where(is_open, IncidentUpdate.audience == Audience.PUBLIC)
    )
    return union_all(incidents, parts, updates)


_ROWS_STATEMENT: Any = None


def profiles_from(rows: Sequence[Any]) -> list[IncidentProfile]:
    """The profiles the rows of ``_profile_rows`` describe (the same as the ORM would give)."""
    heads = sorted((r for r in rows if r[0] == "i"), key=lambda r: r[1])
    components: dict[int, list[str]] = {}
    for row in sorted((r for r in rows if r[0] == "c"), key=lambda r: r[2]):
        components.setdefault(row[1], []).extend(n for n in (row[3], row[4]) if n)
    updates: dict[int, list[str]] = {}
    # Oldest first, as the incident's page shows them (published_at, then id).
    for row in sorted((r for r in rows if r[0] == "u"), key=lambda r: (str(r[5]), r[2])):
        updates.setdefault(row[1], []).extend(b for b in (row[3], row[4]) if b)
    profiles = []
    for row in heads:
        incident_id = row[1]
        reference, title, title_en, summary, summary_en, work, work_en = row[3:10]
        workaround = "\n".join(w for w in (work, work_en) if w)
        profiles.append(
            IncidentProfile(
                reference=reference,
                title=" / ".join(t for t in (title, title_en) if t),
                summary="\n".join(s for s in (summary, summary_en) if s),
                components=tuple(components.get(incident_id, ())),
                updates=tuple(updates.get(incident_id, ())),
                workaround=workaround,
                has_workaround=bool(workaround.strip()),
                id=incident_id,
            )
        )
    return profiles


def read_rows(session: Session) -> tuple[tuple[Any, ...], ...]:
    global _ROWS_STATEMENT
    if _ROWS_STATEMENT is None:
        _ROWS_STATEMENT = _profile_rows()
    return tuple(tuple(row) for row in session.execute(_ROWS_STATEMENT))


def open_profiles(session: Session) -> list[IncidentProfile]:
    """Every incident not resolved, as a profile: titles, components, public updates, workaround.

    Both languages go in (title_en, body_en …): customers write in either.
    Internal notes and internal updates never do — triage reads only what
    customers could have read. One SELECT (``_profile_rows``), whatever the
    number of incidents.
    """
    return profiles_from(read_rows(session))
