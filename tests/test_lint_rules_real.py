"""The gaps real notices showed (issue 7, §3), closed by general rules, not phrase lists.

Each case is a phrasing the corpus of published notices (tests/data/notices)
revealed, written here in words that are *not* in the corpus, so a rule that
only memorised the corpus fails. The negative cases are the false alarms a
lead would not accept.
"""

from __future__ import annotations

import pytest

from anshin.comms.lint import check


def spans(text: str, rule: str, locale: str = "ja", kind: str = "update") -> list[str]:
    return [text[f.start : f.end] for f in check(text, kind=kind, locale=locale) if f.rule == rule]


# ------------------------------------------------------------- promises with no time (R15)


@pytest.mark.parametrize(
    "text",
    [
        "対応が済み次第、ご連絡いたします。",
        "原因の切り分けが終わり次第ご報告します。",
        "部品が届き次第、交換作業を行います。",
        "再開の目処が立ち次第お伝えします。",
        "詳細は後日改めてご案内いたします。",
        "影響のあったお客様には個別にご連絡いたします。",
        "進展があった場合はご報告させていただきます。",
        "復旧まで今しばらくお待ちください。",
    ],
)
def test_japanese_promises_without_a_time(text: str) -> None:
    assert spans(text, "vague-deadline"), text


@pytest.mark.parametrize(
    "text",
    [
        "対応が済み次第、15時までにご連絡いたします。",  # a time in the sentence
        "以下のとおりご案内いたします。",  # the contact is made right here
        "ご不便をおかけしておりますことをお詫び申し上げる次第です。",  # 次第です is not a promise
        "各担当より個別にご連絡を差し上げております。",  # already being done
        "不具合がございましたらご連絡いただけますでしょうか。",  # a request, not our promise
        "状況次第では時間が前後する場合があります。",  # depending on, not as soon as
    ],
)
def test_japanese_words_that_are_not_timeless_promises(text: str) -> None:
    assert spans(text, "vague-deadline") == [], text


@pytest.mark.parametrize(
    "text",
    [
        "We will share details once we know more.",
        "We expect to finish the migration over the next few days.",
        "We are working to restore access as fast as we can.",
        "More news will follow as our investigation progresses.",
        "We will keep you posted as the work continues.",
        "Updates will be posted here as more information becomes available.",
    ],
)
def test_english_promises_without_a_time(text: str) -> None:
    assert spans(text, "vague-deadline", "en"), text


@pytest.mark.parametrize(
    "text",
    [
        "Our team responded as quickly as possible once the alert fired.",
        "The error rate rose shortly after 14:05.",
        "We restored the service soon after the restart.",
        "We noticed the problem asap and paged the on-call engineer.",
        "We will send the next update by 15:30.",
    ],
)
def test_english_vague_times_about_the_past_are_not_promises(text: str) -> None:
    assert spans(text, "vague-deadline", "en") == [], text


def test_a_promise_after_a_sentence_about_the_past_still_fires() -> None:
    text = "We moved traffic as quickly as possible and we will update you soon."
    assert spans(text, "vague-deadline", "en") == ["soon"]


# ------------------------------------------------------------- guesses and hedges (R3)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("通信機器の故障が原因とみられます。", "ja"),
        ("設定の変更が影響しているのではないかと考えております。", "ja"),
        ("We suspect the cache layer.", "en"),
        ("The slowdown might be related to last night's release.", "en"),
        ("The login page seems to load slowly for some users.", "en"),
        ("Some orders may have been charged twice.", "en"),
        ("As far as we can tell, no data was lost.", "en"),
    ],
)
def test_guesses_phrased_as_views_or_hedges(text: str, locale: str) -> None:
    assert spans(text, "speculation", locale), text


@pytest.mark.parametrize(
    "text",
    [
        "You will likely see a blank page until you sign in again.",  # guidance
        "Early reports are looking like a power fault, but we are still investigating.",
        "During the window you may experience short interruptions.",  # a forewarning
    ],
)
def test_hedges_that_are_guidance_or_honest_status_do_not_fire(text: str) -> None:
    assert spans(text, "speculation", "en") == [], text


