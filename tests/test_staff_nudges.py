"""Staff nudges, for real: a real SMTP sink (aiosmtpd) and a real webhook receiver on
127.0.0.1, SQLite and PostgreSQL, time given as ``now`` (R4, R5).

Five minutes before the next message an incident owes is due, and once it is
overdue, every on-duty team member gets a mail in their own language and the
staff webhook gets a Slack-compatible message — once per incident, kind and due
time, however many processes sweep at the same moment. Customers never get it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from anshin.cli import app
from anshin.config import Settings
from anshin.db import make_engine, utcnow
from anshin.errors import InvalidInput
from anshin.incidents import components, nudges, service
from anshin.incidents.models import IncidentNudge
from anshin.notify import csvio, queue, rules, subscriber_list, subscribers
from anshin.notify import service as outbox
from anshin.notify.models import Delivery, OutboxMessage, Subscriber
from anshin.notify.service import MessageTexts
from anshin.notify.sink import MailSink, SmtpSink, WebhookReceiver
from anshin.team import duty
from anshin.team.models import User
from anshin.timefmt import format_local
from test_notify_delivery import drain

T0 = utcnow().replace(microsecond=0) - dt.timedelta(hours=2)
STAFF = (
    ("op@example.com", "一次対応オペレーター", "operator", "ja", True),
    ("lead@example.com", "Support lead", "senior", "en", True),
    ("off@example.com", "非番のスーパーバイザー", "supervisor", "ja", False),
)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink()) as running:
        yield running


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def nudge_settings(settings: Settings, sink: SmtpSink, hooks: WebhookReceiver) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allowed_networks": ["127.0.0.1/32"],  # the test receivers listen here
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "smtp_from": "anshin <status@example.com>",
            "site_name": "安心テスト",
            "staff_webhook_url": hooks.url("/staff"),
            "delivery_backoff_base_seconds": 0.01,
            "delivery_backoff_max_seconds": 0.05,
        }
    )


def _team(session: Session) -> None:
    for email, name, role, locale, on_duty in STAFF:
        session.add(
            User(
                email=email, name=name, role=role, password_hash="x", locale=locale, on_duty=on_duty
            )
        )
    components.add_component(session, "ログイン", name_en="Login", actor="test")
    session.flush()


def _declare(session: Session, settings: Settings, title: str = "ログインできない障害") -> str:
    incident = service.declare(
        session,
        settings,
        service.IncidentInput(
            title=title, title_en="Sign-in failures", severity="sev2", components=["ログイン"]
        ),
        actor="test",
        now=T0,
    )
    session.commit()
    return incident.reference


def _mails(sink: SmtpSink) -> dict[str, list[tuple[str, str]]]:
    """Received mails by recipient: (subject, plain text)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for item in sink.handler.received:
        mail = item.parse()
        plain = mail.get_body(("plain",))
        assert plain is not None
        found.setdefault(item.recipients[0], []).append((str(mail["Subject"]), plain.get_content()))
    return found


