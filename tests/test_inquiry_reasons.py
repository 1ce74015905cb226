"""Triage's reasons read in the reader's language on the inquiry page (issue 8 follow-up)."""

from __future__ import annotations

from anshin.web.templating import environment

REASONS = [
    "incident INC-2026-0001: its words ログイン, 障害",
    "incident INC-2026-0002: similar wording (0.83)",
    "no open incident matches",
    "intent status_inquiry (0.91)",
    "cues: いつ, 直る",
    "harassment: threats, insults or demands beyond reason (R25)",
    "important customer",
    "sentence encoder consulted",
    "a line of a shape the page does not know",
]
SOURCE = (
    '{% import "inquiries/_labels.html" as q with context %}'
    "{% for r in reasons %}{{ q.reason(r) }}\n{% endfor %}"
)


def lines(locale: str) -> list[str]:
    template = environment().from_string(SOURCE)
    return template.render(reasons=REASONS, locale=locale).splitlines()


def test_every_reason_reads_in_japanese() -> None:
    assert lines("ja") == [
        "インシデント INC-2026-0001：一致した言葉 ログイン, 障害",
        "インシデント INC-2026-0002：似た言い回し（類似度 0.83）",
        "該当する対応中のインシデントはありません",
        "意図：状況の問い合わせ（確からしさ 0.91）",
        "手がかり：いつ, 直る",
        "カスタマーハラスメントの疑い：脅し・暴言・過大な要求",
        "重要顧客",
        "文ベクトルによる判定も使用",
        "a line of a shape the page does not know",
    ]


def test_and_in_english() -> None:
    assert lines("en")[:4] == [
        "Incident INC-2026-0001: its words ログイン, 障害",
        "Incident INC-2026-0002: similar wording (0.83)",
        "No open incident matches",
        "Intent: Status inquiry (0.91)",
    ]