# ------------------------------------------------------------- blame and disclaimers (R14)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("今回の障害は委託先の不具合によるもので、弊社では対応いたしかねます。", "ja"),
        ("本件により生じた損害について、当社は責任を負いかねます。", "ja"),
        ("配送業者によるシステム停止により、お届けが遅れております。", "ja"),
        ("The outage was due to a failure at our hosting partner.", "en"),
        ("The delay was caused by a contractor working for our supplier.", "en"),
        ("There is nothing we can do until the carrier fixes it.", "en"),
        ("This was not a nationwide outage.", "en"),
    ],
)
def test_blaming_a_supplier_or_disclaiming_responsibility(text: str, locale: str) -> None:
    assert spans(text, "excuse", locale), text


def test_naming_the_supplier_is_fine_once_we_own_the_result() -> None:
    text = (
        "The outage was caused by a billing error at one of our vendors. "
        "We chose that vendor, so this is our responsibility."
    )
    assert spans(text, "excuse", "en") == []


# ------------------------------------------------------------- empty causes (R16)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("予期せぬ事象により、サービスを停止しております。", "ja"),
        ("不測の事態のため、受付を一時中断しております。", "ja"),
        ("The service is unavailable due to unforeseen circumstances.", "en"),
        ("Sign-in failed because of technical issues.", "en"),
    ],
)
def test_empty_causes_in_other_words(text: str, locale: str) -> None:
    assert spans(text, "vague-responsibility", locale), text


# ------------------------------------------------------------- jargon (R6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("決済サーバメンテナンスを実施します。", "サーバ"),
        ("プロキシサーバーの設定を見直しました。", "プロキシ"),
        ("一部リージョンで疎通が取れない状態です。", "リージョン"),
    ],
)
def test_jargon_inside_katakana_compounds(text: str, expected: str) -> None:
    assert expected in spans(text, "jargon")


def test_katakana_words_that_only_look_like_jargon_stay_quiet() -> None:
    assert spans("キャッシュレス決済とログイン画面はご利用いただけます。", "jargon") == []


def test_telecom_and_hosting_vocabulary_in_english() -> None:
    text = "A backhaul fibre cut took down the leased line between our data centers."
    assert set(spans(text, "jargon", "en")) >= {"backhaul", "leased line", "data centers"}


def test_a_name_in_brackets_is_not_an_explanation() -> None:
    assert spans("ワーム(SOBIG.F)の影響です。", "jargon") == ["ワーム"]
    assert spans("Our upstream provider (ISP) had an outage.", "jargon", "en")


# ------------------------------------------------------------- apologies, hard-wrapped (R12)


@pytest.mark.parametrize(
    "text",
    [
        "ご迷惑をおかけし、誠に申し訳\nございません。次回は15時にご連絡いたします。",
        "ご迷惑をおかけし、誠に申し訳 ございません。次回は15時にご連絡いたします。",
        "ご不便をおかけし、深くお詫び申し\n上げます。次回は15時にご連絡いたします。",
        "ご不便をおかけし、深くお詫び申しあげます。次回は15時にご連絡いたします。",
    ],
)
def test_an_apology_broken_by_a_line_break_or_a_space_counts(text: str) -> None:
    assert spans(text, "missing-apology") == []


def test_a_heading_that_apologises_counts() -> None:
    text = "【重要】ログイン障害のお詫び\n本日10時から12時まで、ログインできない状態でした。"
    assert spans(text, "missing-apology", kind="resolution") == []


def test_a_hard_wrapped_sentence_is_one_sentence() -> None:
    text = "本日はご不便をおかけしました。復旧の見込みが立ち\n次第、改めてお知らせいたします。"
    assert spans(text, "vague-deadline") == ["立ち\n次第"]


# ------------------------------------------------------------- register and promises


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("現在サーバーが落ちています。", "ja"),
        ("Players got kicked out of their matches.", "en"),
        ("THE SERVERS ARE BACK!", "en"),
    ],
)
def test_casual_wording_in_a_notice(text: str, locale: str) -> None:
    assert spans(text, "casual-wording", locale), text


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("すぐに直りますので、ご安心ください。", "ja"),
        ("このような障害は二度と発生いたしません。", "ja"),
        ("The problem should resolve itself within the hour.", "en"),
        ("Rest assured this will never happen again.", "en"),
    ],
)
def test_unfounded_promises(text: str, locale: str) -> None:
    found = check(text, kind="update", locale=locale)
    assert {f.severity for f in found if f.rule == "unfounded-promise"} == {"warning"}, text


def test_a_pledge_to_prevent_recurrence_is_not_an_unfounded_promise() -> None:
    assert spans("二度と発生しないよう、再発防止に努めてまいります。", "unfounded-promise") == []