def test_due_soon_and_overdue_reach_the_staff_on_duty_once_each(
    session: Session,
    engine: Engine,
    nudge_settings: Settings,
    sink: SmtpSink,
    hooks: WebhookReceiver,
) -> None:
    settings = nudge_settings
    _team(session)
    subscribers.subscribe_email(session, settings, email="customer@example.com", confirmed=True)
    reference = _declare(session, settings)
    due_at = T0 + dt.timedelta(minutes=15)  # R4: the first notice

    assert nudges.sweep(engine, settings, now=T0 + dt.timedelta(minutes=9)) == []
    sent = nudges.sweep(engine, settings, now=T0 + dt.timedelta(minutes=10, seconds=30))
    assert [(s.reference, s.kind, s.due_at, s.recipients) for s in sent] == [
        (reference, "due_soon", due_at, 3)  # two on duty and the webhook
    ]
    assert nudges.sweep(engine, settings, now=T0 + dt.timedelta(minutes=11)) == []
    assert nudges.sweep(engine, settings, now=T0 + dt.timedelta(minutes=14)) == []
    drain(settings, engine)

    mails = _mails(sink)
    assert sorted(mails) == ["lead@example.com", "op@example.com"]  # not off duty, no customer
    ((subject_ja, text_ja),) = mails["op@example.com"]
    assert subject_ja == f"【安心テスト】{reference}：第一報の期限まであと5分です"
    assert "ログインできない障害" in text_ja
    assert format_local(due_at, "Asia/Tokyo", "ja") in text_ja  # the team's zone
    assert f"http://127.0.0.1:8000/console/incidents/{reference}" in text_ja
    assert "お客様には送られていません" in text_ja
    assert "配信を停止" not in text_ja  # no customer unsubscribe footer
    ((subject_en, text_en),) = mails["lead@example.com"]
    assert subject_en == f"[安心テスト] {reference}: the first notice is due in 5 min"
    assert "Sign-in failures" in text_en and format_local(due_at, "Asia/Tokyo", "en") in text_en
    assert len(hooks.requests) == 1
    hook = hooks.requests[0]
    assert hook.path == "/staff"
    assert hook.json()["text"].startswith(f"【安心テスト】{reference}：第一報の期限まであと5分です")

    late = nudges.sweep(engine, settings, now=T0 + dt.timedelta(minutes=17))
    assert [(s.kind, s.due_at) for s in late] == [("overdue", due_at)]
    assert nudges.sweep(engine, settings, now=T0 + dt.timedelta(minutes=30)) == []
    drain(settings, engine)
    overdue = {to: items[-1] for to, items in _mails(sink).items()}
    assert (
        overdue["op@example.com"][0] == f"【安心テスト】{reference}：第一報の期限を2分過ぎています"
    )
    assert overdue["lead@example.com"][0] == (
        f"[安心テスト] {reference}: the first notice is 2 min overdue"
    )
    assert len(hooks.requests) == 2

    # The first notice promises the next update: a new due time, nudged again.
    with Session(engine, expire_on_commit=False) as other:
        incident = service.get(other, reference)
        published = T0 + dt.timedelta(minutes=18)
        service.publish_update(
            other,
            settings,
            incident,
            body_ja=(
                "現在、ログインできない障害が発生しております。ご不便をおかけし、"
                "誠に申し訳ございません。原因は現在確認中です。次回は1時間以内にお知らせいたします。"
            ),
            actor="test",
            now=published,
        )
        other.commit()
    next_due = published + dt.timedelta(minutes=60)
    soon = nudges.sweep(engine, settings, now=next_due - dt.timedelta(minutes=4))
    assert [(s.kind, s.due_at) for s in soon] == [("due_soon", next_due)]
    drain(settings, engine)
    subject, text = _mails(sink)["op@example.com"][-1]
    assert subject == f"【安心テスト】{reference}：次の続報の期限まであと4分です"
    assert format_local(next_due, "Asia/Tokyo", "ja") in text
    with Session(engine) as check:
        assert check.scalar(select(func.count()).select_from(IncidentNudge)) == 3
        # No customer ever received a staff nudge.
        customer = subscribers.find(check, "email", "customer@example.com")
        assert customer is not None
        staff_kinds = check.scalars(
            select(OutboxMessage.kind)
            .join(Delivery, Delivery.message_id == OutboxMessage.id)
            .where(Delivery.subscriber_id == customer.id)
        ).all()
        assert rules.STAFF_NUDGE not in staff_kinds


