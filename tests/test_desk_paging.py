"""The desk's queues a page at a time (R22): the console's 「次の50件」 and the API's ``next``.

A queue longer than a page used to stop at 500 rows with no way to the rest.
Every page continues where the one before stopped, in the queue's order
(``rules.queue_order_key`` on ``queues.due_of``: the next action's due time once
answered), and a page number that is not one is a 422 naming ``page``.
SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.inquiries import queues, rules, service
from anshin.inquiries.models import Inquiry
from anshin.inquiries.service import NewInquiry, TriageValues
from anshin.team import service as team_service
from anshin.team.models import User
from test_console_support import client_for, database, login, seed, text_of

SIZE = queues.QUEUE_PAGE_SIZE


def _fill(session: Session, settings: Settings, count: int) -> list[Inquiry]:
    """``count`` open level-1 inquiries whose due times, temperatures and answers vary.

    Every third one is answered with a next action due (some earlier than any
    first response), every seventh answered with none (no due time: last), and
    pairs share a receipt time and temperature so ties need the id to order.
    """
    now = utcnow()
    made = []
    for n in range(count):
        inquiry = service.receive(
            session,
            settings,
            NewInquiry(
                channel="chat",
                text=f"つながりません {n}",
                received_at=now - dt.timedelta(minutes=n // 2),
            ),
            actor="test",
            triage=TriageValues(
                incident_id=None,
                intent="status_inquiry",
                level=1,
                temperature=(n // 2) % 4,
                harassment=False,
            ),
        )
        if n % 7 == 0:
            inquiry.first_responded_at = now
        elif n % 3 == 0:
            inquiry.first_responded_at = now
            inquiry.next_action_due_at = now + dt.timedelta(minutes=(n % 11) * 9 - 40)
        made.append(inquiry)
    session.flush()
    return made


def _key(inquiry: Inquiry, now: dt.datetime) -> tuple[dt.datetime, int, dt.datetime, int]:
    due = queues.due_of(inquiry, now)
    order = rules.queue_order_key(
        due.due_at if due else None, inquiry.temperature, inquiry.received_at
    )
    return (*order, inquiry.id)


def test_pages_follow_the_queue_order_without_gaps(session: Session, settings: Settings) -> None:
    made = _fill(session, settings, 2 * SIZE + 7)
    flt = queues.QueueFilter(level=1)
    assert queues.count(session, flt) == len(made)
    pages = [
        queues.queue(session, flt, limit=SIZE, offset=offset)
        for offset in range(0, len(made) + SIZE, SIZE)
    ]
    assert [len(p) for p in pages] == [SIZE, SIZE, 7, 0]
    listed = [i for p in pages for i in p]
    now = utcnow()
    assert [i.id for i in listed] == [i.id for i in sorted(made, key=lambda i: _key(i, now))]
    # Answered ones with no next action owe nothing: they come last.
    assert all(queues.due_of(i, now) is None for i in listed[-len(made[::7]) :])
    assert queues.count(session, queues.QueueFilter(level=2)) == 0
    assert queues.queue(session, queues.QueueFilter(view="unassigned"), limit=3)[0] is listed[0]


def _seeded(settings: Settings, count: int) -> None:
    seed(settings)
    with database(settings) as session:
        _fill(session, settings, count)
        session.commit()


def _rows(page: str) -> list[str]:
    return re.findall(r'<td class="ref"><a href="/console/inquiries/([^"]+)"', page)


def test_console_queue_pages_with_next_and_previous(settings: Settings) -> None:
    _seeded(settings, SIZE + 5)
    client = client_for(settings)
    login(client, "operator")
    first = client.get("/console/inquiries?level=1&channel=chat")
    assert first.status_code == 200
    assert len(_rows(first.text)) == SIZE
    text = text_of(first.text)
    assert f"{SIZE + 5}件中 1–{SIZE}件" in text and "次の5件" in text and "前の" not in text
    following = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert following is not None
    link = following.group(1).replace("&amp;", "&")
    assert link == "/console/inquiries?level=1&channel=chat&page=2"
    second = client.get(link)
    assert len(_rows(second.text)) == 5
    assert not set(_rows(second.text)) & set(_rows(first.text))
    assert f"前の{SIZE}件" in text_of(second.text) and 'rel="next"' not in second.text
    beyond = client.get("/console/inquiries?page=9")
    assert beyond.status_code == 200 and _rows(beyond.text) == []
    assert 'rel="prev"' in beyond.text
    for bad in ("0", "-1", "abc", "1.5", "100001"):
        refused = client.get(f"/console/inquiries?page={bad}")
        assert refused.status_code == 422, bad
        assert "ページは1から100000までの整数で指定してください。" in text_of(refused.text)
    assert client.get("/console/inquiries?page=" + "1" * 11).status_code == 422
    english = text_of(client.get("/console/inquiries?lang=en").text)
    assert "Next 5" in english and f"1–{SIZE} of {SIZE + 5}" in english


def test_short_queue_has_no_pager(settings: Settings) -> None:
    _seeded(settings, 3)
    client = client_for(settings)
    login(client, "operator")
    page = client.get("/console/inquiries")
    assert len(_rows(page.text)) == 3 and 'class="pager"' not in page.text


def _token(settings: Settings) -> str:
    with database(settings) as session:
        user = session.scalars(select(User).where(User.role == "operator")).one()
        token, _ = team_service.create_token(session, user=user, name="t", actor="test")
        session.commit()
    return token


def test_api_list_pages_by_next_until_null(settings: Settings) -> None:
    _seeded(settings, 2 * SIZE + 1)
    headers = {"Authorization": f"Bearer {_token(settings)}", "Accept-Language": "en"}
    client = client_for(settings)
    link: str | None = "/api/inquiries?intent=status_inquiry"
    seen: list[str] = []
    numbers = []
    while link is not None:
        body = client.get(link, headers=headers).json()
        assert body["total"] == 2 * SIZE + 1 and body["pages"] == 3
        numbers.append(body["page"])
        seen.extend(row["reference"] for row in body["inquiries"])
        link = body["next"]
        if link is not None:
            assert link.startswith("/api/inquiries?intent=status_inquiry&page=")
    assert numbers == [1, 2, 3]
    assert len(seen) == len(set(seen)) == 2 * SIZE + 1
    last = client.get("/api/inquiries?page=3", headers=headers).json()
    assert (len(last["inquiries"]), last["next"]) == (1, None)
    empty = client.get("/api/inquiries?level=2", headers=headers).json()
    assert (empty["inquiries"], empty["total"], empty["pages"], empty["next"]) == ([], 0, 1, None)
    for bad in ("0", "x", "-3", "100001"):
        refused = client.get(f"/api/inquiries?page={bad}", headers=headers)
        assert refused.status_code == 422, bad
        error = refused.json()["error"]
        assert error["field"] == "page"
        assert error["message"] == "The page must be a whole number from 1 to 100000."
    japanese = client.get("/api/inquiries?page=0", headers={**headers, "Accept-Language": "ja"})
    refused_ja = japanese.json()["error"]["message"]
    assert refused_ja == "ページは1から100000までの整数で指定してください。"
