"""Saving articles with their versions, links, votes and usage; the synonym list (R17, R32).

Every change is an ``article.*`` event in the same transaction. Saving an
article whose fields did not change adds no version (a re-import of an
unchanged folder is a no-op), so the version list shows real edits only.
Callers commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin import events
from anshin.db import utcnow
from anshin.errors import InvalidInput, NotFound
from anshin.i18n import N_
from anshin.knowledge import index, rules
from anshin.knowledge.models import (
    ENTITY,
    Article,
    ArticleLink,
    ArticleVersion,
    ArticleVote,
    SynonymGroup,
)

SYNONYM_GROUP_MAX = 20  # words in one group
SYNONYM_WORD_MAX = 40


def _apply(article: Article, draft: rules.Draft) -> None:
    article.kind = draft.kind
    article.title = draft.title
    article.body = draft.body
    article.alternative = draft.alternative
    article.tags = list(draft.tags)
    article.components = list(draft.components)
    article.locale = draft.locale
    article.state = draft.state
    article.public = draft.public


def current_draft(article: Article) -> rules.Draft:
    """The article's fields as a draft (what the edit form and export start from)."""
    return rules.Draft(
        key=article.key,
        kind=article.kind,
        title=article.title,
        body=article.body,
        alternative=article.alternative,
        tags=tuple(article.tags or ()),
        components=tuple(article.components or ()),
        locale=article.locale,
        state=article.state,
        public=article.public,
    )


def save(session: Session, values: Mapping[str, object] | rules.Draft, *, actor: str) -> Article:
    """Create the article with this key, or update it and add a version when something changed."""
    draft = values if isinstance(values, rules.Draft) else rules.check_draft(values)
    article = session.scalar(select(Article).where(Article.key == draft.key))
    now = utcnow()
    if article is None:
        article = Article(
            key=draft.key,
            version=1,
            usage_count=0,
            helpful=0,
            not_helpful=0,
            created_by=actor,
            updated_by=actor,
            created_at=now,
            updated_at=now,
        )
        _apply(article, draft)
        session.add(article)
        session.flush()
        action, before = "article.created", None
    else:
        previous = current_draft(article)
        if previous == draft:
            return article
        _apply(article, draft)
        article.version += 1
        article.updated_by = actor
        article.updated_at = now
        action, before = "article.updated", previous.as_fields()
    session.add(
        ArticleVersion(
            article_id=article.id,
            version=article.version,
            fields=draft.as_fields(),
            author=actor,
            saved_at=now,
        )
    )
    events.record(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=article.id,
        action=action,
        before=before,
        after=draft.as_fields() | {"version": article.version},
    )
    index.refresh_article(session, article)  # the search sees this version at once
    return article


def get(session: Session, key: str) -> Article:
    """The article by its key; 404 with the key otherwise."""
    article = session.scalar(select(Article).where(Article.key == key))
    if article is None:
        raise NotFound(N_("No such article: {key}."), key=key)
    return article


def versions(session: Session, article: Article) -> list[ArticleVersion]:
    """Every saved version, newest first (R32)."""
    return list(
        session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article.id)
            .order_by(ArticleVersion.version.desc())
        )
    )


