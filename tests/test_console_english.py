"""The English console is English: every console page, rendered with ``?lang=en`` on demo
data, shows no Japanese outside what people wrote (titles, bodies, names) and content
marked as Japanese (``lang="ja"``: a Japanese text being edited, the language switch).

The pages are every GET route under /console in the route table (and /login), so a new
page is checked as soon as it exists; a route whose path parameter this test does not
know how to fill fails the test until it is added below. What counts as "what people
wrote" is read from the database: every text and JSON value of every row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import JSON, String, Text, select
from sqlalchemy.orm import Session

from anshin.comms import service as comms
from anshin.comms.rules import KIND_CHANNELS
from anshin.config import Settings
from anshin.db import Base, make_engine, utcnow
from anshin.demo import load_demo
from anshin.incidents import nudges
from anshin.incidents.models import Incident
from anshin.inquiries import commitments, share
from anshin.inquiries import service as inquiry_service
from anshin.inquiries.models import Department, Inquiry
from anshin.knowledge import service as knowledge
from anshin.knowledge.models import Article
from anshin.notify import queue, subscribers
from anshin.notify.models import OutboxMessage, Subscriber
from anshin.notify.sink import MailSink, SmtpSink, seed_subscribers
from anshin.review.models import Drill
from anshin.team import service as team_service
from anshin.team.models import User
from desk_world import seed_desk
from route_table import api_routes
from test_console_support import client_for, database, login, seed

LETTERS = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f"  # kana and kanji
JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
# Attributes a person reads: hints, labels, tooltips, the text of confirm dialogs, and the
# labels phones show before each cell (``data-label``, CSS ``content``).
READ_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "hx-confirm", "data-label")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class VisibleText(HTMLParser):
    """Text nodes and read attributes outside ``lang="ja"`` content, scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: is it skipped?
        self.found: list[str] = []

    def _skipped(self) -> bool:
        return bool(self.stack) and self.stack[-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        skipped = (
            self._skipped()
            or tag in ("script", "style")
            or (values.get("lang") or "").startswith("ja")
        )
        if not skipped:
            self.found.extend(v for k, v in attrs if k in READ_ATTRIBUTES and v)
        if tag not in VOID:
            self.stack.append(skipped)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipped() and data.strip():
            self.found.append(data)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        yield from (line.strip() for line in value.splitlines())
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def written_by_people(session: Session, settings: Settings) -> list[str]:
    """Every Japanese text the database holds, longest first (and the site's name)."""
    found: set[str] = {settings.site_name}
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        if not columns:
            continue
        for row in session.execute(select(*columns)):
            for value in row:
                found.update(s for s in _strings(value) if s and JAPANESE.search(s))
    return sorted(found, key=len, reverse=True)


def leftovers(page: str, written: list[str]) -> list[str]:
    """Japanese left in what a person reads once everything people wrote is taken out."""
    parser = VisibleText()
    parser.feed(page)
    bad = []
    for chunk in parser.found:
        if not JAPANESE.search(chunk):
            continue
        rest = chunk
        for text in written:
            if text in rest:
                # Only whole pieces: a name glued to Japanese words ("ログイン" in
                # "ログインできない") is part of a sentence someone forgot to translate.
                rest = re.sub(rf"(?<![{LETTERS}]){re.escape(text)}(?![{LETTERS}])", " ", rest)
        if JAPANESE.search(rest):
            bad.append(" ".join(rest.split()))
    return bad


def _inquiries(session: Session, settings: Settings, admin: User) -> None:
    """A flagged inquiry on a demo incident whose words disagree with the record, with a
    request and a commitment: the handoff sheet and the harassment queue have content."""
    incident = session.scalars(select(Incident).order_by(Incident.id)).first()
    assert incident is not None
    found = inquiry_service.receive(
        session,
        settings,
        inquiry_service.NewInquiry(
            channel="phone",
            text="9時頃から使えない。何の連絡もない。返金しろ、SNSで晒すぞ。",
            customer_name="匿名の方",
        ),
        actor="test",
        triage=inquiry_service.TriageValues(
            incident_id=incident.id, intent="complaint", level=3, temperature=3, harassment=True
        ),
    )
    commitments.add_request(session, found, "今月分の返金", actor="test")
    commitments.add_commitment(
        session,
        settings,
        found,
        by=admin,
        kind="callback",
        description="17時までに折り返し",
        due_at=utcnow() + dt.timedelta(hours=2),
    )
    # R21: shared with two demo departments (the history names them in the reader's language).
    share.share(
        session, settings, found, ["development", "sales"], "返金と決済の確認を", actor="test"
    )


def _articles(session: Session) -> None:
    """Knowledge base articles of every kind, one with two versions (R17)."""
    for kind in ("faq", "explanation", "workaround", "script", "avoid_expression"):
        values = {
            "key": f"demo-{kind.replace('_', '-')}",
            "kind": kind,
            "title": "仕様です" if kind == "avoid_expression" else "ログインできないとき",
            "body": "パスワードの再設定をお試しください。\n\n- 再設定のメール",
            "alternative": "ご不便をおかけしております" if kind == "avoid_expression" else None,
            "tags": ["ログイン"],
            "state": "published",
        }
        knowledge.save(session, values, actor="test")
    knowledge.save(session, {"key": "demo-faq", "kind": "faq", "title": "改訂版"}, actor="test")
    knowledge.replace_synonyms(session, [["ログイン", "サインイン"]], actor="test")


@pytest.fixture
def demo(settings: Settings) -> Iterator[Settings]:
    """Demo data with every console page's records: deliveries sent and dead, subscribers
    in every state, a nudge, a saved template version, an API token."""
    with SmtpSink(MailSink(reject={"user1@example.com"})) as sink:
        demo_settings = settings.model_copy(
            update={
                "webhook_allowed_networks": ["127.0.0.1/32"],  # the test receivers listen here
                "site_name": "安心デモ",
                "smtp_host": "127.0.0.1",
                "smtp_port": sink.port,
                "staff_webhook_url": "http://127.0.0.1:9/staff",
                "delivery_max_attempts": 1,
            }
        )
        seed(demo_settings)
        engine = make_engine(demo_settings.database_url)
        with Session(engine, expire_on_commit=False) as session:
            seed_subscribers(session, 3)
            subscribers.subscribe_email(session, demo_settings, email="pending@example.com")
            subscribers.add_webhook(
                session, demo_settings, url="http://127.0.0.1:9/hook", actor="test"
            )
            for user in session.scalars(select(User)):
                user.on_duty = True
            load_demo(session, demo_settings, actor="demo", inquiries=12)
            session.flush()
            seed_desk(session, demo_settings)  # the inquiry desk's pages (queue, inquiry)
            admin = session.scalars(select(User).where(User.role == "admin")).first()
            assert admin is not None
            team_service.create_token(session, user=admin, name="監視アラート", actor="test")
            _inquiries(session, demo_settings, admin)
            _articles(session)
            active = comms.get_active(session, "update", "ja", "status_page")
            comms.save(
                session,
                demo_settings,
                "update",
                "ja",
                "status_page",
                subject=active.subject,
                body=active.body + "\n{# 2026年12月に見直し #}",
                note="文面を見直し",
                actor="test",
            )
            session.commit()
        queue.get_queue(demo_settings).deliver_now()
        nudges.sweep(engine, demo_settings, now=utcnow())
        queue.get_queue(demo_settings).deliver_now()
        engine.dispose()
        yield demo_settings


def _paths(settings: Settings, session: Session) -> list[str]:
    """Every GET page under /console, with each path parameter filled from the demo data."""
    incidents = list(session.scalars(select(Incident.reference)))
    messages = list(session.scalars(select(OutboxMessage.id)))
    subscriber_ids = list(
        session.scalars(select(Subscriber.id).where(Subscriber.status != "staff"))
    )
    templates = [
        f"{kind}/{locale}/{channel}"
        for kind, channels in KIND_CHANNELS.items()
        for channel in channels
        for locale in ("ja", "en")
    ]
    inquiries = list(session.scalars(select(Inquiry.reference)))[:3]
    fillers: dict[str, list[str]] = {
        "ref": incidents,
        "inquiry_ref": inquiries,
        # The demo's drills (review.demo_review): a good and a bad example.
        "drill_id": [str(d) for d in session.scalars(select(Drill.id))],
        "message_id": [str(m) for m in messages],
        "subscriber_id": [str(s) for s in subscriber_ids[:2]],
        "kind/{locale}/{channel": templates,
        "user_id": [str(u) for u in session.scalars(select(User.id))][:2],
        "key": list(session.scalars(select(Article.key))),
        "department": list(session.scalars(select(Department.key))),
    }
    from anshin.app import create_app

    paths: list[str] = ["/login"]
    for route in api_routes(create_app(settings)):
        if "GET" not in route.methods or not route.path.startswith("/console"):
            continue
        if "/review/export/" in route.path:
            continue  # report files (md, html, pdf), not pages: tests/test_review_report_web.py
        names = re.findall(r"\{([^}]+)\}", route.path)
        if not names:
            paths.append(route.path)
            continue
        key = "kind/{locale}/{channel" if names == ["kind", "locale", "channel"] else names[0]
        if key == "ref" and route.path.startswith("/console/inquiries/"):
            key = "inquiry_ref"
        assert len(names) == 1 or key == "kind/{locale}/{channel", route.path
        assert key in fillers, f"{route.path}: add a value for {{{key}}} to this test"
        pattern = "{kind}/{locale}/{channel}" if key.startswith("kind/") else "{" + names[0] + "}"
        paths.extend(route.path.replace(pattern, value) for value in fillers[key])
    return paths


def test_every_console_page_in_english_has_no_japanese_but_what_people_wrote(
    demo: Settings,
) -> None:
    settings = demo
    with database(settings) as session:
        written = written_by_people(session, settings)
        paths = _paths(settings, session)
        refs = list(session.scalars(select(Incident.reference)))
    extra = [
        f"/console/incidents/{ref}?kind={kind}"
        for ref in refs
        for kind in ("update", "no_news_update", "resolution")
    ]
    extra += [f"/console/incidents/{ref}/compose?kind=resolution" for ref in refs]
    extra += [
        "/console/deliveries?state=sent",
        "/console/subscribers?status=pending",
        "/console/incidents?q=zzz",
        "/console/incidents?since=bad",
        "/console/kb/demo-faq?version=1",
        "/console/kb?kind=faq",
        "/console/search?q=ログイン",
        "/console/search?q=zzz",
        "/console/search?q=" + "x" * 201,
    ]
    english = client_for(settings)
    assert english.get("/login?lang=en").status_code == 200
    found: dict[str, list[str]] = {}
    pages = 0
    for path in ["/login", *paths[1:], *extra]:
        if path == "/login":
            response = english.get("/login?lang=en")
        else:
            if not pages:
                login(english, "admin")
            separator = "&" if "?" in path else "?"
            response = english.get(f"{path}{separator}lang=en")
            pages += 1
        assert response.status_code in (200, 409, 422), f"{path}: {response.status_code}"
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue  # downloads (handoff.txt, evidence) quote people's words in part
        bad = leftovers(response.text, written)
        if bad:
            found[path] = bad
    assert pages > 40
    assert not found, "Japanese in the English console:\n" + "\n".join(
        f"  {path}: {sorted(set(items))[:8]}" for path, items in sorted(found.items())
    )


def test_the_checker_finds_an_untranslated_label() -> None:
    """The check itself: UI text in Japanese is found, people's text and lang="ja" are not."""
    page = (
        '<html lang="en"><body><h1>決済の障害</h1><p>Status: 調査中</p>'
        '<a lang="ja" href="?lang=ja">日本語</a><input placeholder="例：件名">'
        '<td data-label="状態">x</td><script>var s = "日本語";</script></body></html>'
    )
    assert leftovers(page, ["決済の障害"]) == ["Status: 調査中", "例：件名", "状態"]
