"""The knowledge console's pure parts: marked snippets, reply text, who may save, synonym lines."""

from __future__ import annotations

import pytest

from anshin.errors import Forbidden, InvalidInput
from anshin.knowledge import permissions, rules
from anshin.knowledge.highlight import clean_marks, marked
from anshin.knowledge.panel import insertable_text, query_text
from anshin.knowledge.synonym_views import groups_text, parse_groups


def test_marks_are_escaped_merged_and_clipped() -> None:
    text = "<b>障害</b> & 復旧"
    assert str(marked(text, [(3, 5)])) == "&lt;b&gt;<mark>障害</mark>&lt;/b&gt; &amp; 復旧"
    # Overlapping, touching, inverted, empty and out-of-range marks from any search internals.
    assert clean_marks(10, [(5, 8), (0, 2), (1, 3), (3, 4), (9, 40), (7, 6), (4, 4), (-5, 0)]) == [
        (0, 4),
        (5, 8),
        (9, 10),
    ]
    assert str(marked("返金", [(0, 99)])) == "<mark>返金</mark>"
    assert str(marked("返金", [])) == "返金"
    assert str(marked("", [(0, 3)])) == ""


def test_an_article_becomes_plain_reply_text() -> None:
    body = (
        "# 見出し\nまず**再設定**を。\n\n"
        "- 右上の[ログイン](https://example.com)\n1. 次へ\n\n\n\n終わり"
    )
    assert insertable_text(body) == "見出し\nまず再設定を。\n\n・右上のログイン\n・次へ\n\n終わり"
    assert (
        insertable_text("<script>x</script>") == "<script>x</script>"
    )  # text, escaped where shown
    assert insertable_text("") == ""


def test_the_panel_searches_the_customers_words_within_the_limit() -> None:
    assert query_text(None, "  ログイン\nできません ", "") == "ログイン できません"
    long = query_text("件名", "あ" * 500)
    assert len(long) == rules.QUERY_MAX and long.startswith("件名 ")


def _draft(kind: str = "faq", state: str = "draft") -> rules.Draft:
    return rules.Draft(key="k", kind=kind, title="t", state=state, alternative="a")


@pytest.mark.parametrize(
    ("role", "draft", "existing", "allowed"),
    [
        ("operator", _draft(), None, True),
        ("operator", _draft(), _draft(), True),
        ("operator", _draft(state="published"), None, False),
        ("operator", _draft(), _draft(state="published"), False),
        ("operator", _draft("avoid_expression"), None, False),
        ("operator", _draft(), _draft("avoid_expression"), False),
        ("senior", _draft("avoid_expression", "published"), None, True),
        ("supervisor", _draft(state="published"), _draft(state="published"), True),
        ("admin", _draft("avoid_expression"), _draft("avoid_expression", "published"), True),
    ],
)
def test_who_may_save_what(
    role: str, draft: rules.Draft, existing: rules.Draft | None, allowed: bool
) -> None:
    if allowed:
        permissions.check_save(role, draft, existing)
    else:
        with pytest.raises(Forbidden):
            permissions.check_save(role, draft, existing)
    assert permissions.may_edit(role, draft.kind, draft.state) == (
        permissions.is_editor(role) or (draft.kind != "avoid_expression" and draft.state == "draft")
    )


def test_page_names_are_no_keys() -> None:
    for key in ("new", "synonyms"):
        with pytest.raises(InvalidInput):
            permissions.check_new_key(key)
    assert permissions.check_new_key("new-login") == "new-login"


def test_synonym_lines() -> None:
    text = "ログイン, サインイン、ログオン\r\n\n返金／払い戻し/ 返して \nsign in, log in"
    groups = parse_groups(text)
    assert groups == [
        ["ログイン", "サインイン", "ログオン"],
        [],
        ["返金", "払い戻し", "返して"],
        ["sign in", "log in"],
    ]
    assert groups_text([g for g in groups if g]) == (
        "ログイン, サインイン, ログオン\n返金, 払い戻し, 返して\nsign in, log in"
    )
