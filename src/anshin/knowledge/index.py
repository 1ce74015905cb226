"""Keeping the search index in step with articles, inquiries, incidents and updates.

Articles are indexed when they are saved (``service.save`` calls
:func:`refresh_article`, in the same transaction). Records of other domains
come in through named feeds — knowledge never imports inquiries or incidents
(docs/design.md, dependency direction): ``anshin.inquiries.kb_feed`` and
``anshin.incidents.kb_feed`` return what changed since a watermark, and
:func:`catch_up` reads them before a search that includes those sources and
from ``anshin kb reindex`` (:func:`reindex`). No indexing work is added to the
intake request path: an inquiry is analysed by the first search after it.

Several processes may search at once: the watermarks live in the database
(``kb_index_feeds``), a catch-up first checks for news with a plain read, and
only when there is some takes the write lock (SQLite ``BEGIN IMMEDIATE``,
PostgreSQL an advisory lock) and reads the watermark again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from anshin import hooks
from anshin.db import WRITE_LOCK, make_sessionmaker, utcnow
from anshin.knowledge import analyse
from anshin.knowledge.index_models import (
    FTS_NAMES,
    DocumentText,
    IndexFeed,
    SearchDocument,
    fts_table,
)
from anshin.knowledge.models import Article
from anshin.knowledge.render import to_text
from anshin.text.normalise import normalise

log = logging.getLogger(__name__)

# Feed name -> (hook, the sources it delivers). A feed is
# ``changed_since(session, watermark: str, limit: int) -> (records, new_watermark)``;
# a record is a mapping with the fields of :class:`Record` (``deleted: True`` removes it).
FEEDS: dict[str, tuple[str, frozenset[str]]] = {
    "inquiries": ("anshin.inquiries.kb_feed:changed_since", frozenset({"inquiry"})),
    "incidents": ("anshin.incidents.kb_feed:changed_since", frozenset({"incident", "update"})),
}
ARTICLES_FEED = "articles"  # its row says the articles were indexed once (after migrating)
CATCH_UP_LIMIT = 500  # records per feed read before one search; reindex reads them all
_LOCK_KEY = 72_011_012  # PostgreSQL advisory lock of the index writers

Progress = Callable[[str, int], None]  # (feed, records of that feed indexed so far)


@dataclass(frozen=True)
class Record:
    """One searchable record as the index stores it."""

    source: str
    record_id: int
    key: str
    title: str
    text: str
    url: str
    kind: str = ""
    locale: str | None = None
    state: str | None = None
    public: bool = False
    components: tuple[str, ...] = ()
    extra: tuple[str, ...] = field(default=())  # words counted as title words (tags)
    deleted: bool = False

    def digest(self) -> str:
        """A fingerprint of what the index stores, to skip a record that did not change."""
        return hashlib.sha256(repr(dataclasses.astuple(self)).encode()).hexdigest()

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Record:
        """A record from a feed's mapping (unknown keys ignored, so feeds may grow)."""
        return cls(
            source=str(values["source"]),
            record_id=int(values["record_id"]),
            key=str(values.get("key", ""))[:120],
            title=str(values.get("title", ""))[:300],
            text=str(values.get("text", "")),
            url=str(values.get("url", ""))[:300],
            kind=str(values.get("kind") or values["source"]),
            locale=values.get("locale"),
            state=values.get("state"),
            public=bool(values.get("public", False)),
            components=tuple(values.get("components") or ()),
            extra=tuple(values.get("extra") or ()),
            deleted=bool(values.get("deleted", False)),
        )


def article_record(article: Article) -> Record:
    """An article as the index sees it: title, tags and components count as title words."""
    text = to_text(article.body or "")
    if article.alternative:
        text = f"{text} {article.alternative}"
    return Record(
        source="article",
        record_id=article.id,
        key=article.key,
        title=article.title,
        text=text,
        url=f"/console/kb/{article.key}",
        kind=article.kind,
        locale=article.locale,
        state=article.state,
        public=bool(article.public),
        components=tuple(article.components or ()),
        extra=tuple(article.tags or ()) + tuple(article.components or ()),
    )


def _components(names: Iterable[str]) -> str:
    return "\n" + "".join(f"{name}\n" for name in names)


