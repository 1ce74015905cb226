"""What customers read is what was checked, in every language (issue 7).

Through the console and a real SMTP server (aiosmtpd): the compose box offers
every published language; an English box left empty is written from the
template, checked and stored, so the English mail, its subject and the English
status page carry no Japanese; English subscribers need an English title; the
prefilled text reads as a person writes it; the mail is one well-formed HTML
document whose subject says which notice it is. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.comms.formatting import has_japanese
from anshin.config import Settings
from anshin.db import make_engine, make_sessionmaker
from anshin.incidents.models import Incident
from anshin.notify import queue, subscribers
from anshin.notify.sink import MailSink, SmtpSink
from test_console_incidents import DECLARE, _declare, textarea
from test_console_support import client_for, login, seed, text_of

# Japanese script: kana, kanji, full-width punctuation and forms.
JAPANESE = re.compile(
    r"[\u3000-\u303f\u3041-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"
)
CAUSE = "12:50の設定変更の誤り"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink()) as running:
        yield running


@pytest.fixture
def live(settings: Settings, sink: SmtpSink) -> Settings:
    """Settings whose every customer-facing name is ASCII, so any Japanese is a leak."""
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "smtp_from": "Status <status@example.com>",
            "site_name": "Anshin Test",
            "delivery_backoff_base_seconds": 0.01,
            "delivery_backoff_max_seconds": 0.05,
        }
    )


@pytest.fixture
def client(live: Settings) -> TestClient:
    seed(live)
    engine = make_engine(live.database_url)
    with make_sessionmaker(engine)() as session:
        for email, locale in (("ja@example.com", "ja"), ("en@example.com", "en")):
            subscribers.subscribe_email(
                session, live, email=email, locale=locale, confirmed=True, actor="test"
            )
        session.commit()
    engine.dispose()
    return client_for(live)


def _declare_japanese_only(client: TestClient, live: Settings, token: str) -> str:
    """An incident whose title, summary, cause and workaround exist only in Japanese."""
    return _declare(
        client, live, token, title_en="", cause=CAUSE, cause_confirmed="yes"
    )  # the English title is asked for when the notice goes out


def _fields(page: str, **changes: str) -> dict[str, str]:
    data = {
        "kind": re.search(r'<option value="(\w+)" selected', page).group(1),  # type: ignore[union-attr]
        "status": "investigating",
        "body_ja": textarea(page, "body_ja"),
        "body_en": textarea(page, "body_en"),
        "audience": "public",
        "next_update_at": re.search(  # type: ignore[union-attr]
            r'id="next_update_at" name="next_update_at" type="datetime-local" value="([^"]*)"',
            page,
        ).group(1),
    }
    return {**data, **changes}


def _incident(live: Settings) -> Incident:
    with Session(make_engine(live.database_url), expire_on_commit=False) as session:
        incident = session.scalars(select(Incident)).one()
        _ = incident.updates
        return incident


def _mails(live: Settings, sink: SmtpSink) -> dict[str, list[EmailMessage]]:
    queue.get_queue(live).deliver_now()
    found: dict[str, list[EmailMessage]] = {}
    for received in sink.handler.received:
        found.setdefault(received.recipients[0], []).append(received.parse())
    return found


class _Document(HTMLParser):
    """Counts the document-level tags and checks that every element is closed in order."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.starts: dict[str, int] = {}
        self.broken: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts[tag] = self.starts.get(tag, 0) + 1
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.broken.append(tag)


def well_formed(markup: str) -> _Document:
    parser = _Document()
    parser.feed(markup)
    parser.close()
    assert parser.starts.get("html") == 1 and parser.starts.get("body") == 1, parser.starts
    assert parser.starts.get("head") == 1
    assert not parser.broken and not parser.stack, (parser.broken, parser.stack)
    assert "overflow-wrap:anywhere" in markup and "word-break:break-word" in markup
    return parser


