"""anshin.text: normalisation and Sudachi tokens on the spellings customers really use."""

from __future__ import annotations

import threading

from anshin.text import normalise as n
from anshin.text import tokens


def test_half_width_and_full_width_fold() -> None:
    assert n.normalise("ﾛｸﾞｲﾝ") == "ログイン"
    assert n.normalise("ＡＰＩ　ｅｒｒｏｒ　５０３") == "API error 503"
    assert n.fold("ＬＯＧＩＮ") == "login"


def test_kana_and_long_vowels_fold() -> None:
    assert n.fold("ろぐいん") == n.fold("ログイン") == n.fold("ﾛｸﾞｲﾝ")
    assert n.fold("サーバー") == n.fold("サーバ")
    assert n.normalise("ログイ〜〜ン") == "ログイーン"
    assert n.normalise("ですぅぅぅ") == "です"
    assert n.normalise("まじっっっか") == "まじっか"
    assert n.kana_fold("あいう漢字abc") == "アイウ漢字abc"


def test_emoji_and_whitespace() -> None:
    text = "早く直して😡😡\n\n  お願い🙏！！"
    assert n.emoji(text) == ["😡", "😡", "🙏"]
    assert n.normalise(text) == "早く直して お願い!"
    assert n.strip_emoji("👍🏻 ok").strip() == "ok"
    assert n.normalise(" \t\n") == ""


def test_sudachi_normalised_forms() -> None:
    assert [t.norm for t in tokens.tokenize("ﾛｸﾞｲﾝ")] == ["ログイン"]
    assert "出来る" in tokens.norms("でき")
    assert "出来る" in tokens.content_words("ログインできません")
    assert "出来る" in tokens.content_words("ﾛｸﾞｲﾝでけへんねん")  # Kansai
    words = tokens.content_words("Refund my money, the API returns 503!!")
    assert {"refund", "api", "503"} <= set(words)


def test_empty_and_long_text() -> None:
    assert tokens.tokenize("") == []
    assert tokens.tokenize("😡😡") == []
    long = "ログインできない。" * 5000
    assert len(tokens.tokenize(long)) > 1000  # cut at MAX_CHARS, never an error


def test_one_tokenizer_per_thread() -> None:
    seen: list[object] = []
    words: list[list[str]] = []

    def work() -> None:
        seen.append(tokens._tokenizer()[0])
        words.append(tokens.content_words("決済が二重に計上されました"))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(t) for t in seen}) == 3  # all alive: ids are distinct
    assert all(w == words[0] for w in words) and "決済" in words[0]
