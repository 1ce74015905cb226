"""Articles, their versions, links to the work they came from, votes and synonym groups.

R17: a team's answers that worked and its expressions to avoid; R32: each
article keeps every version (who, when) and its links back to the incidents,
inquiries and updates it was drawn from, so a reader can see where an answer
was proven; R34: ``public`` + ``published`` FAQ articles appear on the status page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anshin.db import Base, UTCDateTime, utcnow

ENTITY = "article"  # entity_type of an article's events


class Article(Base):
    """The current version of one article; earlier versions are ``ArticleVersion`` rows.

    ``key`` is the team's stable id (a file name in its git folder, a JSON line's
    ``key``): importing the same key again updates this row and adds a version.
    For ``avoid_expression`` articles ``title`` is the expression itself,
    ``body`` why it hurts and ``alternative`` what to write instead (R17).
    """

    __tablename__ = "kb_articles"
    __table_args__ = (Index("ix_kb_articles_listing", "state", "kind", "locale"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # rules.Kind
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered safely
    alternative: Mapped[str | None] = mapped_column(String(500), nullable=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    components: Mapped[list[str]] = mapped_column(JSON, default=list)  # component names
    locale: Mapped[str] = mapped_column(String(5), default="ja")
    state: Mapped[str] = mapped_column(String(10), default="draft")  # rules.State
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    usage_count: Mapped[int] = mapped_column(Integer, default=0)  # replies that used it
    helpful: Mapped[int] = mapped_column(Integer, default=0)
    not_helpful: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(254))
    updated_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ArticleVersion(Base):
    """One saved version: the whole article as it was, with its author and time (R32)."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)  # rules.Draft as saved
    author: Mapped[str] = mapped_column(String(254))
    saved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ArticleLink(Base):
    """Where an article came from or was used: an incident, an inquiry, an update (R32)."""

    __tablename__ = "kb_article_links"
    __table_args__ = (UniqueConstraint("article_id", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    target_type: Mapped[str] = mapped_column(String(20))  # rules.LinkTarget
    target_id: Mapped[int] = mapped_column(Integer)
    relation: Mapped[str] = mapped_column(String(20))  # rules.Relation
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ArticleVote(Base):
    """One agent's helpful / not-helpful vote on one article; voting again changes it."""

    __tablename__ = "kb_article_votes"
    __table_args__ = (UniqueConstraint("article_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    helpful: Mapped[bool] = mapped_column(Boolean)
    voted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SynonymGroup(Base):
    """Words the team treats as one in search (ログイン/サインイン, 障害/不具合/エラー…).

    Edited by the team; the search expands a query word to its whole group.
    """

    __tablename__ = "kb_synonyms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    words: Mapped[list[str]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# The search index's tables (kbsearch) are part of this domain's metadata.
from anshin.knowledge import index_models as index_models  # noqa: E402