def listing(
    session: Session,
    *,
    kind: str | None = None,
    state: str | None = None,
    locale: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[Article]:
    """Articles for the console's list, most recently changed first."""
    statement = select(Article)
    if kind:
        statement = statement.where(Article.kind == kind)
    if state:
        statement = statement.where(Article.state == state)
    if locale:
        statement = statement.where(Article.locale == locale)
    statement = statement.order_by(Article.updated_at.desc(), Article.id.desc())
    return list(session.scalars(statement.limit(limit).offset(offset)))


def published_avoid_expressions(session: Session) -> list[tuple[str, str]]:
    """(expression, alternative) of every published expression to avoid (R17), for the check."""
    rows = session.execute(
        select(Article.title, Article.alternative)
        .where(Article.kind == rules.Kind.AVOID_EXPRESSION, Article.state == rules.State.PUBLISHED)
        .order_by(Article.id)
    )
    return [(title, alternative or "") for title, alternative in rows]


def link(
    session: Session,
    article: Article,
    target_type: str,
    target_id: int,
    *,
    relation: str = rules.Relation.SOURCE,
    actor: str,
) -> ArticleLink:
    """Link the article to a record it came from or was used on (R32); linking twice is one link."""
    if target_type not in {t.value for t in rules.LinkTarget}:
        raise InvalidInput(N_("Unknown record type: {value}."), field="target", value=target_type)
    found = session.scalar(
        select(ArticleLink).where(
            ArticleLink.article_id == article.id,
            ArticleLink.target_type == target_type,
            ArticleLink.target_id == target_id,
        )
    )
    if found is not None:
        return found
    row = ArticleLink(
        article_id=article.id,
        target_type=target_type,
        target_id=target_id,
        relation=str(relation),
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(row)
    events.record(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=article.id,
        action="article.linked",
        after={"target_type": target_type, "target_id": target_id, "relation": str(relation)},
    )
    session.flush()
    return row


def links(session: Session, article: Article) -> list[ArticleLink]:
    return list(
        session.scalars(
            select(ArticleLink).where(ArticleLink.article_id == article.id).order_by(ArticleLink.id)
        )
    )


def record_use(session: Session, article: Article, *, inquiry_id: int | None, actor: str) -> None:
    """An agent inserted the article into a reply: the usage count goes up (R17), linked once."""
    article.usage_count = (article.usage_count or 0) + 1
    events.record(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=article.id,
        action="article.used",
        after={"inquiry_id": inquiry_id, "usage_count": article.usage_count},
    )
    if inquiry_id is not None:
        link(
            session,
            article,
            rules.LinkTarget.INQUIRY,
            inquiry_id,
            relation=rules.Relation.USED,
            actor=actor,
        )
    session.flush()


def vote(session: Session, article: Article, *, user_id: int, helpful: bool, actor: str) -> None:
    """An agent's helpful / not-helpful vote; voting again replaces the agent's earlier vote."""
    row = session.scalar(
        select(ArticleVote).where(
            ArticleVote.article_id == article.id, ArticleVote.user_id == user_id
        )
    )
    if row is None:
        session.add(
            ArticleVote(article_id=article.id, user_id=user_id, helpful=helpful, voted_at=utcnow())
        )
    else:
        row.helpful = helpful
        row.voted_at = utcnow()
    session.flush()
    counts = dict(
        session.execute(
            select(ArticleVote.helpful, func.count())
            .where(ArticleVote.article_id == article.id)
            .group_by(ArticleVote.helpful)
        ).all()
    )
    article.helpful = int(counts.get(True, 0))
    article.not_helpful = int(counts.get(False, 0))
    events.record(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=article.id,
        action="article.voted",
        after={"helpful": helpful},
    )


def synonym_groups(session: Session) -> list[list[str]]:
    """The team's synonym list, one group of words per entry."""
    return [
        list(words)
        for words in session.scalars(select(SynonymGroup.words).order_by(SynonymGroup.id))
    ]


def check_synonym_groups(groups: Sequence[Sequence[str]]) -> list[list[str]]:
    """Groups of two or more distinct words; blank lines dropped."""
    clean: list[list[str]] = []
    for number, group in enumerate(groups, start=1):
        words: list[str] = []
        for word in group:
            text = " ".join(str(word).split())
            if len(text) > SYNONYM_WORD_MAX:
                raise InvalidInput(
                    N_("Line {line}: a word must be at most {n} characters."),
                    field="synonyms",
                    line=number,
                    n=SYNONYM_WORD_MAX,
                )
            if text and text not in words:
                words.append(text)
        if not words:
            continue
        if len(words) < 2 or len(words) > SYNONYM_GROUP_MAX:
            raise InvalidInput(
                N_("Line {line}: a group needs 2 to {n} different words."),
                field="synonyms",
                line=number,
                n=SYNONYM_GROUP_MAX,
            )
        clean.append(words)
    return clean


def replace_synonyms(
    session: Session, groups: Sequence[Sequence[str]], *, actor: str
) -> list[list[str]]:
    """Replace the whole synonym list (the console edits it as one text, a group per line)."""
    clean = check_synonym_groups(groups)
    before = synonym_groups(session)
    for row in session.scalars(select(SynonymGroup)):
        session.delete(row)
    now = utcnow()
    for words in clean:
        session.add(SynonymGroup(words=words, updated_by=actor, updated_at=now))
    events.record(
        session,
        actor=actor,
        entity_type="kb_synonyms",
        entity_id=0,
        action="kb.synonyms_replaced",
        before={"groups": before},
        after={"groups": clean},
    )
    session.flush()
    return clean
