"""The customer-facing incident report, drafted from the record and published as the report notice.

R7: the resolution notice promised a report with the cause, what changes and
the organisation's reflection. R8: the report notice keeps that promise. The
report is the ``report_notice`` template's status-page text (the announcement
customers already expect) followed by the sections the guides ask for: what
happened, when, whom it affected (components, estimated customers,
inquiries), the cause, what we are changing, our reflection. The facts come
from the record through the same context every template uses
(``incidents.context``), so an unconfirmed cause is never stated (R3).

Publishing goes through :func:`anshin.incidents.lifecycle.publish_report`: the
message check (the same gate as every notice) runs on exactly this text, the
text is stored as the report notice's update, shown on the status page and
announced to subscribers; a refusal can be overridden by a senior with a
reason, as for notices. Nothing new is stored: the published report is that
update's body.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin.comms.kinds import MessageKind
from anshin.comms.rules import LOCALES
from anshin.config import Settings
from anshin.errors import InvalidInput
from anshin.i18n import N_, translate
from anshin.incidents import lifecycle
from anshin.incidents.context import UNCONFIRMED, incident_context
from anshin.incidents.models import Incident, IncidentUpdate
from anshin.inquiries.models import Inquiry
from anshin.review import actions

HEADING = "■ "  # a section heading line in the report text; the exports turn it into a heading
WRITTEN = ("changes", "reflection")  # the sections only a person can write


@dataclass(frozen=True)
class Written:
    """What the team writes for the report: what we change and our reflection, per language."""

    changes: Mapping[str, str]
    reflection: Mapping[str, str]

    def complete(self, locale: str) -> bool:
        """True when both sections are written in ``locale``."""
        return bool(
            (self.changes.get(locale) or "").strip() and (self.reflection.get(locale) or "").strip()
        )


NOTHING_WRITTEN = Written({}, {})


def _inquiries(session: Session, incident: Incident) -> int:
    return int(session.scalar(select(func.count()).where(Inquiry.incident_id == incident.id)) or 0)


def _section(locale: str, heading: str, body: str) -> str:
    return f"{HEADING}{translate(locale, heading)}\n{body.strip()}"


def draft_text(
    session: Session,
    settings: Settings,
    incident: Incident,
    locale: str,
    written: Written,
    now: dt.datetime,
) -> str:
    """The report in one language: the report_notice announcement, then each section (R7, R8).

    A section the team has not written yet reads "(not written yet)", which
    :func:`publish` refuses, so a draft can be read and exported before it is
    finished but never published unfinished.
    """
    facts = incident_context(settings, incident, locale, now, publish_affected=True, resolving=True)
    intro = lifecycle.report_draft(session, settings, incident, now)[locale]
    missing = translate(locale, N_("(not written yet)"))
    what = facts["title"]
    if facts["summary"]:
        what = f"{what}\n{facts['summary']}"
    when = translate(
        locale,
        N_("From {start} to {end} ({duration})."),
        start=facts["started_around"],
        end=facts["resolved_at"] or UNCONFIRMED[locale],
        duration=facts["duration"],
    )
    whom = "\n".join(
        (
            translate(
                locale,
                N_("・Services: {components} ({impact})"),
                components=facts["components_text"],
                impact=facts["impact_text"],
            ),
            translate(
                locale,
                N_("・Customers affected (estimate): {n}"),
                n=facts["affected_customers"],
            ),
            translate(locale, N_("・Inquiries received: {n}"), n=_inquiries(session, incident)),
        )
    )
    cause = facts["cause"] if facts["cause_confirmed"] and facts["cause"] else UNCONFIRMED[locale]
    sections = [
        _section(locale, N_("What happened"), what),
        _section(locale, N_("When it happened"), when),
        _section(locale, N_("Whom it affected"), whom),
        _section(locale, N_("The cause"), cause),
        _section(locale, N_("What we are changing"), written.changes.get(locale) or missing),
        _section(locale, N_("Our reflection"), written.reflection.get(locale) or missing),
    ]
    return "\n\n".join([intro.strip(), *sections])


def changes_from_actions(session: Session, incident: Incident, locale: str) -> str:
    """ "What we are changing" drafted from the review's prevention actions (R31), one a line.

    A starting point the team edits: an action's title is written for the team,
    and the customer reads what it becomes. Empty when no action is recorded.
    """
    return "\n".join(
        translate(locale, N_("・{title} (by {due})"), title=a.title, due=a.due_on.isoformat())
        for a in actions.actions(session, incident)
        if a.state != "not_effective"
    )


def published(session: Session, incident: Incident) -> IncidentUpdate | None:
    """The report as published: the latest report notice's update (what the check passed)."""
    return session.scalar(
        select(IncidentUpdate)
        .where(
            IncidentUpdate.incident_id == incident.id,
            IncidentUpdate.kind == MessageKind.REPORT_NOTICE,
        )
        .order_by(IncidentUpdate.published_at.desc(), IncidentUpdate.id.desc())
        .limit(1)
    )


def texts_for(
    session: Session,
    settings: Settings,
    incident: Incident,
    written: Written,
    now: dt.datetime,
) -> dict[str, str | None]:
    """The texts to publish: Japanese always, English when its two sections are written.

    An English report without its English sections would tell English readers
    less than the Japanese one; the report notice's English announcement (the
    template, filled by ``publish_report``) goes out instead.
    """
    return {
        locale: (
            draft_text(session, settings, incident, locale, written, now)
            if locale == "ja" or written.complete(locale)
            else None
        )
        for locale in LOCALES
    }


def publish(
    session: Session,
    settings: Settings,
    incident: Incident,
    written: Written,
    *,
    actor: str,
    actor_role: str,
    override_reason: str | None = None,
    now: dt.datetime,
) -> IncidentUpdate:
    """Check and publish the report as the report notice (R8), through the one existing path.

    Refused before the check when the Japanese "what we are changing" or
    "our reflection" is empty; the message check and its override are
    ``publish_report``'s.
    """
    for name in WRITTEN:
        if not (getattr(written, name).get("ja") or "").strip():
            raise InvalidInput(
                N_("Write what we are changing and our reflection before publishing."),
                field=f"{name}_ja",
            )
    texts = texts_for(session, settings, incident, written, now)
    return lifecycle.publish_report(
        session,
        settings,
        incident,
        body_ja=texts["ja"] or "",
        body_en=texts["en"],
        actor=actor,
        actor_role=actor_role,
        override_reason=override_reason,
        now=now,
    )
