"""The console's phone form, on real SQLite and PostgreSQL (R18, R20).

An operator types the call, saves, reads the reference to the caller from the
next page, and has a fresh form for the next call. The one open incident is
preselected; the agent's choice is stored whatever triage says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from anshin.config import Settings
from anshin.incidents import service as incidents
from anshin.inquiries.models import Inquiry
from test_console_support import client_for, database, login, seed, text_of

PATH = "/console/inquiries/phone"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    seed(settings)
    with client_for(settings) as test_client:
        yield test_client


def _declare(settings: Settings, title: str) -> tuple[int, str]:
    with database(settings) as session:
        incident = incidents.declare(
            session,
            settings,
            incidents.IncidentInput(title=title, severity="sev2", components=[]),
            actor="test",
        )
        session.commit()
        return incident.id, incident.reference


def _stored(settings: Settings) -> list[Inquiry]:
    with database(settings) as session:
        rows = list(session.scalars(select(Inquiry).order_by(Inquiry.id)))
        session.expunge_all()
        return rows


def test_the_form_starts_in_the_text_and_preselects_the_one_open_incident(
    client: TestClient, settings: Settings
) -> None:
    incident_id, reference = _declare(settings, "ログインできない障害")
    login(client, "operator")
    page = client.get(PATH)
    assert page.status_code == 200
    assert re.search(r'<textarea id="text" name="text"[^>]* autofocus', page.text)
    assert f'<option value="{incident_id}" selected>{reference} ログインできない障害' in page.text
    assert 'aria-current="page"' in page.text  # the nav shows where we are
    _declare(settings, "決済の遅延")
    two = client.get(PATH)
    assert " selected>" not in two.text.split('id="incident"')[1].split("</select>")[0]


def test_saving_shows_the_reference_and_a_fresh_form(
    client: TestClient, settings: Settings
) -> None:
    incident_id, incident_ref = _declare(settings, "ログインできない障害")
    csrf = login(client, "operator")
    saved = client.post(
        PATH,
        data={
            "csrf_token": csrf,
            "text": "朝からログインできない。\r\n今日中に直るのか知りたい",
            "name": "佐藤 一郎",
            "phone": "03-0000-1111",
            "organisation": "サンプル商事",
            "tier": "important",
            "incident": str(incident_id),
            "locale": "ja",
            "keep_informed": "1",
        },
    )
    assert saved.status_code == 303
    (inquiry,) = _stored(settings)
    assert saved.headers["location"] == f"{PATH}?taken={inquiry.reference}"
    assert inquiry.channel == "phone"
    assert inquiry.original_text == "朝からログインできない。\n今日中に直るのか知りたい"
    assert (inquiry.customer_name, inquiry.customer_tier) == ("佐藤 一郎", "important")
    assert inquiry.incident_id == incident_id
    assert inquiry.keep_informed is True
    assert inquiry.contact_id is None  # no address on a phone call: no acknowledgement
    assert inquiry.messages[0].data == {"taken_by": "一次対応オペレーター"}

    shown = client.get(saved.headers["location"])
    words = text_of(shown.text)
    assert f'<p class="taken-ref" id="taken-ref">{inquiry.reference}</p>' in shown.text
    assert "お客様にお問い合わせ番号をお伝えください" in words
    assert incident_ref in words
    form = shown.text.split('class="panel phone-form"')[1]
    assert "佐藤" not in form and "朝から" not in form  # fresh for the next call
    with database(settings) as session:
        from anshin.events import Event

        actions = session.scalars(
            select(Event.action).where(Event.entity_type == "inquiry").order_by(Event.id)
        ).all()
        assert actions == ["inquiry.received", "inquiry.linked"]
        actor = session.scalars(select(Event.actor).where(Event.entity_type == "inquiry")).first()
        assert actor is not None and "op@example.com" in actor


@pytest.mark.parametrize(
    ("fields", "field", "ja", "en"),
    [
        ({"text": "   "}, "text", "本文が空です", "the text is empty"),
        ({"name": "n" * 201}, "name", "200 文字以内", "at most 200 characters"),
        ({"tier": "gold"}, "tier", "standard（一般）", "standard or important"),
        ({"incident": "999999"}, "incident", "対応中のインシデント", "open incident"),
        ({"incident": "²"}, "incident", "対応中のインシデント", "open incident"),
        ({"locale": "fr"}, "locale", "ja または en", "ja or en"),
    ],
)
def test_a_refused_call_keeps_what_was_typed_and_stores_nothing(
    client: TestClient, settings: Settings, fields: dict[str, str], field: str, ja: str, en: str
) -> None:
    csrf = login(client, "operator")
    for lang, words in (("ja", ja), ("en", en)):
        data = {"csrf_token": csrf, "text": "つながらない", "name": "田中", **fields}
        answer = client.post(f"{PATH}?lang={lang}", data=data)
        assert answer.status_code == 422, answer.text[:500]
        assert words in text_of(answer.text), (lang, text_of(answer.text)[:1500])
        assert f'id="err-{field}"' in answer.text
        if "text" not in fields:
            assert "つながらない</textarea>" in answer.text
    assert _stored(settings) == []


def test_without_the_csrf_token_or_sign_in_nothing_is_stored(
    client: TestClient, settings: Settings
) -> None:
    anonymous = client.post(PATH, data={"text": "x"})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    login(client, "operator")
    forged = client.post(PATH, data={"text": "x", "csrf_token": "wrong"})
    assert forged.status_code == 403
    assert _stored(settings) == []


def test_a_stale_taken_link_still_shows_the_form(client: TestClient) -> None:
    login(client, "operator")
    page = client.get(f"{PATH}?taken=Q-1999-000001")
    assert page.status_code == 200
    assert "taken-ref" not in page.text
    assert 'name="text"' in page.text
