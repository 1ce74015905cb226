"""The starter list: it loads, loads again as a no-op, never overwrites a team's edit, and its
expressions to avoid do not say what the message check's built-in rules already say (R17)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from anshin.comms.lint.engine import check
from anshin.knowledge import exchange, io, service
from kb_io_support import snapshot

STARTER = io.read_path(exchange.STARTER / "articles")
AVOID = [item.draft for item in STARTER if item.draft.kind == "avoid_expression"]
PUBLISHED = [d for d in AVOID if d.state == "published"]
BUILT_IN = "built-in-check"


def _sentence(expression: str, locale: str) -> str:
    return f"{expression}。" if locale == "ja" else f"{expression}."


def _built_in_overlaps(expression: str, locale: str, kind: str) -> list[str]:
    text = _sentence(expression, locale)
    return [
        f.rule
        for f in check(text, kind=kind, locale=locale)
        # missing-* rules are about the whole message, not these words
        if f.start < len(expression)
        and f.rule != "long-sentence"
        and not f.rule.startswith("missing-")
    ]


def test_the_starter_list_has_what_the_issue_names() -> None:
    titles = {d.title for d in AVOID}
    assert {"調査中です", "社内での調整不足", "仕様です", "担当ではないので"} <= titles
    kinds = {item.draft.kind for item in STARTER}
    assert kinds == {"faq", "explanation", "workaround", "script", "avoid_expression"}
    assert {item.draft.locale for item in STARTER} == {"ja", "en"}
    groups = exchange.parse_synonyms((exchange.STARTER / "synonyms.txt").read_bytes())
    words = {word for group in groups for word in group}
    assert {"ログイン", "サインイン", "障害", "不具合", "エラー", "返金", "払い戻し"} <= words
    assert {"できへん", "でけへん", "お金返して"} <= words


@pytest.mark.parametrize("draft", PUBLISHED, ids=lambda d: d.key)
def test_a_published_expression_is_new_to_the_check(draft: object) -> None:
    """Fed to the check, it is flagged once, by the avoid rule, with its alternative."""
    from anshin.knowledge.rules import Draft

    assert isinstance(draft, Draft) and draft.alternative
    assert BUILT_IN not in draft.tags
    for kind in ("inquiry_reply", "update"):
        assert _built_in_overlaps(draft.title, draft.locale, kind) == [], kind
    text = _sentence(draft.title, draft.locale)
    fed = check(
        text,
        kind="inquiry_reply",
        locale=draft.locale,
        avoid_expressions=[(draft.title, draft.alternative)],
    )
    flagged = [f for f in fed if f.rule == "avoid-expression"]
    assert len(flagged) == 1 and draft.alternative in flagged[0].suggestion


@pytest.mark.parametrize("draft", [d for d in AVOID if d.state == "draft"], ids=lambda d: d.key)
def test_a_draft_expression_is_one_the_check_already_covers(draft: object) -> None:
    """Shipped as drafts (not fed to the check): a built-in rule flags them already."""
    from anshin.knowledge.rules import Draft

    assert isinstance(draft, Draft) and BUILT_IN in draft.tags
    if _built_in_overlaps(draft.title, draft.locale, "inquiry_reply"):
        return
    # A bare 「調査中です」: wrong only without the next contact, which words cannot see and
    # missing-next-update can.
    later = "15時に改めてお知らせいたします。" if draft.locale == "ja" else "Next update at 15:00."
    bare = check(_sentence(draft.title, draft.locale), kind="update", locale=draft.locale)
    told = check(_sentence(draft.title, draft.locale) + later, kind="update", locale=draft.locale)
    assert any(f.rule == "missing-next-update" for f in bare)
    assert not any(f.rule == "missing-next-update" for f in told)


def test_the_starter_articles_do_not_use_the_expressions_they_warn_against() -> None:
    for item in STARTER:
        draft = item.draft
        texts = [draft.title, draft.body] if draft.kind != "avoid_expression" else []
        texts += [draft.alternative] if draft.alternative else []
        for avoid in PUBLISHED:
            if avoid.locale == draft.locale:
                assert all(avoid.title not in text for text in texts), (draft.key, avoid.title)


def test_the_starter_answers_pass_the_message_check() -> None:
    """FAQ, scripts and workarounds are texts agents copy into replies: no finding of wording."""
    for item in STARTER:
        draft = item.draft
        if draft.kind == "avoid_expression":
            continue
        findings = [
            (f.rule, draft.body[f.start : f.end])
            for f in check(draft.body, kind="inquiry_reply", locale=draft.locale)
            if not f.rule.startswith("missing-") and f.rule != "long-sentence"
        ]
        assert findings == [], draft.key


def test_loading_twice_changes_nothing_and_a_team_edit_is_kept(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        service.replace_synonyms(session, [["ログイン", "ログオン画面"]], actor="team")
        report = exchange.load_starter(session, actor="test")
        session.commit()
    assert len(report.created) == len(STARTER) and not report.kept
    with sessions() as session:
        groups = service.synonym_groups(session)
        assert groups[0] == ["ログイン", "ログオン画面"]  # the team's group of ログイン wins
        assert not any("サインイン" in g for g in groups)
        assert ["返金", "払い戻し", "払戻し", "お金返して", "お金を返して"] in groups
        published = dict(service.published_avoid_expressions(session))
        assert "担当ではないので" in published and "仕様です" not in published
        article = service.get(session, "faq-outage-status")
        service.save(
            session, service.current_draft(article).as_fields() | {"title": "独自"}, actor="t"
        )
        session.commit()
    before = snapshot(sessions)
    with sessions() as session:
        again = exchange.load_starter(session, actor="test")
        session.commit()
    assert not again.created and again.synonym_groups == 0
    assert snapshot(sessions) == before
    with sessions() as session:
        assert service.get(session, "faq-outage-status").title == "独自"
