"""The message check on Japanese outage messages: each rule, when it fires and when it must not.

The texts are the kind of thing a support desk actually sends (or should
not send) during an outage; the "must not fire" cases are the guide's own
recommended phrasings, negations, quotations and template placeholders.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from anshin.comms.lint import KINDS, Finding, IncidentFacts, check, has_errors

GOOD_FIRST_NOTICE = """お客様各位

いつも弊社サービスをご利用いただき、誠にありがとうございます。
本日14:05頃より、管理画面にログインできない障害が発生しております。
急にサービスが使えなくなり、驚かれたことと思います。ご不便をおかけしており、誠に申し訳ございません。
現在、担当部署にて原因の特定と復旧作業に全力を挙げております。原因は現在確認中です。
次回は15:30までに、状況をメールとステータスページでご連絡いたします。"""

BAD_FIRST_NOTICE = """システム障害のお知らせ
おそらくデータベースの負荷が原因と思われます。外部業者の問題で、想定外の事態となりました。
早急に復旧いたします。詳細が分かり次第、改めてご連絡いたします。"""


def spans(
    text: str,
    rule: str,
    kind: str = "report_notice",
    facts: IncidentFacts | None = None,
    avoid_expressions: Sequence[tuple[str, str]] = (),
) -> list[str]:
    """The original words each finding of ``rule`` underlines."""
    findings = check(text, kind=kind, facts=facts, avoid_expressions=avoid_expressions)
    return [text[f.start : f.end] for f in findings if f.rule == rule]


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


# ----------------------------------------------------------------- whole messages


def test_a_good_first_notice_has_no_findings() -> None:
    assert check(GOOD_FIRST_NOTICE, kind="first_notice", facts=IncidentFacts()) == []


def test_a_bad_first_notice_gets_every_problem_named() -> None:
    findings = check(BAD_FIRST_NOTICE, kind="first_notice", facts=IncidentFacts())
    assert rules(findings) >= {
        "speculation",
        "jargon",
        "excuse",
        "vague-deadline",
        "unconfirmed-as-fact",
        "missing-apology",
        "missing-next-update",
        "missing-empathy",
    }
    assert has_errors(findings)
    assert findings == sorted(findings, key=lambda f: (f.start, f.end))
    for finding in findings:
        assert 0 <= finding.start <= finding.end <= len(BAD_FIRST_NOTICE)
        assert finding.message and finding.suggestion


def test_messages_are_in_the_language_of_the_text() -> None:
    finding = next(f for f in check("おそらく復旧します。", kind="report_notice"))
    assert finding.rule == "speculation"
    assert "『おそらく』は推測です" in finding.message
    assert "現在確認中です" in finding.suggestion


def test_unknown_kind_and_locale_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        check("テスト", kind="tweet")
    with pytest.raises(ValueError, match="unknown locale"):
        check("test", kind="update", locale="fr")


def test_every_kind_is_accepted() -> None:
    for kind in KINDS:
        assert isinstance(check(GOOD_FIRST_NOTICE, kind=kind), list)


# ----------------------------------------------------------------- speculation (R3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("おそらくネットワーク機器の故障です。", "おそらく"),
        ("たぶん15時には直ります。", "たぶん"),
        ("多分、設定の誤りです。", "多分"),
        ("負荷の増大が原因と思われます。", "と思われます"),
        ("データが一部消えているかもしれません。", "かもしれません"),
        ("再起動で直るはずです。", "はずです"),
        ("外部回線の不調と推測されます。", "と推測されます"),
        ("設定変更が原因の可能性が高いです。", "可能性が高"),
        ("15時には復旧すると思います。", "と思います"),
        ("障害は解消した模様です。", "模様です"),
    ],
)
def test_speculation_fires_on_guesses(text: str, expected: str) -> None:
    assert spans(text, "speculation") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        # the guide's own honest wording (001)
        "現時点では確認できておりませんが、可能性として調査中です。",
        # negation: the guess is denied, not made
        "おそらく、といった推測ではなく、確認できた事実のみをお伝えします。",
        "推測ではなく、確認済みの事実としてお知らせいたします。",
        # quoted: the expression is being discussed
        "今後は「おそらく」「たぶん」といった表現を使わずにご案内いたします。",
        # empathy and intention, not guesses
        "急にサービスが使えなくなって驚かれたと思います。",
        "お忙しい中、ご不便をおかけしていることと思います。",
        "今後の対策について改めてご報告したいと思います。",
        "再発防止に努めてまいりたいと考えております。",
        "ご確認いただけますでしょうか。",
    ],
)
def test_speculation_does_not_fire_on_honest_or_quoted_text(text: str) -> None:
    assert spans(text, "speculation") == []


def test_speculation_inside_a_template_placeholder_does_not_fire() -> None:
    assert spans("{{ おそらく }}様、{% if たぶん %}ご案内{% endif %}", "speculation") == []


def test_a_guess_about_something_else_is_not_a_negation() -> None:
    # 「ではなく」 negates the object here, the sentence is still a guess.
    assert spans("おそらく原因はサーバーではなく、回線です。", "speculation") == ["おそらく"]


# ----------------------------------------------------------------- jargon (R6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DBの障害により表示が遅れています。", "DB"),
        ("データベースに接続できない状態です。", "データベース"),
        ("サーバーを再起動しております。", "サーバー"),
        ("デプロイ後に不具合が発生しました。", "デプロイ"),
        ("ロールバックを実施しました。", "ロールバック"),
        ("レイテンシが増大しています。", "レイテンシ"),
        ("一部の画面で502エラーが表示されます。", "502エラー"),
        ("503 Service Unavailableが返されます。", "503 Service Unavailable"),
        ("DNSの設定を変更しました。", "DNS"),
        ("APIからの連携が止まっています。", "API"),
        ("キャッシュを削除しました。", "キャッシュ"),
        ("フェイルオーバーが正常に動作しませんでした。", "フェイルオーバー"),
        ("SSL証明書の期限が切れていました。", "SSL証明書"),
    ],
)
def test_jargon_fires_on_technical_words(text: str, expected: str) -> None:
    assert spans(text, "jargon") == [expected]


def test_jargon_suggests_a_plain_alternative() -> None:
    finding = next(f for f in check("DNSの設定を変更しました。", kind="report_notice"))
    assert finding.severity == "warning"
    assert "インターネット上の住所" in finding.suggestion


@pytest.mark.parametrize(
    "text",
    [
        "DNS（インターネット上の住所録のような仕組み）の設定に誤りがありました。",
        "APIとは、他のシステムとつなぐための窓口です。",
        "システムの更新作業（デプロイ）の後に不具合が発生しました。",
        "キャッシュという仕組みにより、古い画面が表示されていました。",
        "ログイン画面が表示されません。",  # ログ is not ログイン
        "キャッシュレス決済がご利用いただけません。",  # キャッシュ is not キャッシュレス
        "502件のお問い合わせをいただいております。",  # a count, not an error code
        "「API設定」画面から再設定してください。",  # a screen name in quotes
        "{{ server_name }}様",  # a placeholder
    ],
)
def test_jargon_does_not_fire_when_explained_or_not_jargon(text: str) -> None:
    assert spans(text, "jargon") == []


def test_jargon_explained_once_is_not_flagged_again() -> None:
    text = "DNS（インターネット上の住所録）に誤りがありました。現在、DNSの修正を進めております。"
    assert spans(text, "jargon") == []


# ----------------------------------------------------------------- missing apology (R12)


def test_missing_apology_fires_for_kinds_that_owe_one() -> None:
    text = "本日14:05頃より障害が発生しております。次回は15:30までにご連絡いたします。"
    for kind in ("first_notice", "update", "no_news_update", "resolution", "inquiry_reply"):
        findings = [f for f in check(text, kind=kind) if f.rule == "missing-apology"]
        assert len(findings) == 1, kind
        assert findings[0].severity == "error"
        # it points at the first sentence, where the apology belongs
        assert (
            text[findings[0].start : findings[0].end] == "本日14:05頃より障害が発生しております。"
        )


def test_missing_apology_does_not_fire_for_announcements_or_with_an_apology() -> None:
    text = "本日14:05頃より障害が発生しております。"
    assert spans(text, "missing-apology", kind="maintenance_notice") == []
    assert spans(text, "missing-apology", kind="report_notice") == []
    for apology in ("申し訳ございません。", "深くお詫び申し上げます。", "申し訳ありませんでした。"):
        assert spans(text + apology, "missing-apology", kind="update") == []


def test_a_quoted_apology_is_not_our_apology() -> None:
    text = "お客様から「申し訳ございませんで済む話ではない」とのお声をいただいております。"
    assert len(spans(text, "missing-apology", kind="inquiry_reply")) == 1


# ----------------------------------------------------------------- missing next update (R3, R5)


@pytest.mark.parametrize(
    "line",
    [
        "次回は15:30までにご連絡いたします。",
        "次回は15時30分頃にご報告いたします。",
        "30分後に改めて状況をお知らせいたします。",
        "次回の更新は１６：００を予定しております。",
        "以降、1時間ごとに状況をお知らせいたします。",
        "次回は{{ next_update_at }}までにご連絡いたします。",
    ],
)
def test_missing_next_update_is_satisfied_by_a_time(line: str) -> None:
    text = "障害が発生しております。申し訳ございません。" + line
    assert spans(text, "missing-next-update", kind="update") == []


@pytest.mark.parametrize(
    "line",
    [
        "詳細が分かり次第、改めてご連絡いたします。",
        # a start time and a status time are not the time of the next contact
        "本日14:05頃から発生している障害についてお知らせいたします。",
        "15:00時点の状況をお知らせいたします。",
    ],
)
def test_missing_next_update_fires_without_a_promised_time(line: str) -> None:
    text = "ご不便をおかけし申し訳ございません。" + line
    for kind in ("first_notice", "update", "no_news_update"):
        assert len(spans(text, "missing-next-update", kind=kind)) == 1
    assert spans(text, "missing-next-update", kind="resolution") == []


# ----------------------------------------------------------------- vague deadline (R15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("早急に対応いたします。", "早急に"),
        ("できる限り早く復旧させます。", "できる限り早く"),
        ("可能な限り速やかにご連絡いたします。", "可能な限り速やかに"),
        ("近日中にご案内いたします。", "近日中に"),
        ("後ほど担当よりご連絡いたします。", "後ほど"),
        ("しばらくお待ちください。", "しばらく"),
        ("追ってご連絡いたします。", "追ってご連絡"),
    ],
)
def test_vague_deadline_fires_without_a_time(text: str, expected: str) -> None:
    assert spans(text, "vague-deadline") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "本日17:00までに、可能な限り速やかにご連絡いたします。",
        "後ほど、16時頃に担当よりご連絡いたします。",
        "11月25日までに追ってご報告いたします。",
        "「早急に」という言葉は使わないでください。",
    ],
)
def test_vague_deadline_does_not_fire_with_a_time_or_in_quotes(text: str) -> None:
    assert spans(text, "vague-deadline") == []


def test_vague_deadline_is_reported_once_per_sentence() -> None:
    assert spans("詳細が分かり次第、改めてご連絡いたします。", "vague-deadline") == ["分かり次第"]


# ----------------------------------------------------------------- excuse (R14)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("外部業者の問題で、サービスが停止しました。", "外部業者の問題"),
        ("回線事業者のせいで接続できませんでした。", "回線事業者のせい"),
        ("停電のせいで接続できませんでした。", "のせい"),
        ("この動作は仕様です。", "仕様です"),
        ("想定外のアクセスが集中しました。", "想定外"),
        ("今回の件につきまして当社に責任はございません。", "当社に責任はございません"),
        ("やむを得ずサービスを停止しました。", "やむを得ず"),
        ("お客様の誤操作が原因です。", "お客様の誤操作"),
        ("担当者のミスにより、設定が誤っておりました。", "担当者のミス"),
    ],
)
def test_excuse_fires_on_self_justification_and_blame(text: str, expected: str) -> None:
    assert spans(text, "excuse") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "外部業者のせいにするつもりはございません。弊社の確認不足でした。",
        "外部業者の問題ではなく、弊社の設定誤りによるものです。",
        "「仕様です」というご回答でご不快な思いをおかけしました。",
    ],
)
def test_excuse_does_not_fire_when_denied_or_quoted(text: str) -> None:
    assert spans(text, "excuse") == []


def test_excuse_blaming_an_individual_has_its_own_message() -> None:
    finding = next(
        f
        for f in check("担当者のミスにより停止しました。", kind="report_notice")
        if f.rule == "excuse"
    )
    assert "会社として" in finding.message


# ----------------------------------------------------------------- vague responsibility (R16)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("社内での調整不足により、ご迷惑をおかけしました。", "社内での調整不足"),
        ("諸般の事情により、対応が遅れました。", "諸般の事情"),
        ("一部の不具合により、表示が乱れました。", "一部の不具合により"),
        ("何らかの問題により、メールが届いておりません。", "何らかの問題により"),
        ("技術的な問題により、サービスを停止しております。", "技術的な問題により"),
    ],
)
def test_vague_responsibility_fires_without_a_concrete_cause(text: str, expected: str) -> None:
    assert spans(text, "vague-responsibility") == [expected]


def test_vague_responsibility_does_not_fire_when_the_cause_is_then_named() -> None:
    text = (
        "社内での調整不足により、ご迷惑をおかけしました。"
        "具体的には、開発部門と運用部門の間でリリース日時の共有が漏れていました。"
    )
    assert spans(text, "vague-responsibility") == []
    assert spans("「社内での調整不足」という説明は避けてください。", "vague-responsibility") == []


# ----------------------------------------------------------------- missing empathy (R13)


def test_missing_empathy_is_information_for_kinds_that_speak_to_affected_customers() -> None:
    text = "障害は解消しました。申し訳ございませんでした。"
    findings = [f for f in check(text, kind="resolution") if f.rule == "missing-empathy"]
    assert len(findings) == 1
    assert findings[0].severity == "info"
    assert spans(text, "missing-empathy", kind="maintenance_notice") == []
    assert spans(text, "missing-empathy", kind="report_notice") == []


@pytest.mark.parametrize(
    "line",
    [
        "急にサービスが使えなくなって驚かれたと思います。",
        "お忙しい中でのトラブルで、本当にご不便をおかけしております。",
        "ご心配をおかけしております。",
        "ご迷惑をおかけし、申し訳ございません。",
    ],
)
def test_missing_empathy_is_satisfied_by_words_about_the_customer(line: str) -> None:
    assert spans("障害は解消しました。" + line, "missing-empathy", kind="resolution") == []


# ----------------------------------------------------------------- unconfirmed as fact (R3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15時に復旧します。", "復旧します"),
        ("まもなく復旧いたします。", "まもなく復旧"),
        ("復旧見込みは15時です。", "復旧見込みは15時"),
        ("15時頃に復旧する見込みです。", "復旧する見込みです"),
        ("障害は復旧いたしました。", "復旧いたしました"),
    ],
)
def test_unconfirmed_recovery_stated_as_fact(text: str, expected: str) -> None:
    assert spans(text, "unconfirmed-as-fact", facts=IncidentFacts()) == [expected]
    # once the incident record confirms recovery, the same words are fine
    confirmed = IncidentFacts(recovery_confirmed=True)
    assert spans(text, "unconfirmed-as-fact", facts=confirmed) == []


def test_unconfirmed_cause_stated_as_fact() -> None:
    text = "原因はネットワーク機器の故障です。"
    assert spans(text, "unconfirmed-as-fact", facts=IncidentFacts()) == [
        "原因はネットワーク機器の故障です"
    ]
    assert spans(text, "unconfirmed-as-fact", facts=IncidentFacts(cause_confirmed=True)) == []
    # a confirmed recovery does not confirm the cause
    assert (
        len(spans(text, "unconfirmed-as-fact", facts=IncidentFacts(recovery_confirmed=True))) == 1
    )


@pytest.mark.parametrize(
    "text",
    [
        "復旧見込みは15時頃ですが、現在確認中です。",
        "15時頃に復旧する見込みです。ただし、現在確認中のため前後する可能性があります。",
        "原因は現在確認中です。",
        "原因は特定できておりません。",
        "復旧しましたら、改めてご連絡いたします。",
        "復旧作業を進めております。",
    ],
)
def test_hedged_or_conditional_statements_are_not_facts(text: str) -> None:
    assert spans(text, "unconfirmed-as-fact", facts=IncidentFacts()) == []


def test_an_unrelated_hedge_does_not_excuse_a_stated_recovery_time() -> None:
    text = "15時に復旧します。原因は現在確認中です。"
    assert spans(text, "unconfirmed-as-fact", facts=IncidentFacts()) == ["復旧します"]


def test_unconfirmed_as_fact_needs_the_incident_record() -> None:
    assert spans("15時に復旧します。", "unconfirmed-as-fact") == []


# ----------------------------------------------------------------- avoid expressions (R17)


def test_shipped_avoid_list_applies() -> None:
    found = [
        f for f in check("ご理解ください。", kind="report_notice") if f.rule == "avoid-expression"
    ]
    assert len(found) == 1
    assert "ご理解いただけますと幸いです" in found[0].suggestion


def test_knowledge_base_expressions_are_checked_with_their_alternative() -> None:
    pairs = [("対応中です", "現在、決済画面の復旧作業を行っております")]
    text = "引き続き対応中です。"
    found = [
        f
        for f in check(text, kind="report_notice", avoid_expressions=pairs)
        if f.rule == "avoid-expression"
    ]
    assert [text[f.start : f.end] for f in found] == ["対応中です"]
    assert "決済画面の復旧作業" in found[0].suggestion
    assert spans(text, "avoid-expression") == []  # not on the shipped list


def test_knowledge_base_expression_wins_over_the_shipped_one_for_the_same_words() -> None:
    pairs = [("ご理解ください", "弊社の手順を見直すまでお時間をいただけますと幸いです")]
    found = [
        f
        for f in check("ご理解ください。", kind="report_notice", avoid_expressions=pairs)
        if f.rule == "avoid-expression"
    ]
    assert len(found) == 1
    assert "手順を見直す" in found[0].suggestion


# ----------------------------------------------------------------- long sentence


def test_long_sentence_is_info_over_100_and_warning_over_150_characters() -> None:
    medium = "本日発生しておりました" + "ログイン画面の表示の遅れ" * 8 + "について。"
    long = "本日発生しておりました" + "ログイン画面の表示の遅れ" * 12 + "について。"
    assert 100 < len(medium) <= 150 < len(long)
    (info,) = [f for f in check(medium, kind="report_notice") if f.rule == "long-sentence"]
    (warning,) = [f for f in check(long, kind="report_notice") if f.rule == "long-sentence"]
    assert (info.severity, warning.severity) == ("info", "warning")
    assert (warning.start, warning.end) == (0, len(long))
    assert spans("短い文です。" * 30, "long-sentence") == []


def test_placeholders_count_as_short_words_in_sentence_length() -> None:
    text = "{{ customer.company_name_with_a_very_long_variable_name_for_templates }}様" * 3 + "。"
    assert len(text) > 100
    assert spans(text, "long-sentence") == []


def test_knowledge_base_expression_without_alternative_still_gets_guidance() -> None:
    (finding,) = [
        f
        for f in check("現在調整中です。", kind="report_notice", avoid_expressions=[("調整中", "")])
        if f.rule == "avoid-expression"
    ]
    assert "具体的に" in finding.suggestion
    assert "『』" not in finding.suggestion
