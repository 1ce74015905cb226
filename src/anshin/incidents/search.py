"""Finding past and present incidents: words, component, severity, status, declared dates.

Agents answering an inquiry look for "the payment problem last Tuesday" (R2:
everyone answers from the one record). Words are matched as substrings,
case-insensitively, in the reference, the titles, the summaries and every
update's text (Japanese and English); each word must match somewhere. The
query is NFKC-normalised (full-width ＡＢＣ and half-width kana become what
people usually store). A Japanese-aware index (docs/design.md: SudachiPy, FTS5,
pg_trgm) replaces the substring match in a later issue; the filters stay.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from anshin.db import LIKE_ESCAPE, contains_pattern
from anshin.errors import InvalidInput, NotFound
from anshin.i18n import N_
from anshin.incidents import components, rules
from anshin.incidents.models import Incident, IncidentComponent, IncidentUpdate
from anshin.inputs import check_storable

QUERY_MAX = 200
MAX_WORDS = 8
# "open" is every status but resolved; otherwise one status of rules.STATUSES.
OPEN = "open"


@dataclass(frozen=True)
class Filters:
    """What to look for; empty fields do not filter."""

    q: str = ""
    component: str = ""  # a component's name or id
    severity: str = ""
    status: str = ""  # "open" or one status
    since: dt.date | None = None  # declared on or after this day (team's zone)
    until: dt.date | None = None  # declared on or before this day (team's zone)

    @property
    def active(self) -> bool:
        """True when any filter is set."""
        return any((self.q, self.component, self.severity, self.status, self.since, self.until))


def words(query: str) -> list[str]:
    """The words of a query, NFKC-normalised, at most MAX_WORDS; too long is refused."""
    text = unicodedata.normalize("NFKC", check_storable(query or "", field="q"))
    if len(text) > QUERY_MAX:
        raise InvalidInput(
            N_("The search is too long (at most {n} characters)."), field="q", n=QUERY_MAX
        )
    return text.split()[:MAX_WORDS]


def _day_start(day: dt.date, zone: str) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def _matches(word: str) -> ColumnElement[bool]:
    pattern = contains_pattern(word)
    in_update = exists().where(
        IncidentUpdate.incident_id == Incident.id,
        or_(
            IncidentUpdate.body_ja.ilike(pattern, escape=LIKE_ESCAPE),
            IncidentUpdate.body_en.ilike(pattern, escape=LIKE_ESCAPE),
        ),
    )
    return or_(
        Incident.reference.ilike(pattern, escape=LIKE_ESCAPE),
        Incident.title.ilike(pattern, escape=LIKE_ESCAPE),
        Incident.title_en.ilike(pattern, escape=LIKE_ESCAPE),
        Incident.summary.ilike(pattern, escape=LIKE_ESCAPE),
        Incident.summary_en.ilike(pattern, escape=LIKE_ESCAPE),
        in_update,
    )


def conditions(session: Session, filters: Filters, zone: str) -> list[ColumnElement[bool]]:
    """The WHERE clauses for ``filters``; a value that names nothing known is a 422."""
    where: list[ColumnElement[bool]] = [_matches(word) for word in words(filters.q)]
    if filters.component:
        try:
            component = components.get_component(session, filters.component)
        except NotFound as exc:
            raise InvalidInput(exc.msgid, field="component", **exc.params) from None
        where.append(
            exists().where(
                IncidentComponent.incident_id == Incident.id,
                IncidentComponent.component_id == component.id,
            )
        )
    if filters.severity:
        where.append(Incident.severity == rules.check_severity(filters.severity))
    if filters.status == OPEN:
        where.append(Incident.status != rules.IncidentStatus.RESOLVED)
    elif filters.status:
        where.append(Incident.status == rules.check_status(filters.status))
    if filters.since and filters.until and filters.since > filters.until:
        raise InvalidInput(N_("The first day must not be after the last day."), field="since")
    if filters.since:
        where.append(Incident.declared_at >= _day_start(filters.since, zone))
    if filters.until:
        next_day = filters.until + dt.timedelta(days=1)
        where.append(Incident.declared_at < _day_start(next_day, zone))
    return where


def search(
    session: Session, filters: Filters, zone: str, *, limit: int = 50, offset: int = 0
) -> tuple[list[Incident], int]:
    """A page of the incidents matching ``filters``, newest declared first, and the total."""
    where = conditions(session, filters, zone)
    stmt = (
        select(Incident)
        .where(*where)
        .order_by(Incident.declared_at.desc(), Incident.id.desc())
        .limit(limit)
        .offset(offset)
    )
    total = session.scalar(select(func.count()).select_from(Incident).where(*where)) or 0
    return list(session.scalars(stmt)), int(total)
