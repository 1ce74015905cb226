"""Normalisation, masking and sentence splitting of the message check.

Findings are underlined in the editor at ``text[start:end]``; if the offset
map is off by one character the wrong words get underlined, so these tests
compare against the original text, not the normalised copy.
"""

from __future__ import annotations

import unicodedata

from anshin.comms.lint import check
from anshin.comms.lint.segment import PLACEHOLDER, QUOTED, mask, normalize, prepare


def test_nfkc_maps_every_character_back_to_the_original() -> None:
    text = "ＡＰＩが１５：３０に"
    norm, starts, ends = normalize(text)
    assert norm == "APIが15:30に"
    assert len(starts) == len(ends) == len(norm)
    for index, ch in enumerate(norm):
        assert unicodedata.normalize("NFKC", text[starts[index] : ends[index]]) == ch
    assert text[starts[3] : ends[3]] == "が"


def test_half_width_katakana_voicing_mark_is_normalised_with_its_base() -> None:
    text = "ｻｰﾊﾞｰ"
    norm, starts, ends = normalize(text)
    assert norm == "サーバー"
    # 「バ」 comes from two original characters: ﾊ and ﾞ.
    assert (starts[2], ends[2]) == (2, 4)


def test_finding_offsets_point_into_the_original_half_width_text() -> None:
    text = "本日、ｻｰﾊﾞｰが停止しております。"
    jargon = [f for f in check(text, kind="report_notice") if f.rule == "jargon"]
    assert len(jargon) == 1
    assert text[jargon[0].start : jargon[0].end] == "ｻｰﾊﾞｰ"


def test_finding_offsets_survive_decomposed_kana_and_emoji() -> None:
    decomposed = "テ\u3099ータヘ\u3099ース"  # データベース typed with combining marks
    text = "🙇 お知らせ：" + decomposed + "に障害が発生しております。"
    jargon = [f for f in check(text, kind="report_notice") if f.rule == "jargon"]
    assert len(jargon) == 1
    assert text[jargon[0].start : jargon[0].end] == decomposed


def test_full_width_words_are_matched() -> None:
    text = "ＤＮＳの設定を変更しました。"
    jargon = [f for f in check(text, kind="report_notice") if f.rule == "jargon"]
    assert [text[f.start : f.end] for f in jargon] == ["ＤＮＳ"]


def test_placeholders_are_masked_with_the_same_length() -> None:
    norm = "{{ customer.name }}様、{% if eta %}{eta}{% endif %}"
    masked = mask(norm)
    assert len(masked) == len(norm)
    assert masked.startswith(PLACEHOLDER * len("{{ customer.name }}") + "様")
    assert "eta" not in masked
    assert "様、" in masked


def test_quoted_text_is_masked_but_an_unclosed_quote_is_not() -> None:
    masked = mask("「おそらく」という表現\n「閉じていない引用")
    first, second = masked.split("\n")
    assert first == "「" + QUOTED * 4 + "」という表現"
    assert second == "「閉じていない引用"


def test_nested_quotes_are_masked_as_one_passage() -> None:
    masked = mask("お客様から「『たぶん』と書かないで」とご指摘")
    assert "たぶん" not in masked
    assert masked.endswith("」とご指摘")


def test_sentences_split_on_japanese_and_western_marks_and_newlines() -> None:
    prep = prepare("障害が発生しました。復旧しましたか？はい！\n次回は15:30です", "ja")
    pieces = [prep.norm[s:e] for s, e in prep.sentences]
    assert pieces == ["障害が発生しました。", "復旧しましたか?", "はい!", "次回は15:30です"]


def test_sentences_do_not_split_inside_quotes() -> None:
    prep = prepare("お客様から「つながりません。至急対応して。」とのご連絡がありました。", "ja")
    assert len(prep.sentences) == 1


def test_english_sentences_split_on_periods_but_not_inside_times() -> None:
    prep = prepare("We are sorry. The next update is at 3 p.m. today. Thanks.", "en")
    pieces = [prep.norm[s:e] for s, e in prep.sentences]
    assert pieces == ["We are sorry.", "The next update is at 3 p.m. today.", "Thanks."]


def test_a_script_line_in_brackets_is_our_own_words_not_a_quotation() -> None:
    assert mask("「お電話ありがとうございます。」") == "「お電話ありがとうございます。」"
    assert mask("担当:「申し訳ございません。」") == "担当:「申し訳ございません。」"
    # a quotation inside a sentence is still masked
    assert "おそらく" not in mask("「おそらく」という表現は使いません。")


def test_a_phone_script_written_in_brackets_is_checked() -> None:
    script = (
        "「お電話ありがとうございます。ただいまログインできない障害が発生しております。」\n"
        "「ご不便をおかけして申し訳ございません。おそらく15時には直ります。」"
    )
    rules = {f.rule for f in check(script, kind="phone_script")}
    assert "speculation" in rules
    assert "missing-empathy" not in rules  # ご不便 inside the brackets counts