def test_english_readers_get_only_checked_english_and_need_an_english_title(
    client: TestClient, live: Settings, sink: SmtpSink
) -> None:
    token = login(client, "operator")
    location = _declare_japanese_only(client, live, token)
    page = client.get(location).text
    # The box shows every published language, English written without Japanese.
    english = textarea(page, "body_en")
    assert english and not has_japanese(english), english
    assert 'id="title_en"' in page  # an English subscriber exists, the record has no title
    # Publishing with the English box emptied and no English title: a clear form error.
    refused = client.post(
        f"{location}/updates", data={**_fields(page, body_en=""), "csrf_token": token}
    )
    assert refused.status_code == 422
    assert "先に障害の英語の題名を入力してください" in text_of(refused.text)
    assert 'aria-invalid="true"' in refused.text.split('id="title_en"', 1)[1].split(">", 1)[0]
    assert _incident(live).updates == []
    english_client = client_for(live)
    english_token = login(english_client, "operator")
    refused_en = english_client.post(
        f"{location}/updates?lang=en",
        data={**_fields(page, body_en=""), "csrf_token": english_token},
        headers={"Accept-Language": "en"},
    )
    assert refused_en.status_code == 422
    assert "give the incident an English title first" in text_of(refused_en.text)

    published = client.post(
        f"{location}/updates",
        data={**_fields(page, body_en=""), "title_en": "Sign-in failures", "csrf_token": token},
    )
    assert published.status_code == 303, text_of(published.text)
    incident = _incident(live)
    (first,) = incident.updates
    assert incident.title_en == "Sign-in failures"
    # What was stored is what was checked and what is sent: written, never rebuilt.
    assert first.body_en and not has_japanese(first.body_en), first.body_en

    page = client.get(location).text
    second = client.post(
        f"{location}/updates",
        data={**_fields(page, body_en="", status="identified"), "csrf_token": token},
    )
    assert second.status_code == 303, text_of(second.text)
    update = _incident(live).updates[-1]

    mails = _mails(live, sink)
    en_first, en_second = mails["en@example.com"]
    ja_first, ja_second = mails["ja@example.com"]
    for mail, body in ((en_first, first.body_en), (en_second, update.body_en)):
        subject = str(mail["Subject"])
        plain = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        markup = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert not JAPANESE.search(subject), subject
        assert not JAPANESE.search(plain), JAPANESE.findall(plain)
        assert not JAPANESE.search(markup), JAPANESE.findall(markup)
        assert CAUSE not in plain and "Cause: 12:50" not in plain
        assert body is not None and body.splitlines()[0] in plain
        well_formed(markup)
    # Each subject says which notice it is, so an inbox tells them apart.
    assert str(en_first["Subject"]).startswith(
        "[Service disruption] First notice: Sign-in failures ("
    )
    assert str(en_second["Subject"]).startswith("Update 2: Sign-in failures (")
    assert str(ja_first["Subject"]).startswith(
        "【第1報】障害発生のお知らせ：ログインできない障害（"
    )
    assert str(ja_second["Subject"]).startswith("【第2報】ログインできない障害（")
    assert re.search(r"（\d+月\d+日 \d\d:\d\d）$", str(ja_second["Subject"]))

    status_page = client.get("/en/").text
    # The language switch says 日本語, and the seeded component group has no English name
    # (configuration, not a notice); everything else on the English page is English.
    shown = re.sub(r"<[^>]+>", " ", status_page).replace("日本語", "").replace("基盤", "")
    assert "Sign-in failures" in shown
    assert not JAPANESE.search(shown), JAPANESE.findall(shown)


def test_the_prefill_reads_as_a_person_writes_it(client: TestClient, live: Settings) -> None:
    token = login(client, "operator")
    location = _declare(
        client, live, token, started_at="2026-12-02T13:04", detected_at="2026-12-02T13:10"
    )
    page = client.get(location).text
    ja, en = textarea(page, "body_ja"), textarea(page, "body_en")
    # The symptom from the summary, not only the component.
    assert "■ 発生している事象：ログイン画面でエラーが表示されます。" in ja
    # Human dates.
    assert "12月2日 13:04頃から" in ja
    assert "2 December, around 13:04 JST" in en
    # The promised next update is on the quarter hour, the same in the text and the field.
    promised = _fields(page)["next_update_at"]
    at = dt.datetime.fromisoformat(promised)
    assert at.minute % 15 == 0
    assert f"次回は{at.month}月{at.day}日 {at:%H:%M}までに" in ja
    assert f"by {at.day} " in en and f"{at:%H:%M} JST" in en
    # No tautologies.
    assert "確認できていない点は現在確認中です" not in ja
    assert "原因：原因" not in ja
    assert "still being checked" not in en
    # The estimated number of affected customers only when the lead chooses to.
    assert "1,200" not in ja and "1,200" not in en
    assert (
        'id="publish_affected"' in page
        and "checked" not in page.split('id="publish_affected"', 1)[1].split(">", 1)[0]
    )
    chosen = client.get(f"{location}/compose?kind=first_notice&publish_affected=1").text
    assert "■ 影響を受けているお客様の数（推定）：約1,200名" in textarea(chosen, "body_ja")
    assert "Customers affected (estimate): about 1,200" in textarea(chosen, "body_en")
    published = client.post(f"{location}/updates", data={**_fields(page), "csrf_token": token})
    assert published.status_code == 303, text_of(published.text)
    assert DECLARE["summary"] in _incident(live).updates[0].body_ja
