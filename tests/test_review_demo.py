"""``anshin demo`` leaves the resolved incident with its review filled (R30–R33), once."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anshin import events
from anshin.config import Settings
from anshin.demo import RESOLVED_TITLE, REVIEW_ITEM, load_demo
from anshin.incidents.models import Incident
from anshin.inquiries.models import Inquiry
from anshin.review import actions, dashboard, feedback, metrics
from anshin.review.models import Drill, DrillAttempt
from anshin.team.models import User


def test_the_demo_fills_the_resolved_incidents_review_once(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        report = load_demo(session, settings, actor="demo", inquiries=0)
        session.commit()
    assert REVIEW_ITEM in report.created
    with sessions() as session:
        incident = session.scalars(select(Incident).where(Incident.title == RESOLVED_TITLE)).one()
        assert incident.status == "resolved"
        linked = session.scalars(select(Inquiry).where(Inquiry.incident_id == incident.id)).all()
        assert len(linked) == 4 and all(q.first_responded_at for q in linked)
        notes = actions.notes(session, incident)
        assert Counter(n.kind for n in notes) == {"went_well": 2, "to_improve": 1, "cause": 2}
        assert {n.cause_class for n in notes if n.kind == "cause"} == {"system", "process"}
        done, still = actions.actions(session, incident)
        assert done.state == "effective" and [c.effective for c in actions.checks(session, done)]
        assert still.state == "open"
        # The open one is past its due date: the dashboard's panel shows it.
        anyone = session.scalars(select(User)).first()
        assert anyone is not None
        panel = dashboard.overdue_panel(session, settings, anyone)
        assert panel is not None and [a.id for a, _ref in panel[1]["overdue"]] == [still.id]
        assert sorted(a.score for a in feedback.answers(session, incident)) == [2, 4, 5]
        got = metrics.for_incident(session, incident.reference)
        assert got["inquiries_total"] == 4 and got["csat_responses"] == 3
        assert got["csat_average"] is not None and 3.6 < got["csat_average"] < 3.7
        drills = session.scalars(select(Drill).order_by(Drill.id)).all()
        assert [d.label for d in drills] == ["good", "bad"]
        # Anonymised: no caller's name is in a drill.
        for drill in drills:
            assert "小林" not in drill.customer_text + drill.sent_reply
        assert drills[0].sent_reply and drills[1].note
        assert session.scalar(select(func.count()).select_from(DrillAttempt)) == 0
        before = session.scalar(select(func.count()).select_from(events.Event))

    with sessions() as session:
        again = load_demo(session, settings, actor="demo", inquiries=0)
        session.commit()
        assert again.created == []
        assert session.scalar(select(func.count()).select_from(events.Event)) == before
