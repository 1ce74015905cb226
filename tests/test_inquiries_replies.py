"""Replies, forwarded updates and reply-all, delivered for real (R21, R23, R26).

Mail goes to a real aiosmtpd on 127.0.0.1 and chat to a real webhook receiver;
the worker code runs in this thread (``drain``). SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Conflict, Forbidden, InvalidInput
from anshin.incidents import service as incidents
from anshin.inquiries import forward, inbound, mail, replies, reply_all, service
from anshin.inquiries.models import InquiryMessage
from anshin.notify import subscribers, tokens
from anshin.notify.models import Delivery, OutboxMessage
from anshin.notify.sink import MailSink, SmtpSink, WebhookReceiver
from anshin.notify.smtp import render_email
from inquiry_world import BAD_JA, GOOD_JA, incident, inquiry, user
from mail_support import compose
from notice_texts import FIRST_NOTICE_JA as UPDATE_JA
from test_notify_delivery import drain


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink()) as running:
        yield running


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def live(settings: Settings, sink: SmtpSink | None = None, chat: str | None = None) -> Settings:
    update: dict[str, object] = {
        "webhook_allowed_networks": ["127.0.0.1/32"],
        "smtp_host": "127.0.0.1",
        "smtp_port": sink.port if sink else 9,
        "smtp_message_id_domain": "status.example.com",
        "delivery_backoff_base_seconds": 0.01,
        "delivery_backoff_max_seconds": 0.05,
        "chat_webhook_url": chat,
    }
    return settings.model_copy(update=update)


def test_the_draft_starts_from_the_suggested_template(session: Session, settings: Settings) -> None:
    on = incident(session, settings)
    mail = inquiry(session, settings, on)
    call = inquiry(session, settings, on, channel="phone", email=None)
    lone_call = inquiry(session, settings, None, channel="phone", email=None)
    written = replies.draft(session, settings, mail)
    assert written.kind == "inquiry_reply" and written.route == "email"
    assert mail.reference in (written.subject or "") and "山田 花子 様" in written.text
    spoken = replies.draft(session, settings, call)
    assert spoken.kind == "phone_script" and spoken.route == "phone"
    assert "電話対応スクリプト" in spoken.text
    # A call about no incident has no script to read: the written reply is read out.
    assert replies.draft(session, settings, lone_call).kind == "inquiry_reply"


def test_an_email_reply_threads_to_the_customers_mail_on_a_real_server(
    session: Session, settings: Settings, engine: Engine, sink: SmtpSink
) -> None:
    cfg = live(settings, sink)
    agent = user(session, "operator", "agent")
    on = incident(session, cfg)
    asked = inquiry(session, cfg, on, mail_message_id="<first.123@customer.example>", holder=agent)
    session.commit()
    message = replies.reply(session, cfg, asked, agent, text=GOOD_JA, reports_result=True)
    session.commit()
    drain(cfg, engine)
    (received,) = sink.handler.received
    mail = received.parse()
    assert received.recipients == ["customer@example.com"]
    assert asked.reference in str(mail["Subject"])
    assert mail["In-Reply-To"] == "<first.123@customer.example>"
    assert "<first.123@customer.example>" in str(mail["References"])
    assert mail["Message-ID"] == message.mail_message_id  # their answer threads back to us
    body = mail.get_body(("plain",))
    assert body is not None and GOOD_JA in body.get_content()  # exactly the checked text
    # R30: the reply that reports the result asks this customer for feedback on the incident.
    survey = re.search(r"/feedback/(\S+)", body.get_content())
    assert survey is not None
    assert tokens.read_survey_token(cfg, survey.group(1)) == (on.id, f"inq:{asked.reference}")
    session.refresh(asked)
    assert asked.first_responded_at is not None
    assert message.reports_result and message.outbox_message_id is not None
    actions = [e.action for e in service.history(session, asked)]
    assert actions[-1] == "inquiry.replied"


def test_a_header_smuggled_in_a_message_id_is_left_out(settings: Settings) -> None:
    mail = render_email(
        settings,
        delivery_id=1,
        to="a@example.com",
        locale="ja",
        kind="inquiry_reply",
        texts={"subject": "件名", "text": "本文"},
        token="t",
        data={"in_reply_to": "<a@b>\r\nBcc: evil@example.com", "references": ["<x@y>"]},
    )
    assert b"In-Reply-To" not in mail and b"Bcc" not in mail


def test_the_check_refuses_a_bad_reply_and_a_senior_override_is_recorded(
    session: Session, settings: Settings
) -> None:
    operator = user(session, "operator", "op")
    senior = user(session, "senior", "lead")
    on = incident(session, settings)
    asked = inquiry(session, settings, on, holder=operator)
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        replies.reply(session, settings, asked, operator, text=BAD_JA)
    assert "missing-apology" in str(refused.value.details())
    session.rollback()
    with pytest.raises(Forbidden):
        replies.reply(session, settings, asked, operator, text=BAD_JA, override_reason="急ぎ")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    asked.claimed_by_id = senior.id
    message = replies.reply(
        session, settings, asked, senior, text=BAD_JA, override_reason="謝罪は電話で済んでいる"
    )
    session.commit()
    assert message.body == BAD_JA
    (override,) = [
        e for e in service.history(session, asked) if e.action == "message.check_overridden"
    ]
    assert override.after is not None
    assert override.after["update_id"] == message.id
    assert override.after["reason"] == "謝罪は電話で済んでいる"


def test_only_the_holder_replies(session: Session, settings: Settings) -> None:
    holder = user(session, "operator", "holder")
    other = user(session, "senior", "other")
    asked = inquiry(session, settings, incident(session, settings), holder=holder)
    unclaimed = inquiry(session, settings, None)
    session.commit()
    with pytest.raises(Conflict):
        replies.reply(session, settings, asked, other, text=GOOD_JA)
    with pytest.raises(Conflict):
        replies.reply(session, settings, unclaimed, holder, text=GOOD_JA)
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_phone_reply_records_the_call_and_sends_nothing(
    session: Session, settings: Settings
) -> None:
    agent = user(session, "operator", "caller")
    on = incident(session, settings)
    call = inquiry(session, settings, on, channel="phone", email=None, holder=agent)
    due = utcnow() + dt.timedelta(hours=2)
    script = replies.draft(session, settings, call).text
    message = replies.reply(
        session,
        settings,
        call,
        agent,
        text=script,
        outcome="納得いただけた。夕方に再度連絡の約束",
        next_action="17時に折り返し電話",
        next_action_due_at=due,
    )
    session.commit()
    assert message.direction == "out" and message.channel == "phone"
    assert message.outbox_message_id is None and message.body == script.strip("\n")
    assert message.data["outcome"] == "納得いただけた。夕方に再度連絡の約束"
    assert call.next_action == "17時に折り返し電話"
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert [e.action for e in service.history(session, call)][-1] == "inquiry.call_recorded"


def test_a_chat_reply_reaches_the_chat_webhook_with_the_reference(
    session: Session, settings: Settings, engine: Engine, hooks: WebhookReceiver
) -> None:
    cfg = live(settings, chat=hooks.url("/chat"))
    agent = user(session, "operator", "chatter")
    chat = inquiry(session, cfg, incident(session, cfg), channel="chat", holder=agent)
    session.commit()
    text = replies.draft(session, cfg, chat).text
    replies.reply(session, cfg, chat, agent, text=text)
    session.commit()
    drain(cfg, engine)
    (request,) = hooks.requests
    payload = request.json()
    assert payload["kind"] == "inquiry_reply"
    assert payload["data"]["inquiry_reference"] == chat.reference
    assert text.strip() in str(payload)


def test_a_published_update_reaches_exactly_the_open_keep_informed_inquirers(
    session: Session, settings: Settings, engine: Engine, sink: SmtpSink
) -> None:
    cfg = live(settings, sink)
    on = incident(session, cfg)
    other = incident(session, cfg, title="決済できない障害")
    told = inquiry(session, cfg, on, email="told@example.com")
    english = inquiry(session, cfg, on, email="en@example.com", locale="en")
    quiet = inquiry(session, cfg, on, email="quiet@example.com", keep_informed=False)
    closed = inquiry(session, cfg, on, email="closed@example.com")
    closed.closed_at, closed.stage = utcnow(), "shared"
    elsewhere = inquiry(session, cfg, other, email="elsewhere@example.com")
    phone_only = inquiry(session, cfg, on, channel="phone", email=None)
    caller = inquiry(session, cfg, on, channel="phone", email="caller@example.com")
    subscribers.subscribe_email(  # told once: the subscription's fan-out reaches them
        session, cfg, email="subscribed@example.com", confirmed=True, actor="test"
    )
    both = inquiry(session, cfg, on, email="subscribed@example.com")
    session.commit()
    incidents.publish_update(session, cfg, on, body_ja=UPDATE_JA, actor="test")
    session.commit()
    drain(cfg, engine)
    got: dict[str, list[str]] = {}
    for received in sink.handler.received:
        mail = received.parse()
        got.setdefault(received.recipients[0], []).append(str(mail["Subject"]))
    assert sorted(got) == [
        "caller@example.com",  # a caller who left a mail address gets it in writing
        "en@example.com",
        "subscribed@example.com",
        "told@example.com",
    ]
    assert len(got["subscribed@example.com"]) == 1  # the status notice only, not twice
    assert told.reference in got["told@example.com"][0]
    for asked in (told, english, caller):
        session.refresh(asked)
        (forwarded,) = [m for m in asked.messages if m.kind == "inquiry_update"]
        assert asked.reference in forwarded.body
        assert asked.first_responded_at is None  # a forward is not an agent's answer
    assert UPDATE_JA in next(m for m in told.messages if m.kind == "inquiry_update").body
    for left in (quiet, closed, elsewhere):
        session.refresh(left)
        assert not [m for m in left.messages if m.kind == "inquiry_update"]
    reasons = {
        e.after["reason"]
        for a in (both, phone_only)
        for e in service.history(session, a)
        if e.action == "inquiry.update_not_forwarded" and e.after
    }
    assert reasons == {"subscribed", "no_address"}
    assert forward.waiting(session, other) == [elsewhere]


def test_reply_all_reaches_fifty_inquiries_in_one_action(
    session: Session, settings: Settings
) -> None:
    lead = user(session, "senior", "lead")
    holder = user(session, "operator", "holder")
    on = incident(session, settings)
    chosen = [
        inquiry(session, settings, on, email=f"c{n}@example.com", name=f"顧客{n}")
        for n in range(48)
    ]
    chosen += [
        inquiry(session, settings, on, email=f"e{n}@example.com", name=f"Pat {n}", locale="en")
        for n in range(2)
    ]
    held = inquiry(session, settings, on, email="held@example.com", holder=holder)
    other_intent = inquiry(session, settings, on, email="x@example.com", intent="complaint")
    call = inquiry(session, settings, on, channel="phone", email=None)
    session.commit()
    seen: list[int] = []
    outcome = reply_all.reply_all(
        session,
        settings,
        on,
        lead,
        answers={"ja": "復旧作業を進めております。", "en": "We are restoring the service."},
        selection=reply_all.Selection(intent="status_inquiry"),
        progress=lambda done, total: seen.append(done),
    )
    session.commit()
    assert sorted(outcome.sent) == sorted(i.reference for i in chosen)
    assert outcome.held == [held.reference] and outcome.to_call == [call.reference]
    assert seen == list(range(1, 51))
    assert session.scalar(select(func.count()).select_from(Delivery)) == 50
    for asked in chosen:
        session.refresh(asked)
        (sent,) = [m for m in asked.messages if m.direction == "out"]
        assert asked.reference in sent.body and (asked.customer_name or "") in sent.body
        assert asked.first_responded_at is not None
    (english,) = [m for m in chosen[-1].messages if m.direction == "out"]
    assert "We are restoring the service." in english.body and "復旧作業" not in english.body
    session.refresh(other_intent)
    assert not [m for m in other_intent.messages if m.direction == "out"]


def test_reply_all_refuses_an_empty_selection_and_a_bad_text(
    session: Session, settings: Settings
) -> None:
    lead = user(session, "senior", "lead")
    on = incident(session, settings)
    with pytest.raises(InvalidInput) as empty:
        reply_all.reply_all(session, settings, on, lead, answers={"ja": "本文"})
    assert empty.value.field == "selection"
    inquiry(session, settings, on, locale="en", email="en@example.com")
    with pytest.raises(InvalidInput) as unwritten:
        reply_all.reply_all(session, settings, on, lead, answers={"ja": "本文"})
    assert unwritten.value.field == "body_en"  # English readers need the English answer
    with pytest.raises(InvalidInput) as intent:
        reply_all.reply_all(
            session, settings, on, lead, answers={"en": "x"}, selection=reply_all.Selection("x")
        )
    assert intent.value.field == "intent"
    outgoing = select(func.count()).select_from(InquiryMessage)
    assert session.scalar(outgoing.where(InquiryMessage.direction == "out")) == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_reply_all_checks_every_recipients_text_and_records_the_override_on_each(
    session: Session, settings: Settings
) -> None:
    lead = user(session, "senior", "lead")
    on = incident(session, settings)
    asked = [inquiry(session, settings, on, email=f"s{n}@example.com") for n in range(3)]
    session.commit()
    guess = {"ja": "原因はおそらくデータベースの障害だと思われます。"}
    with pytest.raises(InvalidInput) as refused:
        reply_all.reply_all(session, settings, on, lead, answers=guess)
    assert "speculation" in str(refused.value.details())
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    reply_all.reply_all(
        session, settings, on, lead, answers=guess, override_reason="原因は社内で確認済み"
    )
    session.commit()
    for one in asked:
        overrides = [
            e for e in service.history(session, one) if e.action == "message.check_overridden"
        ]
        assert len(overrides) == 1 and overrides[0].after is not None
        assert overrides[0].after["reason"] == "原因は社内で確認済み"
        assert "speculation" in overrides[0].after["findings"]["ja"]


def test_the_customers_answer_to_our_reply_threads_back_to_the_inquiry(
    session: Session, settings: Settings
) -> None:
    agent = user(session, "operator", "agent")
    asked = inquiry(
        session, settings, None, email="taro@example.jp", mail_message_id="<q1@example.jp>"
    )
    asked.claimed_by_id = agent.id
    sent = replies.reply(session, settings, asked, agent, text=GOOD_JA)
    session.commit()
    assert sent.mail_message_id
    answer = compose(
        "ありがとうございます。まだログインできません。",
        subject="Re: " + (sent.subject or ""),
        message_id="<a2@example.jp>",
        In_Reply_To=sent.mail_message_id,
    )
    outcome = inbound.store(session, settings, mail.parse(answer, max_bytes=2**20), actor="test")
    session.commit()
    assert outcome.reference == asked.reference and outcome.threaded_by == "in_reply_to"
    session.refresh(asked)
    assert [m.direction for m in asked.messages] == ["in", "out", "in"]