def put(session: Session, record: Record) -> bool:
    """Index ``record`` (insert or replace; a ``deleted`` one is removed); False: unchanged."""
    if record.deleted:
        return remove(session, record.source, record.record_id)
    doc = session.scalar(
        select(SearchDocument).where(
            SearchDocument.source == record.source, SearchDocument.record_id == record.record_id
        )
    )
    digest = record.digest()
    if doc is not None and doc.digest == digest:
        return False  # indexed as it is: a feed may deliver a record again (see the feeds)
    if doc is None:
        doc = SearchDocument(source=record.source, record_id=record.record_id)
        session.add(doc)
    doc.digest = digest
    doc.key = record.key
    doc.kind = record.kind or record.source
    doc.locale = record.locale
    doc.state = record.state
    doc.public = record.public
    doc.components = _components(record.components)
    doc.title = record.title
    doc.url = record.url
    doc.indexed_at = utcnow()
    session.flush()
    plain = normalise(record.text[: analyse.MAX_INDEX_CHARS])
    stored = session.get(DocumentText, doc.id)
    if stored is None:
        session.add(DocumentText(doc_id=doc.id, text=plain))
    else:
        stored.text = plain
    form = analyse.document(record.title, record.text, record.extra)
    _write_fts(session, fts_table(record.source), doc.id, form)
    return True


def _write_fts(session: Session, table: str, doc_id: int, form: analyse.IndexForm) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                f"WITH f AS (INSERT INTO {table} (doc_id, head, tsv, folded) "
                "SELECT :id, w.head, w.head || setweight(to_tsvector('simple', :body), 'B') || "
                "setweight(to_tsvector('simple', :grams), 'D'), :folded "
                "FROM (SELECT setweight(to_tsvector('simple', :title), 'A') AS head) AS w "
                "ON CONFLICT (doc_id) DO UPDATE SET head = EXCLUDED.head, tsv = EXCLUDED.tsv, "
                "folded = EXCLUDED.folded RETURNING doc_id, head) "
                # The title words once more, in the narrow table ordering title matches reads.
                f"INSERT INTO {table}_heads (doc_id, head) SELECT doc_id, head FROM f "
                "ON CONFLICT (doc_id) DO UPDATE SET head = EXCLUDED.head"
            ),
            {
                "id": doc_id,
                "title": form.title,
                "body": form.body,
                "grams": form.grams,
                "folded": form.folded,
            },
        )
        return
    session.execute(text(f"DELETE FROM {table} WHERE rowid = :id"), {"id": doc_id})
    session.execute(
        text(
            f"INSERT INTO {table} (rowid, title, body, grams) VALUES (:id, :title, :body, :grams)"
        ),
        {"id": doc_id, "title": form.title, "body": form.body, "grams": form.grams},
    )


def remove(session: Session, source: str, record_id: int) -> bool:
    """Take a record out of the index (an article deleted, a record erased); False: not in it."""
    doc_id = session.scalar(
        select(SearchDocument.id).where(
            SearchDocument.source == source, SearchDocument.record_id == record_id
        )
    )
    if doc_id is None:
        return False
    if session.get_bind().dialect.name != "postgresql":  # PostgreSQL: ON DELETE CASCADE
        table = fts_table(source)
        session.execute(text(f"DELETE FROM {table} WHERE rowid = :id"), {"id": doc_id})
    session.execute(delete(DocumentText).where(DocumentText.doc_id == doc_id))
    session.execute(delete(SearchDocument).where(SearchDocument.id == doc_id))
    return True


def refresh_article(session: Session, article: Article) -> None:
    """Index the article as saved (``service.save`` calls this in its transaction)."""
    put(session, article_record(article))


def remove_article(session: Session, article_id: int) -> None:
    """Take a deleted article out of the index (call it where an article is deleted)."""
    remove(session, "article", article_id)


# --- feeds and catch-up -----------------------------------------------------------


def _watermark(session: Session, name: str) -> str | None:
    return session.scalar(select(IndexFeed.watermark).where(IndexFeed.name == name))


def _set_watermark(session: Session, name: str, watermark: str) -> None:
    row = session.get(IndexFeed, name)
    if row is not None and row.watermark == watermark:
        return
    if row is None:
        session.add(IndexFeed(name=name, watermark=watermark, updated_at=utcnow()))
    else:
        row.watermark = watermark
        row.updated_at = utcnow()
    session.flush()


def _feeds_for(sources: Iterable[str]) -> list[str]:
    wanted = set(sources)
    return [name for name, (_, delivers) in FEEDS.items() if delivers & wanted]


def _read_feed(session: Session, name: str, watermark: str, limit: int) -> tuple[list[Record], str]:
    changed_since = hooks.resolve(FEEDS[name][0])
    records, new_watermark = changed_since(session, watermark, limit)
    return [Record.of(r) for r in records], str(new_watermark)


