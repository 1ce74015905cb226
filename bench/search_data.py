"""Realistic Japanese support text for bench/search.py, composed from phrase banks (seeded).

An outage support team's knowledge base grows to thousands of articles that
say similar things about the same few features, and its inbox to hundreds of
thousands of inquiries in every register: that sameness is what makes a
search slow (common words match many rows) and hard (the right one must still
come first). The banks below are the vocabulary of tests/data/kb/ (features,
symptoms, causes, what to do) in the registers customers use (plain, polite,
angry, Kansai, half-width, English); a seeded ``random.Random`` picks from
them, so the same ``--seed`` gives the same data on every run and backend.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Iterator
from typing import Any

FEATURES = (
    "ログイン", "サインイン", "決済", "お支払い", "クレジットカード", "請求書", "領収書", "返金",
    "ポイント", "予約", "注文", "API", "Webhook", "管理画面", "アプリ", "プッシュ通知",
    "メール配信", "パスワード再設定", "二段階認証", "ファイルのアップロード", "CSVエクスポート",
    "検索", "ダッシュボード", "レポート", "チャット", "カレンダー連携", "シングルサインオン",
    "在庫の同期", "会員登録", "プラン変更",
)  # fmt: skip
SYMPTOMS = (
    "できない", "エラーになる", "表示されない", "遅い", "届かない", "反映されない",
    "途中で止まる", "二重に処理される", "真っ白になる", "タイムアウトする", "ログアウトされる",
    "文字化けする", "古い内容のまま", "500エラーが出る", "503が返る", "固まる",
)  # fmt: skip
CAUSES = (
    "データベースの切り替えに時間がかかったため", "決済代行会社との通信が途切れたため",
    "認証サーバーの証明書の更新漏れのため", "アクセスが通常の10倍に増えたため",
    "メール配信システムの送信待ちが詰まったため", "新しいバージョンの不具合のため",
    "キャッシュサーバーの障害のため", "外部のクラウドサービスの障害のため",
    "定期メンテナンスの作業が延びたため", "設定の変更を誤ったため",
)  # fmt: skip
ACTIONS = (
    "画面を再読み込みしてください", "時間をおいてもう一度お試しください",
    "ステータスページで最新の状況をご確認ください", "アプリを最新版に更新してください",
    "ブラウザのキャッシュを削除してください", "別のブラウザでお試しください",
    "ログアウトせずにそのままお待ちください", "迷惑メールフォルダをご確認ください",
    "注文履歴で重複がないかご確認ください", "サポートまで注文番号をお知らせください",
    "パスワードを再設定してください", "再試行は指数バックオフで行ってください",
)  # fmt: skip
IMPACTS = (
    "一部のお客様", "すべてのお客様", "iOS版アプリをお使いのお客様", "法人プランのお客様",
    "午前9時から10時に操作したお客様", "カード払いのお客様", "API をお使いの開発者の方",
)  # fmt: skip
TIMES = ("今朝から", "昨日の夜から", "さっきから", "10時ごろから", "先週から", "ずっと", "急に")
DEMANDS = (
    "いつ直りますか", "早く直してください", "どうすればいいですか", "返金してください",
    "補償はありますか", "至急対応をお願いします", "原因を教えてください", "折り返し連絡ください",
    "仕事にならないんですけど", "説明してください",
)  # fmt: skip
CHANNELS = ("お問い合わせフォーム", "チャット", "電話窓口")
DETAILS = ("発生時刻", "注文番号", "端末の機種名", "エラーメッセージの画面")
ANGRY = ("ふざけないで", "いい加減にして", "何回目ですか", "責任者を出してください")
KANSAI = ("できへん", "あかん", "なんでやねん", "はよ直して", "めっちゃ遅い")
ENGLISH = (
    "I can't sign in since this morning", "I was charged twice for one order",
    "The API keeps returning 503", "Emails are not arriving", "The app crashes on launch",
    "When will the service be back up?", "My data disappeared after the outage",
    "The dashboard is extremely slow", "Where is my refund?", "Push notifications stopped",
)  # fmt: skip
KINDS = ("faq", "faq", "faq", "workaround", "explanation", "script")
HALF = str.maketrans(
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワンー"
    "ァィゥェォッャュョ\u3099\u309a",
    "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝｰｧｨｩｪｫｯｬｭｮﾞﾟ",
)


def half_width(text: str) -> str:
    """Katakana as a customer's old phone types it: ジ → ｼﾞ (NFD splits the voicing mark off)."""
    return "".join(
        unicodedata.normalize("NFD", ch).translate(HALF) if "\u30a1" <= ch <= "\u30fc" else ch
        for ch in text
    )


