"""Inquiries, incidents and updates reach the search through their feeds (issue 9, search half).

Intake does no indexing: a new inquiry, a new message, a changed incident
are read from anshin.inquiries.kb_feed / anshin.incidents.kb_feed by the
catch-up that runs before a search asking for those sources, or by
``index.reindex``. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import service as incidents
from anshin.incidents.models import Incident
from anshin.inquiries import service as inquiries
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.inquiries.service import NewInquiry, TriageValues
from anshin.knowledge import index, rules, search, service
from anshin.knowledge.index_models import FTS_NAMES, IndexFeed, SearchDocument
from inquiry_world import incident as declare_incident

RECORDS = ("inquiry", "incident", "update")


def receive(session: Session, settings: Settings, words: str, on: Incident | None) -> Inquiry:
    return inquiries.receive(
        session,
        settings,
        NewInquiry(channel="form", text=words, locale="ja", customer_email="c@example.com"),
        actor="test",
        triage=TriageValues(
            incident_id=on.id if on else None,
            intent="status_inquiry",
            level=1,
            temperature=1,
            harassment=False,
        ),
        now=utcnow(),
    )


def find(session: Session, words: str, sources: tuple[str, ...] = RECORDS) -> list[tuple[str, str]]:
    hits = search.search(session, rules.check_query(words, sources=sources))
    return [(hit.source, hit.key) for hit in hits]


def test_records_are_found_after_catch_up(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions() as session:
        incident = declare_incident(session, settings, title="決済サービスの障害")
        update = incidents.publish_update(
            session,
            settings,
            incident,
            body_ja="カード決済の切り替えを進めています。",
            audience="internal",
            actor="test",
        )
        inquiry = receive(session, settings, "カードで払えへん。いつ直るん？", incident)
        session.commit()
        ref, inc_ref, update_id = inquiry.reference, incident.reference, update.id
    with sessions() as session:
        # The articles-only search does not read the feeds.
        assert find(session, "払えない", ("article",)) == []
        assert session.scalar(select(func.count()).select_from(SearchDocument)) == 0
        assert ("inquiry", ref) in find(session, "払えない")  # 払える/払う, Kansai へん
        assert ("update", str(update_id)) in find(session, "切替")
        assert find(session, "決済の不具合", ("incident",))[0] == ("incident", inc_ref)
        hit = search.search(session, rules.check_query("払えない", sources=("inquiry",)))[0]
        assert hit.url == f"/console/inquiries/{ref}" and hit.kind == "inquiry"
        assert find(session, "払えない", ("article",)) == []
        watermarks = dict(session.execute(select(IndexFeed.name, IndexFeed.watermark)).all())
        assert set(watermarks) >= {"inquiries", "incidents"}


def test_new_messages_and_edits_are_picked_up(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions() as session:
        inquiry = receive(session, settings, "画面が真っ白です", None)
        session.commit()
        assert find(session, "真っ白", ("inquiry",)) == [("inquiry", inquiry.reference)]
        assert find(session, "キャッシュ", ("inquiry",)) == []
        session.add(
            InquiryMessage(
                inquiry_id=inquiry.id,
                direction="out",
                channel="form",
                body="ブラウザのキャッシュを削除してお試しください。",
                author="agent",
                at=utcnow(),
            )
        )
        session.commit()
        assert find(session, "キャッシュ", ("inquiry",)) == [("inquiry", inquiry.reference)]
        incident = declare_incident(session, settings, title="メール配信の遅延")
        session.commit()
        assert find(session, "遅延", ("incident",)) == [("incident", incident.reference)]
        incident.summary = "通知メールが届くまで最大30分かかっています。"
        incident.updated_at = utcnow()
        session.commit()
        assert find(session, "通知メール", ("incident",)) == [("incident", incident.reference)]


def test_a_surge_is_indexed_in_bounded_steps_and_reindex_reads_all(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions() as session:
        for n in range(12):
            receive(session, settings, f"請求書{n}番が届かない", None)
        service.save(session, {"key": "faq-bill", "kind": "faq", "title": "請求書"}, actor="t")
        session.commit()
        assert index.catch_up(session, ("inquiry",), limit=5) == 5
        assert index.catch_up(session, ("inquiry",), limit=5) == 5
        assert index.catch_up(session, ("inquiry",), limit=5) == 2
        assert index.catch_up(session, ("inquiry",), limit=5) == 0
        seen: list[tuple[str, int]] = []
        assert index.reindex(session, progress=lambda feed, n: seen.append((feed, n))) == 13
        session.commit()
        assert ("articles", 1) in seen and ("inquiries", 12) in seen
        assert len(find(session, "請求書", ("article", "inquiry"))) == 10
        assert session.scalar(select(func.count()).select_from(SearchDocument)) == 13
        assert _fts_rows(session) == 13


def test_articles_indexed_before_the_index_existed_are_read_once(
    sessions: sessionmaker[Session],
) -> None:
    """After migrating, kb_articles has rows and kb_documents none: the first search indexes."""
    with sessions() as session:
        service.save(session, {"key": "faq-a", "kind": "faq", "title": "返金"}, actor="t")
        session.commit()
        index.reindex(session)
        session.execute(text("DELETE FROM kb_index_feeds"))
        index.remove(session, "article", service.get(session, "faq-a").id)
        session.commit()
        assert session.scalar(select(func.count()).select_from(SearchDocument)) == 0
        assert find(session, "返金", ("article",)) == [("article", "faq-a")]
        assert session.get(IndexFeed, index.ARTICLES_FEED) is not None


def _fts_rows(session: Session) -> int:
    return sum(
        int(session.scalar(text(f"SELECT count(*) FROM {table}")) or 0) for table in FTS_NAMES
    )


def test_removing_an_article_takes_it_out(session: Session) -> None:
    article = service.save(session, {"key": "faq-x", "kind": "faq", "title": "障害"}, actor="t")
    session.commit()
    assert find(session, "障害", ("article",)) == [("article", "faq-x")]
    index.remove_article(session, article.id)
    session.commit()
    assert find(session, "障害", ("article",)) == []
    assert _fts_rows(session) == 0


def test_an_inquiry_committed_late_is_still_found(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """PostgreSQL hands out ids before commit: a lower id may commit after a higher one was read.

    The inquiries feed reads again the rows between its settled and read
    positions until they are a minute old. Here the watermark is set as a
    catch-up would have left it had the inquiry been invisible when read.
    """
    with sessions() as session:
        late = receive(session, settings, "領収書の宛名を変えたい", None)
        early = receive(session, settings, "領収書が二重に届いた", None)
        session.commit()
        last_message = session.scalar(select(func.max(InquiryMessage.id)))
        session.add(
            IndexFeed(name="inquiries", watermark=f"{late.id - 1}:0:{early.id}:{last_message}")
        )
        session.add(IndexFeed(name="incidents", watermark=""))
        session.commit()
        found = find(session, "領収書", ("inquiry",))
        assert sorted(found) == sorted([("inquiry", late.reference), ("inquiry", early.reference)])
        watermark = session.get(IndexFeed, "inquiries")
        assert watermark is not None
        settled = int(watermark.watermark.split(":")[0])
        if session.get_bind().dialect.name == "postgresql":
            assert settled == late.id - 1  # younger than a minute: read again next time
        else:
            assert settled == early.id  # one writer at a time: nothing can come late