def _articles_pending(session: Session) -> bool:
    return (
        _watermark(session, ARTICLES_FEED) is None
        and (session.scalar(select(func.count()).select_from(Article)) or 0) > 0
    )


def _index_articles(session: Session, progress: Progress | None = None) -> int:
    done = 0
    for article in session.scalars(select(Article).order_by(Article.id)):
        refresh_article(session, article)
        done += 1
        if progress is not None and done % 100 == 0:
            progress(ARTICLES_FEED, done)
    _set_watermark(session, ARTICLES_FEED, str(done))
    if progress is not None:
        progress(ARTICLES_FEED, done)
    return done


def _pending(session: Session, sources: Iterable[str]) -> list[str]:
    """The feeds with news (a plain read: no lock taken when there is nothing to do)."""
    names = [n for n in _feeds_for(sources) if _read_feed(session, n, _wm(session, n), 1)[0]]
    if "article" in set(sources) and _articles_pending(session):
        names.append(ARTICLES_FEED)
    return names


def _wm(session: Session, name: str) -> str:
    return _watermark(session, name) or ""


def _catch_up_in(
    session: Session, names: Iterable[str], limit: int | None, progress: Progress | None
) -> int:
    done = 0
    for name in names:
        if name == ARTICLES_FEED:
            if _watermark(session, ARTICLES_FEED) is None:
                done += _index_articles(session, progress)
            continue
        read = 0
        while True:
            before = _wm(session, name)
            records, watermark = _read_feed(session, name, before, limit or 1000)
            read += sum(put(session, record) for record in records)
            _set_watermark(session, name, watermark)
            if progress is not None:
                progress(name, read)
            # A feed may hold its watermark back (rows too young to be sure of): then stop.
            if limit is not None or not records or watermark == before:
                break
        done += read
    return done


def catch_up(
    session: Session,
    sources: Iterable[str] = ("inquiry", "incident", "update"),
    *,
    limit: int | None = CATCH_UP_LIMIT,
    progress: Progress | None = None,
) -> int:
    """Index what the feeds for ``sources`` report since their watermarks; how many changed.

    Runs in a session of its own and commits, so the work is kept whatever the
    caller does with its session — unless the caller's session already holds
    SQLite's write lock (it wrote something): then in the caller's session,
    which commits it with its own work. ``limit`` bounds the records per feed
    (a search after a surge stays quick; ``None`` reads everything).
    """
    sources = tuple(sources)
    if not _pending(session, sources):
        return 0
    bind = session.get_bind()
    if not isinstance(bind, Engine) or _holds_write_lock(session):
        with session.begin_nested():
            return _catch_up_in(session, _pending(session, sources), limit, progress)
    writer = make_sessionmaker(bind.execution_options(**{WRITE_LOCK: True}))()
    try:
        if bind.dialect.name == "postgresql":
            got = writer.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            if not got:  # another process is catching up right now
                return 0
        done = _catch_up_in(writer, _pending(writer, sources), limit, progress)
        writer.commit()
        return done
    except (sa_exc.OperationalError, sa_exc.IntegrityError) as error:
        # Another process got there first, or the database is busy: the next search retries.
        log.warning("search index catch-up skipped: %s", error)
        writer.rollback()
        return 0
    finally:
        writer.close()


def _holds_write_lock(session: Session) -> bool:
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return bool(session.new or session.dirty or session.deleted)
    return bool(conn.connection.dbapi_connection.in_transaction)  # type: ignore[union-attr]


def reindex(session: Session, *, progress: Progress | None = None) -> int:
    """Rebuild the whole index from the records (``anshin kb reindex``); the caller commits.

    Empties the index and the watermarks, then indexes every article and reads
    every feed to its end. ``progress(feed, count)`` is called as it goes.
    On PostgreSQL the tables are analysed at the end: after a rebuild the
    planner's statistics describe the empty tables, and it would scan the
    GIN index for words that are in every row (docs/knowledge-search.md).
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    if not postgresql:
        for table in FTS_NAMES:
            session.execute(text(f"DELETE FROM {table}"))
    session.execute(delete(DocumentText))
    session.execute(delete(SearchDocument))
    session.execute(delete(IndexFeed))
    session.flush()
    names = [ARTICLES_FEED, *FEEDS]
    done = _catch_up_in(session, names, None, progress)
    if postgresql:
        session.flush()
        # ANALYZE may run in the caller's transaction and samples its own new rows.
        heads = tuple(f"{table}_heads" for table in FTS_NAMES)
        for table in (*FTS_NAMES, *heads, SearchDocument.__tablename__, DocumentText.__tablename__):
            session.execute(text(f"ANALYZE {table}"))
    return done
