"""Shared by the knowledge import/export tests: sample articles and a snapshot of the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anshin.events import Event
from anshin.knowledge import exchange, service
from anshin.knowledge.models import ArticleVersion

# Bodies a Markdown file or a JSON line must carry through unchanged: markup stays text.
SAMPLES: list[dict[str, Any]] = [
    {
        "key": "faq-login",
        "kind": "faq",
        "title": "ログインできない",
        "body": "ステータスページをご確認ください。\n\n<script>alert('x')</script>\n",
        "tags": ["ログイン", "障害"],
        "locale": "ja",
        "state": "published",
        "public": True,
    },
    {
        "key": "script.phone",
        "kind": "script",
        "title": "yes",  # YAML would read a bare yes as true
        "body": "\n\n---\nnot: front matter\n---\n```\n<b>{{ x }}</b>\n```",
        "components": ["Login", "API: v2"],
        "locale": "en",
    },
    {
        "key": "avoid_x-1",
        "kind": "avoid_expression",
        "title": "- 123: #仕様です",
        "body": "",
        "alternative": "現在の動作と回避策をご案内します",
        "state": "published",
    },
]


def snapshot(sessions: sessionmaker[Session]) -> tuple[Any, ...]:
    """Everything an import may touch: articles, versions, events, synonyms."""
    with sessions() as session:
        articles = [draft.as_fields() for draft in exchange.drafts(session)]
        versions = session.scalar(select(func.count()).select_from(ArticleVersion))
        events = session.scalar(select(func.count()).select_from(Event))
        return articles, versions, events, service.synonym_groups(session)
