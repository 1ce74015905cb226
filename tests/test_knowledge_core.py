"""The knowledge base's record: validation, versions, links, votes, usage, synonyms (R17, R32)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from anshin import events
from anshin.errors import InvalidInput, NotFound
from anshin.knowledge import rules, search, service
from anshin.team.models import User

AVOID = {
    "key": "avoid-shiyou",
    "kind": "avoid_expression",
    "title": "仕様です",
    "body": "お客様の困りごとを突き放して聞こえます。",
    "alternative": "現在の動作と、今できる回避策をご案内します",
    "state": "published",
}


def test_a_draft_is_checked_field_by_field() -> None:
    draft = rules.check_draft(
        {
            "key": "faq-login",
            "kind": "faq",
            "title": "  ログイン  できない ",
            "tags": "ログイン, 障害",
        }
    )
    assert draft.title == "ログイン できない"
    assert draft.tags == ("ログイン", "障害")
    assert draft.state == "draft" and draft.locale == "ja" and draft.public is False
    bad = [
        ({"key": "Bad Key", "kind": "faq", "title": "x"}, "key"),
        ({"key": "k", "kind": "memo", "title": "x"}, "kind"),
        ({"key": "k", "kind": "faq", "title": " "}, "title"),
        ({"key": "k", "kind": "faq", "title": "x", "locale": "fr"}, "locale"),
        ({"key": "k", "kind": "faq", "title": "x", "public": "yes"}, "public"),
        ({"key": "k", "kind": "faq", "title": "x", "owner": "me"}, "owner"),
        ({"key": "k", "kind": "avoid_expression", "title": "仕様です"}, "alternative"),
        ({"key": "k", "kind": "faq", "title": "x", "body": "あ" * 50_001}, "body"),
    ]
    for values, field in bad:
        with pytest.raises(InvalidInput) as refused:
            rules.check_draft(values)
        assert refused.value.field == field


def test_queries_are_checked_and_operators_are_just_text() -> None:
    for text in ("", "   ", None, "あ" * 201):
        with pytest.raises(InvalidInput):
            rules.check_query(text)
    with pytest.raises(InvalidInput):
        rules.check_query("障害", kinds=["memo"])
    with pytest.raises(InvalidInput):
        rules.check_query("障害", limit=0)
    assert rules.check_query('"障害" OR NEAR(').text == '"障害" OR NEAR('


def test_saving_again_versions_only_real_changes(session: Session) -> None:
    article = service.save(
        session,
        {"key": "faq-login", "kind": "faq", "title": "ログインできない"},
        actor="a@example.com",
    )
    session.commit()
    assert article.version == 1
    same = service.save(
        session,
        {"key": "faq-login", "kind": "faq", "title": "ログインできない"},
        actor="b@example.com",
    )
    assert same.version == 1
    changed = service.save(
        session,
        {
            "key": "faq-login",
            "kind": "faq",
            "title": "ログインできない",
            "body": "再読み込みしてください",
        },
        actor="b@example.com",
    )
    session.commit()
    assert changed.id == article.id and changed.version == 2
    versions = service.versions(session, changed)
    assert [(v.version, v.author) for v in versions] == [(2, "b@example.com"), (1, "a@example.com")]
    assert versions[1].fields["body"] == ""
    actions = [e.action for e in events.history(session, "article", article.id)]
    assert actions == ["article.created", "article.updated"]
    with pytest.raises(NotFound):
        service.get(session, "nope")


def test_avoid_expressions_are_the_published_ones(session: Session) -> None:
    service.save(session, AVOID, actor="lead@example.com")
    service.save(
        session,
        AVOID | {"key": "avoid-draft", "title": "担当ではないので", "state": "draft"},
        actor="lead@example.com",
    )
    session.commit()
    assert service.published_avoid_expressions(session) == [
        ("仕様です", "現在の動作と、今できる回避策をご案内します")
    ]


def test_votes_usage_and_links(session: Session) -> None:
    user = User(email="agent@example.com", name="agent", role="operator", password_hash="x")
    other = User(email="agent2@example.com", name="agent2", role="operator", password_hash="x")
    session.add_all([user, other])
    article = service.save(
        session, {"key": "wa-csv", "kind": "workaround", "title": "CSVで出力"}, actor="x"
    )
    session.flush()
    service.vote(session, article, user_id=user.id, helpful=True, actor=user.email)
    service.vote(session, article, user_id=other.id, helpful=True, actor=other.email)
    service.vote(session, article, user_id=user.id, helpful=False, actor=user.email)
    assert (article.helpful, article.not_helpful) == (1, 1)
    service.record_use(session, article, inquiry_id=41, actor=user.email)
    service.record_use(session, article, inquiry_id=41, actor=user.email)
    assert article.usage_count == 2
    assert [
        (link.target_type, link.target_id, link.relation)
        for link in service.links(session, article)
    ] == [("inquiry", 41, "used")]
    with pytest.raises(InvalidInput):
        service.link(session, article, "ticket", 1, actor="x")


def test_synonyms_are_replaced_as_a_whole(session: Session) -> None:
    service.replace_synonyms(
        session, [["ログイン", "サインイン"], [], ["障害", "不具合", "エラー"]], actor="x"
    )
    assert service.synonym_groups(session) == [
        ["ログイン", "サインイン"],
        ["障害", "不具合", "エラー"],
    ]
    with pytest.raises(InvalidInput) as refused:
        service.replace_synonyms(session, [["返金"]], actor="x")
    assert "Line" in str(refused.value)


def test_search_finds_the_article_in_the_customers_words(session: Session) -> None:
    service.save(
        session,
        {
            "key": "faq-login",
            "kind": "faq",
            "title": "ログインできないとき",
            "body": "ブラウザを再読み込みしてください。",
            "state": "published",
            "public": True,
        },
        actor="x",
    )
    service.save(
        session,
        {"key": "faq-refund", "kind": "faq", "title": "返金について", "state": "published"},
        actor="x",
    )
    session.commit()
    hits = search.search(session, rules.check_query("ﾛｸﾞｲﾝ できません"))
    assert [hit.key for hit in hits] == ["faq-login"]
    assert search.search(session, rules.check_query("返金", public_only=True)) == []


def test_bodies_render_without_raw_html_or_script_links() -> None:
    from anshin.knowledge import render

    html = render.to_html(
        "# 手順\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) [ok](https://example.com)"
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and 'href="https://example.com"' in html
    assert render.to_text("**再読み込み**してください\n\n- 手順1") == "再読み込みしてください 手順1"


def test_a_key_no_article_can_have_is_a_miss(session: Session) -> None:
    for key in ("a\x00b", "two words", "x" * 500, "Upper"):
        with pytest.raises(NotFound):
            service.get(session, key)
