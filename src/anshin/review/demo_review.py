"""The demo's finished review (R30–R33): the resolved incident as a team leaves it after learning.

``anshin demo`` calls :func:`load_review` with the resolved demo incident. Every
row comes through the service a person uses — never a column written here:

- a few customers' calls during the incident, taken in and linked by the triage's
  values (``inquiries.service.receive``) and answered from the phone script
  (``inquiries.replies.reply``), so the review has inquiries, first responses and gaps;
- the team's notes: went well, to improve, a system cause and a process cause;
- two prevention actions: one done and checked effective, one still open past its due
  date (the dashboard's overdue panel shows it);
- survey answers through the signed link each caller got (``review.feedback.answer``);
- two drills from those calls, a good and a bad example (``review.drills.create``).

It runs once per incident: an incident that already has review notes is left alone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.incidents.models import Incident
from anshin.inquiries import claims, replies
from anshin.inquiries import service as inquiry_service
from anshin.inquiries.demo_desk import Team
from anshin.inquiries.models import Inquiry
from anshin.notify import tokens
from anshin.review import actions, drills, feedback
from anshin.review.models import ReviewNote

# (minutes after declaration, caller, what they said, intent, survey score, comment).
CALLS: tuple[tuple[int, str, str, str, int | None, str], ...] = (
    (
        5,
        "小林 直樹",
        "管理画面のレポートが開きません。月末の締めで今日中に数字を出したいのですが、"
        "いつ頃直りますか。",
        "status_inquiry",
        4,
        "電話ですぐに状況を教えてもらえて安心しました。",
    ),
    (
        25,
        "中村 美咲",
        "レポートが読み込み中のまま止まります。CSV で出す方法などはありませんか。",
        "workaround_request",
        2,
        "CSV の代わりの方法を聞いたが、はっきりした案内がなかった。",
    ),
    (
        50,
        "山本 健",
        "レポートがまだ遅いです。原因は何でしょうか。うちのデータが壊れていないか心配です。",
        "technical_question",
        5,
        "",
    ),
    (
        70,
        "佐々木 陽子",
        "1時間ほどレポートが使えていません。復旧の見込みを教えてください。",
        "status_inquiry",
        None,
        "",
    ),
)

NOTES: tuple[tuple[str, str | None, str], ...] = (
    ("went_well", None, "検知から10分で第一報を出し、次回の更新時刻も示せた。"),
    ("went_well", None, "電話のお客様に、ほかの画面は使えることを最初にお伝えできた。"),
    (
        "to_improve",
        None,
        "回避策（CSV 出力）を聞かれたが、案内文がなく担当者ごとに答えが違った。",
    ),
    (
        "cause",
        "system",
        "集計処理の設定変更で、レポートの集計に通常の10倍の時間がかかった。",
    ),
    (
        "cause",
        "process",
        "設定変更の前に、本番と同じ量のデータでの確認を行う手順がなかった。",
    ),
)
DONE_ACTION = "集計処理の設定変更は、本番と同じ量のデータで所要時間を確かめてから反映する"
OPEN_ACTION = "レポートが遅いときの回避策（CSV 出力）の案内文を用意し、FAQ に載せる"
BAD_REPLY = "システムの問題なので、こちらではわかりません。直ったらまた使ってください。"
BAD_NOTE = (
    "お詫びも、わかっていることも、次にいつ連絡するかもありません。"
    "「確認中です」と次回の連絡時刻を伝えましょう。"
)
GOOD_NOTE = "お詫び、影響の範囲、ほかの画面は使えること、次回の連絡時刻がそろっています。"


def _calls(
    session: Session, settings: Settings, incident: Incident, staff: Team, actor: str
) -> list[Inquiry]:
    """The callers during the incident, linked to it and answered from the phone script."""
    taken: list[Inquiry] = []
    for minutes, name, text, intent, _score, _comment in CALLS:
        at = incident.declared_at + dt.timedelta(minutes=minutes)
        row = inquiry_service.receive(
            session,
            settings,
            inquiry_service.NewInquiry(
                channel="phone", text=text, customer_name=name, received_at=at
            ),
            actor=actor,
            triage=inquiry_service.TriageValues(
                incident_id=incident.id, intent=intent, level=1, temperature=2, harassment=False
            ),
            now=at,
        )
        answered = at + dt.timedelta(minutes=4)
        claims.claim(session, row, staff.operator, zone=settings.timezone, now=at)
        replies.reply(
            session,
            settings,
            row,
            staff.operator,
            text=replies.draft(session, settings, row, now=answered).text,
            reports_result=False,
            outcome="状況をご案内済み。",
            now=answered,
        )
        taken.append(row)
    return taken


def _actions(
    session: Session, settings: Settings, incident: Incident, staff: Team, cause: ReviewNote
) -> None:
    """One action done and effective, one open and overdue (the dashboard shows it)."""
    zone = ZoneInfo(settings.timezone)
    assert incident.resolved_at is not None
    day = incident.resolved_at.astimezone(zone).date()
    done = actions.add_action(
        session,
        incident,
        title=DONE_ACTION,
        owner=staff.senior,
        due_on=day + dt.timedelta(days=2),
        today=day,
        cause_note=cause,
        actor=staff.supervisor.actor,
    )
    actions.mark_done(session, done, actor=staff.senior.actor)
    actions.record_check(
        session,
        done,
        checked_on=(done.done_at or incident.resolved_at).astimezone(zone).date(),
        effective=True,
        note="翌週の設定変更で、事前の確認により遅くなる設定を見つけて止められた。",
        actor=staff.supervisor.actor,
        zone=zone,
    )
    actions.add_action(
        session,
        incident,
        title=OPEN_ACTION,
        owner=staff.operator,
        due_on=day + dt.timedelta(days=1),
        today=day,
        actor=staff.supervisor.actor,
    )


def _drills(session: Session, incident: Incident, staff: Team, calls: list[Inquiry]) -> None:
    """A good example from the first call, a bad one from the second (R33)."""
    good = drills.draft_from_inquiry(session, calls[0].reference)
    drills.create(
        session,
        staff.supervisor,
        customer_text=good.customer_text,
        sent_reply=good.sent_reply,
        incident_title=incident.title,
        label="good",
        note=GOOD_NOTE,
        source_reference=calls[0].reference,
    )
    bad = drills.draft_from_inquiry(session, calls[1].reference)
    drills.create(
        session,
        staff.supervisor,
        customer_text=bad.customer_text,
        sent_reply=BAD_REPLY,
        incident_title=incident.title,
        label="bad",
        note=BAD_NOTE,
    )


def load_review(
    session: Session, settings: Settings, incident: Incident, staff: Team, *, actor: str
) -> bool:
    """Fill the resolved incident's review; False (nothing done) when it already has notes."""
    if session.scalar(select(ReviewNote.id).where(ReviewNote.incident_id == incident.id)):
        return False
    calls = _calls(session, settings, incident, staff, actor)
    notes = [
        actions.add_note(
            session, incident, kind=kind, body=body, cause_class=cls, actor=staff.senior.actor
        )
        for kind, cls, body in NOTES
    ]
    _actions(session, settings, incident, staff, cause=notes[-1])
    for call, (*_, score, comment) in zip(calls, CALLS, strict=True):
        if score is not None:
            token = tokens.survey_token(settings, incident.id, f"inq:{call.reference}")
            feedback.answer(session, settings, token, score=score, comment=comment, locale="ja")
    _drills(session, incident, staff, calls)
    return True
