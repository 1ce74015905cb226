"""The inquiry page put together (R19-R27), on SQLite and PostgreSQL: the reply box, the
handoff summary, requests and commitments on one page, their forms coming back to it; the
way from an incident's record to its inquiries; labels instead of codes on the reply to all;
the harassment queue's tab for supervisors only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from anshin.config import Settings
from anshin.team.models import User
from inquiry_world import GOOD_JA, incident, inquiry
from test_console_support import USERS, client_for, database, login, seed, text_of


@pytest.fixture
def world(settings: Settings) -> dict[str, str]:
    """Seeded users, an incident and an inquiry on it held by the operator."""
    seed(settings)
    with database(settings) as session:
        operator = session.scalar(select(User).where(User.email == USERS["operator"][0]))
        on = incident(session, settings)
        held = inquiry(session, settings, on, holder=operator)
        session.commit()
        return {"incident": on.reference, "held": held.reference}


def test_the_inquiry_page_holds_the_reply_box_the_sheet_and_the_promises(
    settings: Settings, world: dict[str, str]
) -> None:
    ref = world["held"]
    with client_for(settings) as client:
        token = login(client, "operator")
        page = client.get(f"/console/inquiries/{ref}")
        assert page.status_code == 200
        for part in ('id="reply"', 'id="reply_body"', 'id="handoff"', 'id="requests"'):
            assert part in page.text, part
        assert 'id="commitments"' in page.text
        assert "山田 花子 様" in page.text  # the draft from the template
        assert page.text.count('name="back" value="inquiry"') == 4  # reply, step, request, promise
        assert f'href="/console/inquiries/{ref}/handoff"' in page.text
        sent = client.post(
            f"/console/inquiries/{ref}/reply",
            data={"csrf_token": token, "body": GOOD_JA, "back": "inquiry"},
        )
        assert sent.status_code == 303 and sent.headers["location"] == f"/console/inquiries/{ref}"
        added = client.post(
            f"/console/inquiries/{ref}/requests",
            data={"csrf_token": token, "text": "復旧したら知らせてほしい", "back": "inquiry"},
        )
        assert added.headers["location"] == f"/console/inquiries/{ref}"
        # Any other value goes to the form's own page, never to an address from the form.
        elsewhere = client.post(
            f"/console/inquiries/{ref}/requests",
            data={"csrf_token": token, "text": "もう一つ", "back": "https://evil.example/"},
        )
        assert elsewhere.headers["location"] == f"/console/inquiries/{ref}/handoff"
        page = client.get(f"/console/inquiries/{ref}")
        assert "復旧したら知らせてほしい" in text_of(page.text)
        assert "返信" in text_of(page.text) and "お願いを記録" in text_of(page.text)


def test_an_incident_record_leads_to_its_inquiries_and_leads_to_the_reply_to_all(
    settings: Settings, world: dict[str, str]
) -> None:
    inc = world["incident"]
    with client_for(settings) as client:
        login(client, "operator")
        page = client.get(f"/console/incidents/{inc}")
        assert f'href="/console/inquiries?incident={inc}"' in page.text
        assert "累計 1件" in text_of(page.text)
        assert "/inquiries/reply-all" not in page.text  # an operator may not answer all
    with client_for(settings) as client:
        login(client, "senior")
        page = client.get(f"/console/incidents/{inc}")
        assert f'href="/console/incidents/{inc}/inquiries/reply-all"' in page.text
        answer_all = client.get(f"/console/incidents/{inc}/inquiries/reply-all")
        words = text_of(answer_all.text)
        assert "状況の問い合わせ" in words and "status_inquiry" not in words


@pytest.mark.parametrize(("role", "shown"), [("operator", False), ("supervisor", True)])
def test_the_harassment_queue_tab_is_for_supervisors(
    settings: Settings, world: dict[str, str], role: str, shown: bool
) -> None:
    with client_for(settings) as client:
        login(client, role)
        page = client.get("/console/inquiries")
        assert ('href="/console/inquiries/harassment"' in page.text) is shown


def test_a_closed_inquiry_shows_its_promises_without_the_forms_for_new_ones(
    settings: Settings, world: dict[str, str]
) -> None:
    """Once the result is reported, the page keeps the record and drops new-work forms."""
    from anshin.inquiries import replies, service

    ref = world["held"]
    with database(settings) as session:
        record = service.get(session, ref)
        agent = session.scalar(select(User).where(User.email == USERS["operator"][0]))
        assert agent is not None
        replies.reply(session, settings, record, agent, text=GOOD_JA, reports_result=True)
        for stage in ("listening", "fact_checking", "solution_proposed", "resolved"):
            service.move(session, record, stage, actor="test")
        session.commit()
    with client_for(settings) as client:
        login(client, "operator")
        page = client.get(f"/console/inquiries/{ref}")
        assert page.status_code == 200
        for form in ('/requests"', '/commitments"', '/next-action"'):
            assert f'action="/console/inquiries/{ref}{form}' not in page.text, form
        assert 'id="commitments"' in page.text  # the record stays
