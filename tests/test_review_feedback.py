"""Customer feedback (R30): the survey link in the resolution mail, the page, one answer each."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.incidents import service
from anshin.notify import smtp, tokens
from anshin.notify.sink import MailSink, SmtpSink, WebhookReceiver
from anshin.review import metrics
from anshin.review.models import FeedbackResponse
from notice_texts import FIRST_NOTICE_JA, RESOLUTION_EN, RESOLUTION_JA
from notice_world import ACTOR, build
from test_console_support import client_for, csrf_from
from test_notify_delivery import drain

LINK = re.compile(r"https?://\S+/feedback/([A-Za-z0-9_.\-]+)")


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink()) as running:
        yield running


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def _live(settings: Settings, sink: SmtpSink) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allowed_networks": ["127.0.0.1/32"],
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "smtp_from": "安心ステータス <status@example.com>",
            "delivery_backoff_base_seconds": 0.01,
            "delivery_backoff_max_seconds": 0.05,
        }
    )


def _mail_texts(sink: SmtpSink) -> dict[str, str]:
    out = {}
    for received in sink.handler.received:
        mail = received.parse()
        part = mail.get_body(("plain",))
        assert part is not None
        out[received.recipients[0]] = part.get_content()
    return out


def test_the_resolution_mail_asks_and_the_answer_reaches_the_metrics(
    session: Session, settings: Settings, engine: Engine, sink: SmtpSink, hooks: WebhookReceiver
) -> None:
    live = _live(settings, sink)
    world = build(session, live, hooks.url("/hook"))
    service.publish_update(session, live, world.incident, body_ja=FIRST_NOTICE_JA, actor=ACTOR)
    session.commit()
    drain(live, engine)
    first = _mail_texts(sink)
    assert not any(LINK.search(text) for text in first.values())  # only the resolution asks
    sink.handler.received.clear()
    service.resolve(
        session, live, world.incident, body_ja=RESOLUTION_JA, body_en=RESOLUTION_EN,
        actor=ACTOR,
    )  # fmt: skip
    session.commit()
    drain(live, engine)
    texts = _mail_texts(sink)
    assert "1分で" in texts["ja@example.com"] and "one minute" in texts["en@example.com"]
    tokens_by_address = {a: LINK.search(t).group(1) for a, t in texts.items()}  # type: ignore[union-attr]
    assert tokens_by_address["ja@example.com"] != tokens_by_address["en@example.com"]
    assert tokens.read_survey_token(live, tokens_by_address["ja@example.com"]) == (
        world.incident.id,
        f"sub:{world.ja.id}",
    )

    with client_for(live) as client:
        token = tokens_by_address["ja@example.com"]
        page = client.get(f"/feedback/{token}")
        assert page.status_code == 200 and "ログインできない障害" in page.text
        csrf = csrf_from(page.text)
        bad = client.post(
            f"/feedback/{token}", data={"csrf_token": csrf, "score": "9", "comment": "遅い"}
        )
        assert bad.status_code == 422 and "1 から 5" in bad.text and "遅い" in bad.text
        ok = client.post(
            f"/feedback/{token}", data={"csrf_token": csrf, "score": "2", "comment": "第一報が遅い"}
        )
        assert ok.status_code == 200 and "ありがとうございました" in ok.text
        again = client.post(
            f"/feedback/{token}", data={"csrf_token": csrf, "score": "3", "comment": ""}
        )
        assert again.status_code == 200
        assert 'value="3" required checked' in client.get(f"/feedback/{token}").text
        en_token = tokens_by_address["en@example.com"]
        en = client.get(f"/feedback/{en_token}?lang=en")
        assert "Sign-in failures" in en.text and "How did we do?" in en.text
        client.post(
            f"/feedback/{en_token}?lang=en", data={"csrf_token": csrf_from(en.text), "score": "5"}
        )
        forged = client.get(f"/feedback/{token[:-3]}abc")
        assert forged.status_code == 400 and "Traceback" not in forged.text
        no_csrf = client.post(f"/feedback/{token}", data={"score": "1"})
        assert no_csrf.status_code in (400, 403)

    rows = session.scalars(select(FeedbackResponse).order_by(FeedbackResponse.id)).all()
    assert [(r.respondent, r.score, r.locale) for r in rows] == [
        (f"sub:{world.ja.id}", 3, "ja"),
        (f"sub:{world.en.id}", 5, "en"),
    ]
    got = metrics.for_incident(session, world.incident.reference)
    assert got["csat_average"] == 4.0 and got["csat_responses"] == 2


def test_only_messages_that_ask_carry_the_survey(settings: Settings) -> None:
    texts = {"subject": "件名", "text": "本文"}
    for kind, data, asks in (
        ("resolution", {}, True),
        ("update", {}, False),
        ("inquiry_reply", {"inquiry_reference": "Q-2026-000001"}, False),
        ("inquiry_reply", {"inquiry_reference": "Q-2026-000001", "survey": True}, True),
        ("confirmation", {}, False),
    ):
        template = smtp.MailTemplate.prepare(
            settings, locale="ja", kind=kind, texts=texts, data=data
        )
        assert (template.survey is not None) is asks, kind
    template = smtp.MailTemplate.prepare(settings, locale="en", kind="resolution", texts=texts)
    mail = template.render(
        settings, delivery_id=1, to="a@example.com", token="t", survey_token="s.1"
    )
    assert b"Content-Transfer-Encoding: base64" in mail
    plain = smtp.MailTemplate.prepare(settings, locale="en", kind="resolution", texts=texts)
    without = plain.render(settings, delivery_id=1, to="a@example.com", token="t")
    assert len(mail) > len(without)


def test_survey_tokens_forged_reused_and_expired(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import itsdangerous.timed

    from anshin.errors import AnshinError
    from anshin.review import feedback
    from inquiry_world import incident

    on = incident(session, settings)
    session.commit()
    token = tokens.survey_token(settings, on.id, "sub:7")
    # Reused: the same link answers again and replaces the answer, never a second row.
    feedback.answer(session, settings, token, score="2", comment="", locale="ja")
    feedback.answer(session, settings, token, score="4", comment="改善", locale="ja")
    session.commit()
    rows = session.scalars(select(FeedbackResponse)).all()
    assert [(r.respondent, r.score, r.comment) for r in rows] == [("sub:7", 4, "改善")]
    # Forged: another incident, another respondent, or a token signed with another key.
    other = settings.model_copy(update={"secret_key": "another-installation-" + "x" * 40})
    for bad in (
        tokens.survey_token(other, on.id, "sub:7"),
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "not-a-token",
    ):
        with pytest.raises(AnshinError) as refused:
            feedback.answer(session, settings, bad, score="5", comment="", locale="ja")
        assert refused.value.status == 400
    # Expired: signed 61 days ago.
    real = time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() - 61 * 24 * 3600)
    old = tokens.survey_token(settings, on.id, "sub:8")
    monkeypatch.setattr(itsdangerous.timed.time, "time", real)
    with pytest.raises(AnshinError) as expired:
        feedback.answer(session, settings, old, score="5", comment="", locale="ja")
    assert "expired" in str(expired.value)
    session.rollback()
    assert session.scalars(select(FeedbackResponse)).all()[0].score == 4
