"""The variables each kind of template may use, with a description in both languages.

The static check (comms.rules.validate) refuses any other name, and the docs
and the console's edit page list these. Every variable of a kind is always
present when rendering — empty when the record does not know it — so a
template can test ``{% if workaround %}`` (R6) while a misspelt name is still
an error.
"""

from __future__ import annotations

from anshin.comms import rules

# (Japanese, English) description of every variable, for the docs and the edit page.
BASE_VARIABLES: dict[str, tuple[str, str]] = {
    "site_name": ("会社名・サービス名（設定 ANSHIN_SITE_NAME）", "company or site name"),
    "status_url": ("ステータスページの URL", "status page URL"),
    "now": ("作成時刻（チームのタイムゾーン）", "time of writing, in the team's zone"),
    "sender_name": ("差出人名（例: ○○ サポート窓口）", "sender (e.g. '<site> Support')"),
    "customer_name": (
        "お客様名（個別連絡・問い合わせ。空のこともある）",
        "customer name, may be empty",
    ),
}
INCIDENT_VARIABLES: dict[str, tuple[str, str]] = {
    "has_incident": ("障害の情報があるか（真偽値）", "whether an incident is linked (boolean)"),
    "reference": ("障害番号（INC-2026-0001）", "incident reference"),
    "title": ("障害の題名（文面の言語のもの）", "title, in the message's language"),
    "summary": ("概要", "summary"),
    "components": ("影響範囲のサービス名の一覧", "list of affected component names"),
    "components_text": ("影響範囲（「ログイン、決済」）", "affected components as text"),
    "impact_text": ("影響の状態（「ご利用いただけない状態」）", "impact ('an outage')"),
    "severity": ("重大度コード（sev1〜sev3）", "severity code"),
    "severity_label": ("重大度の表示名", "severity label"),
    "status": ("状況コード", "status code"),
    "status_label": ("状況の表示名（調査中など）", "status label"),
    "started_at": ("発生時刻（「12月2日 13:00」）", "time it started ('2 December, 13:00 JST')"),
    "started_around": (
        "発生時刻のおおよそ（「12月2日 13:00頃」）",
        "time it started, approximately ('2 December, around 13:00 JST')",
    ),
    "detected_at": ("検知時刻", "time it was detected"),
    "declared_at": ("障害として登録した時刻", "time it was declared"),
    "resolved_at": ("復旧時刻（未復旧なら空）", "recovery time, empty while open"),
    "duration": ("発生から復旧（または現在）までの時間", "time from start to recovery (or now)"),
    "affected_customers": (
        "推定影響顧客数（公開すると決めたときだけ。ほかは「現在確認中」）",
        "estimated affected customers, only when the lead chose to publish it",
    ),
    "affected_customers_known": (
        "推定影響顧客数を公開するか（分かっていて、公開すると決めたとき）",
        "whether that number is known and chosen to be published",
    ),
    "recovery_confirmed": ("復旧見込みが確定しているか", "whether the recovery time is confirmed"),
    "recovery_at": (
        "確定した復旧見込み時刻（未確定なら空）",
        "confirmed recovery time, else empty",
    ),
    "recovery_estimate": (
        "未確定の見込み時刻（確定・不明なら空）",
        "unconfirmed estimate, else empty",
    ),
    "recovery_text": (
        "復旧見込みの文言（確定時刻／見込み・確認中／現在確認中）",
        "recovery wording",
    ),
    "recovery_short": ("復旧見込みの短い文言（チャット・SMS 用）", "recovery wording, short form"),
    "cause_confirmed": ("原因が確定しているか", "whether the cause is confirmed"),
    "cause": ("確定した原因（未確定なら空）", "confirmed cause, else empty"),
    "workaround": ("回避策・代替手段（なければ空）", "workaround, else empty"),
    "next_update_at": ("次回のお知らせ時刻", "time of the next update"),
    "next_update_short": ("次回のお知らせ時刻（短い形）", "time of the next update, short form"),
    "report_due": ("報告書をお届けする期日", "date by which the report is promised"),
    "latest_update": ("最新の公開済みお知らせ本文", "latest published update"),
    "notice_label": ("何報目か（「第2報」）", "which notice it is ('Update 2')"),
    "notice_time": (
        "お知らせの時刻（件名用「12月2日 13:30」）",
        "time of the notice ('2 Dec 13:30')",
    ),
    "message_body": (
        "コンソールで書いて公開する本文（メール用。試し表示では空）",
        "the text the agent publishes (for email; empty in previews)",
    ),
    "support_plan": (
        "今後のサポート体制（個別連絡で使う。空のこともある）",
        "support plan, may be empty",
    ),
}
INQUIRY_VARIABLES: dict[str, tuple[str, str]] = {
    "inquiry_reference": ("問い合わせ番号", "inquiry reference"),
    "received_at": ("問い合わせを受け付けた時刻", "time the inquiry was received"),
    "reply_by": ("回答・次回連絡の期限", "time by which we reply"),
    "answer": ("担当者が書く回答本文（空のこともある）", "the agent's answer, may be empty"),
}
MAINTENANCE_VARIABLES: dict[str, tuple[str, str]] = {
    "reference": ("メンテナンス番号（MNT-2026-0001）", "maintenance reference"),
    "title": ("メンテナンスの題名", "title"),
    "summary": ("内容", "description"),
    "components": ("対象サービス名の一覧", "list of affected component names"),
    "components_text": ("対象サービス（「ログイン、決済」）", "affected components as text"),
    "starts_at": ("開始予定時刻", "scheduled start"),
    "ends_at": ("終了予定時刻", "scheduled end"),
    "duration": ("予定時間の長さ", "length of the window"),
    "status_label": ("状況の表示名", "status label"),
}


def variables_for(kind: str) -> dict[str, tuple[str, str]]:
    """The variables a template of this kind can use, with their descriptions."""
    found = dict(BASE_VARIABLES)
    if kind == "maintenance_notice":
        found.update(MAINTENANCE_VARIABLES)
        return found
    found.update(INCIDENT_VARIABLES)
    if kind in rules.INQUIRY_KINDS:
        found.update(INQUIRY_VARIABLES)
    return found


def allowed_names(kind: str) -> frozenset[str]:
    """The names the static check accepts for a kind."""
    return frozenset(variables_for(kind))