def test_concurrent_sweepers_send_each_nudge_once(
    session: Session, nudge_settings: Settings, engine: Engine
) -> None:
    settings = nudge_settings
    _team(session)
    session.commit()
    _declare(session, settings)
    _declare(session, settings, title="決済が完了しない")
    now = T0 + dt.timedelta(minutes=12)
    workers = 4
    barrier = threading.Barrier(workers)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        own = make_engine(settings.database_url)  # one engine per "process"
        try:
            barrier.wait()
            results.append(len(nudges.sweep(own, settings, now=now)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(results) == 2  # two incidents, one nudge each, whoever sent it
    with Session(engine) as check:
        assert check.scalar(select(func.count()).select_from(IncidentNudge)) == 2
        messages = check.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == rules.STAFF_NUDGE)
        ).all()
        assert len(messages) == 2 and all(m.recipients == 3 for m in messages)


def test_the_periodic_sweeper_sends_nudges(
    session: Session, nudge_settings: Settings, engine: Engine
) -> None:
    """The sweeper the embedded queue and ``anshin worker`` schedule every minute runs them."""
    settings = nudge_settings
    _team(session)
    incident = service.declare(
        session,
        settings,
        service.IncidentInput(title="管理画面が遅い", severity="sev3"),
        actor="test",
        now=utcnow() - dt.timedelta(minutes=12),
    )
    session.commit()
    tasks = queue.get_queue(settings)
    periodic = tasks.huey._registry.periodic_tasks
    assert [task.name for task in periodic] == ["anshin.notify.sweep"]
    tasks._sweep.call_local()
    with Session(engine) as check:
        found = check.scalars(select(IncidentNudge)).all()
        assert [(n.incident_id, n.kind) for n in found] == [(incident.id, "due_soon")]


def test_nobody_on_duty_and_no_webhook_sends_nothing_until_someone_is(
    session: Session, settings: Settings, engine: Engine
) -> None:
    _team(session)
    for user in session.scalars(select(User)):
        user.on_duty = False
    session.commit()
    _declare(session, settings)
    now = T0 + dt.timedelta(minutes=11)
    assert nudges.sweep(engine, settings, now=now) == []
    with Session(engine) as other:
        user = other.scalars(select(User).where(User.email == "off@example.com")).one()
        duty.set_on_duty(other, user, user.id, True)
        other.commit()
    assert [s.recipients for s in nudges.sweep(engine, settings, now=now)] == [1]


def test_staff_rows_never_get_customer_notices_nor_show_in_lists(
    session: Session, nudge_settings: Settings, engine: Engine
) -> None:
    settings = nudge_settings
    _team(session)
    session.commit()
    _declare(session, settings)
    nudges.sweep(engine, settings, now=T0 + dt.timedelta(minutes=11))
    with Session(engine) as other:
        customer = subscribers.subscribe_email(
            other, settings, email="customer@example.com", confirmed=True
        )
        message = outbox.fan_out(
            other, settings, kind="update", texts={"ja": MessageTexts("件名", "本文")}
        )
        other.commit()
        assert message.recipients == 1
        to = other.scalars(select(Delivery.subscriber_id).where(Delivery.message_id == message.id))
        assert list(to) == [customer.id]
        listed, total = subscriber_list.list_subscribers(other)
        assert total == 1 and [s.address for s in listed] == ["customer@example.com"]
        assert "op@example.com" not in "".join(csvio.export_csv(other))
        staff_rows = other.scalars(select(Subscriber).where(Subscriber.status == "staff")).all()
        assert sorted(r.address for r in staff_rows) == sorted(
            ["op@example.com", "lead@example.com", settings.staff_webhook_url]
        )
        with pytest.raises(InvalidInput):
            outbox.fan_out(
                other, settings, kind=rules.STAFF_NUDGE, texts={"ja": MessageTexts("件名", "本文")}
            )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ANSHIN_STAFF_WEBHOOK_URL", "ftp://hooks.example.com/x"),
        ("ANSHIN_NUDGE_BEFORE_MINUTES", "0"),
    ],
)
def test_a_setting_that_cannot_work_stops_the_command_with_one_line(
    tmp_path: Path, name: str, value: str
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(
        app, ["db", "upgrade"], env={"ANSHIN_DATABASE_URL": url, name: value, "LANG": "C.UTF-8"}
    )
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"{name}: ")
