"""A signed-in admin and a small world of records, for the bad-input tests (tests/test_input_*.py).

Every kind of record a route can name exists once — an open incident with a
published notice and its deliveries, a second open incident to resolve, a
scheduled maintenance window, a subscriber, an API token — so that a route
given one hostile value and otherwise valid input reaches the code that reads
that value. :func:`digest` reads every table, to prove a refusal changed nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from anshin.config import Settings
from anshin.db import Base, utcnow
from anshin.incidents import components, maintenance, service
from anshin.incidents.models import Incident
from anshin.inquiries import commitments, departments
from anshin.inquiries import service as inquiry_service
from anshin.knowledge import service as knowledge
from anshin.notify import subscribers
from anshin.notify.models import Delivery, OutboxMessage
from anshin.review import actions as review_actions
from anshin.review.models import Drill
from anshin.team import service as team_service
from anshin.team.models import User
from notice_texts import FIRST_NOTICE_EN, FIRST_NOTICE_JA
from session_support import console_cookie

CSRF = "c" * 43
ACTOR = "user:fuzz"


@dataclass
class World:
    """The records the routes name, and the admin's session cookie."""

    cookie: str
    incident: str  # open, with a published first notice
    to_resolve: str  # open, no notice yet
    maintenance: str
    subscriber_id: int
    message_id: int
    delivery_id: int
    token_id: int
    user_id: int
    person_id: int  # an operator the admin manages (role, password, deactivation)
    inquiry: str = ""  # level 1, held by the operator (the admin, a lead, may take it over)
    request_id: int = 0  # a request of that inquiry (R24)
    commitment_id: int = 0  # a commitment of that inquiry (R24)
    article: str = ""  # a published knowledge base article's key (R17)
    drill_id: int = 0  # a training drill (R33)
    action_id: int = 0  # an open prevention action of ``incident`` (R31)
    done_action_id: int = 0  # a done one (its effect check)
    failed_action_id: int = 0  # one whose effect check failed (its re-fix)
    department: str = ""  # a department inquiries are shared with (R21)

    def headers(self, lang: str = "en") -> dict[str, str]:
        """A signed-in admin's cookie and CSRF header (the console's and the API's cookie way)."""
        return {
            "Cookie": f"anshin_session={self.cookie}",
            "X-CSRF-Token": CSRF,
            "Accept-Language": lang,
        }