def _article_body(rng: random.Random, feature: str, symptom: str) -> str:
    paragraphs = [
        f"{rng.choice(IMPACTS)}で、{feature}が{symptom}状態が発生しました。"
        f"{rng.choice(CAUSES)}、{feature}の処理が正常に完了しませんでした。",
        "次の手順をお試しください。\n\n"
        + "\n".join(f"{n}. {a}" for n, a in enumerate(rng.sample(ACTIONS, 3), 1)),
        f"{rng.choice(FEATURES)}への影響はありません。"
        f"解決しない場合は、{rng.choice(CHANNELS)}から{rng.choice(DETAILS)}を添えてご連絡ください。",
    ]
    return "\n\n".join(paragraphs)


def articles(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """``count`` article drafts (the fields of rules.check_draft), nine in ten in Japanese."""
    rng = random.Random(seed)
    for i in range(count):
        feature, symptom = rng.choice(FEATURES), rng.choice(SYMPTOMS)
        if rng.random() < 0.1:
            sentence = rng.choice(ENGLISH)
            title, body, locale = sentence, f"{sentence}. {rng.choice(ENGLISH)}? See below.", "en"
        else:
            title = rng.choice(
                (
                    f"{feature}が{symptom}場合",
                    f"{feature}が{symptom}ときの対処",
                    f"【障害】{feature}が{symptom}件について",
                    f"{feature}の{rng.choice(('エラー', '不具合', '遅延'))}について",
                )
            )
            body, locale = _article_body(rng, feature, symptom), "ja"
        yield {
            "key": f"gen-{i:05d}",
            "kind": rng.choice(KINDS),
            "title": title,
            "body": body,
            "tags": rng.sample(FEATURES, 2),
            "components": [feature],
            "locale": locale,
            "state": "published" if rng.random() < 0.9 else "draft",
            "public": rng.random() < 0.5,
        }


def inquiry_text(rng: random.Random) -> tuple[str, str]:
    """(subject, text) of one customer's inquiry, in one of the registers customers use."""
    feature, symptom = rng.choice(FEATURES), rng.choice(SYMPTOMS)
    style = rng.random()
    if style < 0.08:
        sentence = rng.choice(ENGLISH)
        return sentence[:60], f"Hi, {sentence}. {rng.choice(ENGLISH)}. Please help."
    if style < 0.18:
        return f"{feature}{rng.choice(KANSAI)}", (
            f"{rng.choice(TIMES)}{feature}が{rng.choice(KANSAI)}。{rng.choice(KANSAI)}。"
            f"{rng.choice(DEMANDS)}"
        )
    if style < 0.26:
        text = half_width(f"{feature}{symptom}。{rng.choice(DEMANDS)}")
        return text[:40], text
    if style < 0.45:
        return f"{feature}が{symptom}", (
            f"{rng.choice(TIMES)}{feature}が{symptom}！！{rng.choice(DEMANDS)}。{rng.choice(ANGRY)}"
        )
    return f"{feature}について", (
        f"お世話になっております。{rng.choice(TIMES)}{feature}が{symptom}状態です。"
        f"{rng.choice(ACTIONS)}と案内を見て試しましたが、改善しません。"
        f"{rng.choice(DEMANDS)}。よろしくお願いいたします。"
    )


def inquiries(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """Rows for the inquiries table (a bulk insert: the inbox the search reads, not intake)."""
    rng = random.Random(seed + 1)
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for i in range(count):
        subject, text = inquiry_text(rng)
        at = start + dt.timedelta(seconds=i * 25)
        yield {
            "reference": f"B-{i:07d}",
            "channel": rng.choice(("form", "email", "chat", "phone")),
            "locale": "en" if text.startswith("Hi,") else "ja",
            "subject": subject,
            "original_text": text,
            "received_at": at,
            "created_at": at,
            "updated_at": at,
        }


def queries(count: int, seed: int, customer_queries: list[str]) -> list[str]:
    """The timed query set: the relevance set's customer wording, then generated short ones."""
    rng = random.Random(seed + 2)
    out = list(customer_queries[:count])
    while len(out) < count:
        feature, symptom = rng.choice(FEATURES), rng.choice(SYMPTOMS)
        out.append(
            rng.choice(
                (
                    f"{feature} {symptom}",
                    f"{feature}が{symptom}",
                    f"{feature}{rng.choice(KANSAI)}",
                    rng.choice(ENGLISH),
                    feature,
                    f"{rng.choice(TIMES)}{feature}が{symptom}、{rng.choice(DEMANDS)}",
                )
            )
        )
    return out
