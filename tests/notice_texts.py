"""Customer-facing texts for tests that publish: real notices that pass the message check.

Publishing runs the message check (伝え方チェック) on every public text and
refuses one with an error finding (R3, R5, R12–R16, ``anshin.incidents.notices``).
Tests that are about something else — the status page, the API, the CLI —
publish these texts, or wrap their own sentence in :func:`notice_ja` /
:func:`notice_en`, so that they stay about that something else.
``tests/test_incidents_notices.py`` checks that every text here passes.
"""

from __future__ import annotations

# The two sentences a notice that speaks to affected customers must carry:
# an apology (R12) and the time of the next contact (R3, R5).
APOLOGY_JA = "ご不便をおかけし、誠に申し訳ございません。"
NEXT_UPDATE_JA = "次回は30分後までにお知らせいたします。"
RESOLVED_APOLOGY_JA = "ご不便をおかけし、誠に申し訳ございませんでした。"
APOLOGY_EN = "We are sorry for the inconvenience."
NEXT_UPDATE_EN = "We will post the next update within 30 minutes."
RESOLVED_APOLOGY_EN = "We are sorry for the inconvenience this caused."

FIRST_NOTICE_JA = (
    "現在、一部のお客様がログインできない状態が発生しております。"
    + APOLOGY_JA
    + "原因は現在確認中です。"
    + NEXT_UPDATE_JA
)
FIRST_NOTICE_EN = (
    "Some customers cannot sign in at the moment. "
    + APOLOGY_EN
    + " We are investigating the cause. "
    + NEXT_UPDATE_EN
)
UPDATE_JA = (
    "復旧作業を進めております。引き続きご不便をおかけし、誠に申し訳ございません。" + NEXT_UPDATE_JA
)
UPDATE_EN = (
    "We are working on the recovery. We are sorry for the continued inconvenience. "
    + NEXT_UPDATE_EN
)
RESOLUTION_JA = "ログインできない状態は復旧いたしました。" + RESOLVED_APOLOGY_JA
RESOLUTION_EN = "Sign-in has recovered. " + RESOLVED_APOLOGY_EN

# Refused by the check: a guess stated to customers (R3, rule ``speculation``).
SPECULATIVE_JA = (
    "現在、ログインできない状態が発生しております。"
    + APOLOGY_JA
    + "おそらく認証の設定変更が原因と思われます。"
    + NEXT_UPDATE_JA
)


def notice_ja(detail: str, *, kind: str = "update", next_at: str | None = None) -> str:
    """A good Japanese notice that starts with ``detail``: the sentence a test looks for.

    ``next_at`` ("15:30") names the promised time when the test sets one, so the
    text and ``next_update_at`` agree. A resolution apologises in the past tense
    and promises no next update.
    """
    if kind == "resolution":
        return detail + RESOLVED_APOLOGY_JA
    promise = f"次回は{next_at}までにお知らせいたします。" if next_at else NEXT_UPDATE_JA
    return detail + APOLOGY_JA + promise


def notice_en(detail: str, *, kind: str = "update", next_at: str | None = None) -> str:
    """The English counterpart of :func:`notice_ja`."""
    if kind == "resolution":
        return f"{detail} {RESOLVED_APOLOGY_EN}"
    promise = f"We will post the next update by {next_at}." if next_at else NEXT_UPDATE_EN
    return f"{detail} {APOLOGY_EN} {promise}"