def build(sessions: sessionmaker[Session], settings: Settings) -> World:
    """Seed the world through the services, as the console would."""
    now = utcnow()
    with sessions() as session:
        admin = team_service.create_user(
            session, email="admin@example.com", name="Admin", role="admin", password="long enough"
        )
        _raw, token = team_service.create_token(session, user=admin, name="ci", actor=ACTOR)
        person = team_service.create_user(
            session, email="agent@example.com", name="Agent", role="operator", password="x" * 12
        )
        login = components.add_component(session, "ログイン", name_en="Sign-in", actor=ACTOR)
        components.add_component(session, "決済", name_en="Payments", actor=ACTOR)
        subscriber = subscribers.subscribe_email(
            session,
            settings,
            email="reader@example.com",
            locale="ja",
            component_ids=[login.id],
            confirmed=True,
            actor=ACTOR,
        )
        incident = service.declare(
            session,
            settings,
            service.IncidentInput(
                title="ログインできない障害", severity="sev2", components=["ログイン"]
            ),
            actor=ACTOR,
        )
        service.publish_update(
            session,
            settings,
            incident,
            body_ja=FIRST_NOTICE_JA,
            body_en=FIRST_NOTICE_EN,
            status="investigating",
            next_update_at=None,
            audience="public",
            actor=ACTOR,
        )
        other = service.declare(
            session,
            settings,
            service.IncidentInput(title="決済の遅延", severity="sev3", components=["決済"]),
            actor=ACTOR,
        )
        start = (now + dt.timedelta(days=7)).replace(microsecond=0)
        window = maintenance.schedule(
            session,
            settings,
            title="定期メンテナンス",
            scheduled_start=start,
            scheduled_end=start + dt.timedelta(hours=2),
            components=["決済"],
            notify_subscribers=False,
            actor=ACTOR,
        )
        inquiry = inquiry_service.receive(
            session,
            settings,
            inquiry_service.NewInquiry(
                channel="chat", text="ログインできません", customer_name="佐藤"
            ),
            actor=ACTOR,
        )
        request = commitments.add_request(session, inquiry, "返金", actor=ACTOR)
        promise = commitments.add_commitment(
            session,
            settings,
            inquiry,
            by=admin,
            kind="callback",
            description="折り返し",
            due_at=now + dt.timedelta(days=2),
        )
        inquiry.claimed_by_id = person.id
        inquiry.claimed_at = now
        article = knowledge.save(
            session,
            {"key": "login-faq", "kind": "faq", "title": "ログインできない", "state": "published"},
            actor=ACTOR,
        )
        department = departments.add(
            session,
            settings,
            departments.DepartmentInput(
                "development", "開発部", "Development", "dev@example.com",
                intents=["technical_question"],
            ),
            actor=ACTOR,
        )  # fmt: skip
        session.commit()
        message = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert message is not None
        delivery = session.scalars(select(Delivery).where(Delivery.message_id == message.id)).one()
        delivery.status = "dead"
        drill = Drill(customer_text="ログインできません", created_by=admin.email)
        session.add(drill)
        prevention = _prevention_actions(session, incident, admin, now)
        session.commit()
        return World(
            cookie=console_cookie(session, settings, admin.id, CSRF),
            incident=incident.reference,
            to_resolve=other.reference,
            maintenance=window.reference,
            subscriber_id=subscriber.id,
            message_id=message.id,
            delivery_id=delivery.id,
            token_id=token.id,
            user_id=admin.id,
            person_id=person.id,
            inquiry=inquiry.reference,
            request_id=request.id,
            commitment_id=promise.id,
            article=article.key,
            drill_id=drill.id,
            action_id=prevention[0],
            done_action_id=prevention[1],
            failed_action_id=prevention[2],
            department=department.key,
        )


def _prevention_actions(
    session: Session, incident: Incident, owner: User, now: dt.datetime
) -> tuple[int, int, int]:
    """Three prevention actions of the incident: open, done, and one whose check failed."""
    today = now.date()
    made = [
        review_actions.add_action(
            session,
            incident,
            title=f"再発防止策 {n}",
            owner=owner,
            due_on=today + dt.timedelta(days=30),
            today=today,
            actor=ACTOR,
        )
        for n in range(3)
    ]
    for action in made[1:]:
        review_actions.mark_done(session, action, actor=ACTOR)
    review_actions.record_check(
        session,
        made[2],
        checked_on=today + dt.timedelta(days=1),
        effective=False,
        note="",
        actor=ACTOR,
        zone=dt.UTC,
    )
    return made[0].id, made[1].id, made[2].id


def _rows_sql() -> str:
    """Every row of every table as one text per row, read in one statement (one round trip)."""
    parts = []
    for table in Base.metadata.sorted_tables:
        columns = " || '|' || ".join(
            f"coalesce(CAST(\"{column.name}\" AS TEXT), '~')" for column in table.columns
        )
        parts.append(f"SELECT '{table.name}' AS t, {columns} AS r FROM \"{table.name}\"")
    return " UNION ALL ".join(parts)


def digest(sessions: sessionmaker[Session]) -> str:
    """A fingerprint of every row of every table: equal before and after means nothing changed."""
    with sessions() as session:
        rows = session.execute(text(_rows_sql())).all()
    hasher = hashlib.sha256()
    for table, row in sorted((str(t), str(r)) for t, r in rows):
        hasher.update(f"{table}\t{row}\n".encode("utf-8", "backslashreplace"))
    return hasher.hexdigest()
