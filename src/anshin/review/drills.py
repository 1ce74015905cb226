"""Training drills from past inquiries (R33): made by a supervisor, answered by trainees.

The feedback a trainee sees after writing a reply is what the product
already knows how to say: the message check's findings on their text, the
knowledge articles that match the customer's words, and the reply that was
actually sent (anonymised like the question). Each attempt is stored with the
findings as shown, so a supervisor can follow a trainee's progress.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin import events
from anshin.comms.lint import Finding, check
from anshin.db import utcnow
from anshin.errors import Forbidden, NotFound
from anshin.i18n import N_
from anshin.incidents.models import Incident
from anshin.inquiries import service as inquiries
from anshin.knowledge import rules as kb_rules
from anshin.knowledge import search as kb_search
from anshin.knowledge import service as kb
from anshin.review import drill_rules
from anshin.review.models import ENTITY_DRILL, Drill, DrillAttempt
from anshin.team.models import User
from anshin.team.rules import Role

REPLY_KIND = "inquiry_reply"
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)


def require_supervisor(user: User) -> None:
    """Making drills and reading every trainee's history is a supervisor's (R33)."""
    if user.role not in SUPERVISORS:
        raise Forbidden(N_("Only a supervisor can do this."))


@dataclass(frozen=True)
class Draft:
    """What a new drill would hold, anonymised, for the supervisor to read before saving."""

    customer_text: str
    sent_reply: str
    incident_title: str
    locale: str
    source_reference: str


def draft_from_inquiry(session: Session, reference: str) -> Draft:
    """The inquiry's first words and its last reply, with what identifies anyone removed."""
    inquiry = inquiries.get(session, reference)
    replies = [m for m in inquiry.messages if m.direction == "out"]
    authors = {m.author for m in inquiry.messages}
    staff_names = session.scalars(select(User.name).where(User.email.in_(authors))).all()
    names = [inquiry.customer_name, *staff_names]
    organisations = [inquiry.customer_org]

    def clean(text: str) -> str:
        return drill_rules.anonymise(text, names=names, organisations=organisations)

    incident = session.get(Incident, inquiry.incident_id) if inquiry.incident_id else None
    return Draft(
        customer_text=clean(inquiry.original_text),
        sent_reply=clean(replies[-1].body) if replies else "",
        incident_title=incident.title if incident else "",
        locale=inquiry.locale,
        source_reference=inquiry.reference,
    )


def create(
    session: Session,
    supervisor: User,
    *,
    customer_text: object,
    sent_reply: str = "",
    incident_title: str = "",
    locale: str = "ja",
    label: object = None,
    note: object = "",
    source_reference: str | None = None,
) -> Drill:
    """Save a drill (the text as the supervisor last saw and edited it)."""
    require_supervisor(supervisor)
    text, clean_label, note_text = drill_rules.check_drill(customer_text, label, note)
    source_id = inquiries.get(session, source_reference).id if source_reference else None
    drill = Drill(
        source_inquiry_id=source_id,
        incident_title=(incident_title or "")[:200],
        customer_text=text,
        sent_reply=(sent_reply or "").strip()[: drill_rules.TEXT_MAX],
        label=clean_label,
        note=note_text,
        locale=locale if locale in ("ja", "en") else "ja",
        created_by=supervisor.email,
        created_at=utcnow(),
    )
    session.add(drill)
    session.flush()
    events.record(
        session,
        actor=supervisor.email,
        entity_type=ENTITY_DRILL,
        entity_id=drill.id,
        action="review.drill_created",
        after={"source_inquiry_id": source_id, "label": clean_label},
    )
    return drill


def get(session: Session, drill_id: int) -> Drill:
    drill = session.get(Drill, drill_id)
    if drill is None:
        raise NotFound(N_("No such drill: {id}."), id=drill_id)
    return drill


def library(session: Session, label: str | None = None) -> list[Drill]:
    """Every drill, newest first; ``label`` keeps the good or the bad examples only."""
    statement = select(Drill).order_by(Drill.id.desc())
    if label:
        statement = statement.where(Drill.label == label)
    return list(session.scalars(statement))


@dataclass(frozen=True)
class Feedback:
    """What a trainee sees after sending a reply to a drill."""

    attempt: DrillAttempt
    findings: list[dict[str, Any]]
    articles: list[kb_search.Hit]
    sent_reply: str
    # The same findings as the check returned them: the page's findings macro groups them
    # by position (comms.lint.display), which the stored dicts cannot give it.
    checked: tuple[Finding, ...] = ()


def attempt(session: Session, drill: Drill, trainee: User, reply: object) -> Feedback:
    """Check the trainee's reply and keep it with its findings (R33)."""
    text = drill_rules.check_reply(reply)
    checked = check(
        text,
        kind=REPLY_KIND,
        locale=drill.locale,
        avoid_expressions=kb.published_avoid_expressions(session),
    )
    findings = [asdict(f) for f in checked]
    row = DrillAttempt(
        drill_id=drill.id, trainee_id=trainee.id, reply=text, findings=findings, created_at=utcnow()
    )
    session.add(row)
    session.flush()
    return Feedback(
        row, findings, matching_articles(session, drill), drill.sent_reply, tuple(checked)
    )


def stored_findings(attempt: DrillAttempt) -> list[Finding]:
    """An attempt's findings as the check made them (they are stored as plain data)."""
    fields = set(Finding.__dataclass_fields__)
    return [Finding(**{k: v for k, v in f.items() if k in fields}) for f in attempt.findings or []]


def matching_articles(session: Session, drill: Drill, limit: int = 3) -> list[kb_search.Hit]:
    """The published answers that match the customer's words (the knowledge base, R17)."""
    words = " ".join(drill.customer_text.split())[: kb_rules.QUERY_MAX]
    query = kb_rules.check_query(
        words,
        kinds=[
            kb_rules.Kind.FAQ,
            kb_rules.Kind.EXPLANATION,
            kb_rules.Kind.WORKAROUND,
            kb_rules.Kind.SCRIPT,
        ],
        state=kb_rules.State.PUBLISHED,
        limit=limit,
    )
    return kb_search.search(session, query)


@dataclass(frozen=True)
class TraineeSummary:
    trainee: User
    attempts: int
    errors: int  # error findings over all attempts
    last_at: Any


def attempts_of(session: Session, trainee: User) -> list[DrillAttempt]:
    """One trainee's attempts, newest first (their own page, and the supervisor's view)."""
    return list(
        session.scalars(
            select(DrillAttempt)
            .where(DrillAttempt.trainee_id == trainee.id)
            .order_by(DrillAttempt.id.desc())
        )
    )


def trainees(session: Session) -> list[TraineeSummary]:
    """Every trainee with attempts: how many, how many errors, when last (for supervisors)."""
    rows = session.execute(
        select(DrillAttempt.trainee_id, func.count(), func.max(DrillAttempt.created_at)).group_by(
            DrillAttempt.trainee_id
        )
    ).all()
    out: list[TraineeSummary] = []
    for trainee_id, count, last_at in rows:
        user = session.get(User, trainee_id)
        if user is None:
            continue
        errors = sum(
            1
            for a in attempts_of(session, user)
            for f in a.findings or []
            if f.get("severity") == "error"
        )
        out.append(TraineeSummary(user, int(count), errors, last_at))
    return sorted(out, key=lambda s: s.trainee.name)
