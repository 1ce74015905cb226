"""Taking inquiries in: stored first, triaged through the hook, acknowledged (R18).

Real parts only: SQLite and PostgreSQL, a real SMTP sink (aiosmtpd) and a real
webhook receiver on 127.0.0.1, the worker code draining the outbox. Triage is
whatever the hook names; here small functions of this module stand in its place
by name, as ``inquiries.triage`` will.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import InvalidInput
from anshin.incidents import components
from anshin.incidents import service as incidents
from anshin.incidents.models import Incident
from anshin.inquiries import intake, intake_turn, service
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.notify.models import Delivery, OutboxMessage, Subscriber
from anshin.notify.sink import MailSink, SmtpSink, WebhookReceiver
from anshin.timefmt import format_local
from test_notify_delivery import drain

T0 = utcnow().replace(microsecond=0) - dt.timedelta(minutes=30)
HERE = "test_inquiries_intake"


def _level_three(
    session: Session, text: str, tier: str, received_at: dt.datetime | None
) -> service.TriageValues:
    incident = session.scalar(select(Incident).where(Incident.status != "resolved"))
    wants_money = "返金" in text
    return service.TriageValues(
        incident_id=incident.id if incident else None,
        intent="compensation_request" if wants_money else "status_inquiry",
        level=3 if wants_money else 1,
        temperature=2,
        harassment=False,
        reasons=(f"tier={tier}", f"at={received_at.isoformat() if received_at else None}"),
        suggested_template="inquiry_reply",
    )


Arrivals = Sequence[tuple[str, str, dt.datetime | None]]


def level_three_triage(
    session: Session, settings: Settings, arrivals: Arrivals
) -> list[service.TriageValues]:
    """A real (tiny) triage: links the one open incident, reads 返金 as compensation."""
    return [_level_three(session, *arrival) for arrival in arrivals]


def broken_triage(
    session: Session, settings: Settings, arrivals: Arrivals
) -> list[service.TriageValues]:
    """Writes something, then fails: the write must not survive, the inquiry must."""
    components.add_component(session, "triage-side-effect", actor="triage")
    session.flush()
    raise RuntimeError("triage exploded")


def writing_triage(
    session: Session, settings: Settings, arrivals: Arrivals
) -> list[service.TriageValues]:
    """Writes and would succeed: triage runs before the inquiry is written and may only read."""
    components.add_component(session, "triage-write", actor="triage")
    session.flush()
    return level_three_triage(session, settings, arrivals)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink()) as running:
        yield running


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def mail_settings(settings: Settings, sink: SmtpSink, hooks: WebhookReceiver) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allowed_networks": ["127.0.0.1/32"],
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "smtp_from": "anshin <support@example.com>",
            "site_name": "安心テスト",
            "chat_webhook_url": hooks.url("/chat"),
            "delivery_backoff_base_seconds": 0.01,
            "delivery_backoff_max_seconds": 0.05,
        }
    )


def _incident(session: Session, settings: Settings) -> Incident:
    components.add_component(session, "ログイン", name_en="Login", actor="test")
    incident = incidents.declare(
        session,
        settings,
        incidents.IncidentInput(
            title="ログインできない障害",
            title_en="Sign-in failures",
            severity="sev2",
            components=["ログイン"],
        ),
        actor="test",
        now=T0,
    )
    session.commit()
    return incident


def _actions(session: Session, inquiry: Inquiry) -> list[str]:
    return [e.action for e in service.history(session, inquiry)]


def test_without_triage_installed_it_is_stored_at_level_one_and_acknowledged(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert intake.triage_function("anshin.inquiries.no_such_triage:for_intake") is None
    new = service.NewInquiry(
        channel="form",
        text="ログインできません。いつ直りますか",
        customer_name="山田 太郎",
        customer_email=" Taro@Example.COM ",
    )
    monkeypatch.setattr(intake, "TRIAGE_HOOK", "anshin.inquiries.no_such_triage:for_intake")
    inquiry = intake.take(session, settings, new, actor="public", now=T0)
    session.commit()
    assert inquiry.reference.startswith(f"Q-{T0.year}-")
    assert (inquiry.level, inquiry.intent, inquiry.incident_id) == (1, "unrelated", None)
    assert inquiry.customer_email == "taro@example.com"
    assert _actions(session, inquiry) == ["inquiry.received", "inquiry.acknowledged"]
    ack = inquiry.messages[-1]
    assert (ack.direction, ack.kind, ack.channel) == ("out", "inquiry_ack", "email")
    assert inquiry.reference in (ack.subject or "")
    assert "山田 太郎 様" in ack.body
    assert inquiry.first_response_due_at is not None
    assert format_local(inquiry.first_response_due_at, settings.timezone, "ja") in ack.body
    assert inquiry.first_responded_at is None  # the ack is not the first response
    row = session.get(Subscriber, inquiry.contact_id)
    assert row is not None and (row.address, row.status) == ("taro@example.com", "contact")
    message = session.get(OutboxMessage, ack.outbox_message_id)
    assert message is not None and message.kind == "inquiry_ack"
    assert message.data["reference"] == inquiry.reference
    delivery = session.scalars(select(Delivery).where(Delivery.message_id == message.id)).one()
    assert delivery.subscriber_id == row.id


def test_triage_through_the_hook_sets_level_incident_and_due_time(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = _incident(session, settings)
    monkeypatch.setattr(intake, "TRIAGE_HOOK", f"{HERE}:level_three_triage")
    new = service.NewInquiry(
        channel="chat",
        text="返金してください",
        customer_email="hanako@example.com",
        customer_tier="important",
        received_at=T0 + dt.timedelta(minutes=5),
    )
    inquiry = intake.take(session, settings, new, actor="api", now=T0 + dt.timedelta(minutes=6))
    session.commit()
    session.expire_all()
    stored = service.get(session, inquiry.reference)
    assert (stored.level, stored.intent, stored.temperature) == (3, "compensation_request", 2)
    assert stored.incident_id == incident.id
    assert stored.suggested_template == "inquiry_reply"
    assert stored.triage_reasons == [
        "tier=important",
        f"at={(T0 + dt.timedelta(minutes=5)).isoformat()}",
    ]
    # Level 3 for an important customer: 30 minutes from receipt (policy.toml), not level 1's 15.
    assert stored.first_response_due_at == T0 + dt.timedelta(minutes=35)
    assert _actions(session, stored) == [
        "inquiry.received",
        "inquiry.triaged",
        "inquiry.acknowledged",
    ]
    # The acknowledgement speaks of the linked incident (its components, the status page).
    assert "ログイン" in stored.messages[-1].body
    assert "http://127.0.0.1:8000/" in stored.messages[-1].body


def test_the_agents_incident_wins_over_triage(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _incident(session, settings)
    monkeypatch.setattr(intake, "TRIAGE_HOOK", f"{HERE}:level_three_triage")
    other = incidents.declare(
        session,
        settings,
        incidents.IncidentInput(title="請求画面の遅延", severity="sev3", components=["ログイン"]),
        actor="test",
        now=T0,
    )
    session.commit()
    new = service.NewInquiry(channel="phone", text="請求画面が遅い")
    inquiry = intake.take(session, settings, new, actor="op", incident_id=other.id)
    session.commit()
    assert inquiry.incident_id == other.id != first.id


def test_a_failing_triage_leaves_the_inquiry_stored_and_says_so(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake, "TRIAGE_HOOK", f"{HERE}:broken_triage")
    new = service.NewInquiry(channel="form", text="つながらない", customer_email="a@example.com")
    inquiry = intake.take(session, settings, new, actor="public")
    session.commit()
    assert inquiry.level == 1
    assert _actions(session, inquiry) == [
        "inquiry.received",
        "inquiry.triage_failed",
        "inquiry.acknowledged",
    ]
    from anshin.components.models import Component

    assert session.scalar(select(func.count()).select_from(Component)) == 0  # rolled back


def test_a_triage_module_that_cannot_import_is_an_error_not_absent() -> None:
    with pytest.raises(ModuleNotFoundError):
        intake.triage_function("intake_broken_triage:for_intake")


def test_no_address_no_acknowledgement(session: Session, settings: Settings) -> None:
    phone = intake.take(
        session,
        settings,
        service.NewInquiry(channel="phone", text="電話: つながらない", customer_phone="0312345678"),
        actor="op",
    )
    chat = intake.take(
        session, settings, service.NewInquiry(channel="chat", text="落ちてる？"), actor="api"
    )
    session.commit()
    assert settings.chat_webhook_url is None
    for inquiry in (phone, chat):
        assert inquiry.contact_id is None
        assert [m.direction for m in inquiry.messages] == ["in"]
        assert "inquiry.acknowledged" not in _actions(session, inquiry)
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize("address", ["not-an-address", "a@b", "山田@example.com"])
def test_a_malformed_address_is_refused_and_nothing_is_stored(
    session: Session, settings: Settings, address: str
) -> None:
    new = service.NewInquiry(channel="form", text="つながらない", customer_email=address)
    with pytest.raises(InvalidInput) as refused:
        intake.take(session, settings, new, actor="public")
    assert refused.value.field == "email"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Inquiry)) == 0


def test_the_acknowledgement_reaches_the_customer_by_mail_and_the_chat_by_webhook(
    session: Session,
    engine: Engine,
    mail_settings: Settings,
    sink: SmtpSink,
    hooks: WebhookReceiver,
) -> None:
    settings = mail_settings
    _incident(session, settings)
    ja = intake.take(
        session,
        settings,
        service.NewInquiry(
            channel="form",
            text="ログインできない",
            customer_name="山田 太郎",
            customer_email="taro@example.com",
        ),
        actor="public",
    )
    en = intake.take(
        session,
        settings,
        service.NewInquiry(
            channel="form",
            text="Cannot sign in",
            customer_name="Jane Doe",
            customer_email="jane@example.com",
            locale="en",
        ),
        actor="public",
    )
    chat = intake.take(
        session,
        settings,
        service.NewInquiry(channel="chat", text="落ちてる？", extra={"conversation": "c-42"}),
        actor="api",
    )
    session.commit()
    drain(settings, engine)

    mails = {item.recipients[0]: item.parse() for item in sink.handler.received}
    assert sorted(mails) == ["jane@example.com", "taro@example.com"]
    subject = str(mails["taro@example.com"]["Subject"])
    assert subject == f"【安心テスト】お問い合わせを受け付けました（{ja.reference}）"
    body = mails["taro@example.com"].get_body(("plain",))
    assert body is not None and "山田 太郎 様" in body.get_content()
    assert f"お問い合わせ番号：{ja.reference}" in body.get_content()
    english = str(mails["jane@example.com"]["Subject"])
    assert english == f"[安心テスト] We have received your inquiry ({en.reference})"

    assert len(hooks.requests) == 1
    hook = hooks.requests[0]
    assert hook.path == "/chat"
    payload = hook.json()
    assert payload["kind"] == "inquiry_ack"
    assert payload["data"]["reference"] == chat.reference
    assert payload["data"]["conversation"] == "c-42"
    assert chat.reference in str(payload)
    session.expire_all()
    states = session.scalars(select(Delivery.status)).all()
    assert sorted(states) == ["sent", "sent", "sent"]


def test_concurrent_intake_stores_every_one_with_its_own_reference_and_ack(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    def one(i: int) -> str:
        with sessions() as s:
            row = intake.take(
                s,
                settings,
                service.NewInquiry(
                    channel="chat", text=f"つながらない {i}", customer_email=f"c{i % 5}@example.com"
                ),
                actor="api",
            )
            s.commit()
            return row.reference

    with ThreadPoolExecutor(max_workers=8) as pool:
        refs = list(pool.map(one, range(24)))
    assert len(set(refs)) == 24
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Inquiry)) == 24
        acks = s.scalars(select(InquiryMessage).where(InquiryMessage.kind == "inquiry_ack")).all()
        assert len(acks) == 24
        # Five customers, five contact rows: a customer who writes again keeps one row.
        assert s.scalar(select(func.count()).select_from(Subscriber)) == 5
        assert s.scalar(select(func.count()).select_from(Delivery)) == 24


def test_workers_are_woken_when_the_ack_is_committed_not_at_its_savepoint(
    sessions: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Woken at the savepoint's release, a worker would find nothing yet and sleep."""
    from anshin.notify import queue

    seen: list[int] = []

    def wake(_settings: Settings, recipients: int = 1) -> int:
        with sessions() as other:  # what a worker would see at that moment
            seen.append(other.scalar(select(func.count()).select_from(Delivery)) or 0)
        return 1

    # A wake-up an earlier test booked goes out within WAKE_INTERVAL_SECONDS: let it go first.
    time.sleep(2 * queue.WAKE_INTERVAL_SECONDS)
    monkeypatch.setattr(queue, "wake", wake)
    queue.forget_wakes()  # the first wake after a quiet spell goes out at once
    with sessions() as s:
        intake.take(
            s,
            settings,
            service.NewInquiry(channel="form", text="つながらない", customer_email="a@example.com"),
            actor="public",
        )
        assert seen == []
        s.commit()
    assert seen == [1]


def test_sqlite_writers_of_one_process_take_turns_released_at_the_end(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """The turn is held from the first write to commit or rollback, never longer (SQLite only)."""
    new = service.NewInquiry(channel="form", text="つながらない", customer_email="a@example.com")
    with sessions() as s:
        sqlite = s.get_bind().dialect.name == "sqlite"
        intake.take(s, settings, new, actor="public")
        assert intake._WRITE_TURN.locked() is sqlite
        s.rollback()
        assert not intake._WRITE_TURN.locked()
        first = intake.take(s, settings, new, actor="public")
        s.commit()
        assert not intake._WRITE_TURN.locked()
    if not sqlite:
        return  # PostgreSQL: no turn; writers wait on row locks only where they meet
    with sessions() as s:
        intake.take(s, settings, new, actor="public")
        with ThreadPoolExecutor(1) as pool, sessions() as other:
            waiting = pool.submit(intake.take, other, settings, new, actor="public")
            time.sleep(0.3)
            assert not waiting.done()  # the second waits for the first's turn
            s.commit()
            second = waiting.result(timeout=10)
            other.commit()
        assert second.reference > first.reference
    assert not intake._WRITE_TURN.locked()


def test_a_triage_that_writes_is_refused_and_its_write_never_happens(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake, "TRIAGE_HOOK", f"{HERE}:writing_triage")
    new = service.NewInquiry(channel="form", text="返金してください")
    inquiry = intake.take(session, settings, new, actor="public")
    session.commit()
    assert (inquiry.level, inquiry.intent) == (1, "unrelated")  # stored as it came
    assert _actions(session, inquiry) == ["inquiry.received", "inquiry.triage_failed"]
    from anshin.components.models import Component

    assert session.scalar(select(func.count()).select_from(Component)) == 0


def test_sqlite_intakes_of_other_processes_wait_for_the_turn_file(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    """Another process holding the turn (its flock) makes this intake wait until it lets go."""
    with sessions() as s:
        if s.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL: no turn")
        path = intake_turn.turn_file(s.get_bind().url.database)
    assert path is not None
    ready = tmp_path / "holding"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "open(sys.argv[2], 'w').close()\n"
            "time.sleep(1.0)\n",
            path,
            str(ready),
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        new = service.NewInquiry(
            channel="form", text="つながらない", customer_email="a@example.com"
        )
        began = time.monotonic()
        with sessions() as s:
            intake.take(s, settings, new, actor="public")
            waited = time.monotonic() - began
            s.commit()
        assert holder.wait(timeout=30) == 0
        assert waited >= 0.5  # it waited for the other process's turn to end
    finally:
        holder.kill()
    # Given back at the commit: another process gets it at once.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys\n"
            "fd = os.open(sys.argv[1], os.O_RDWR)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n",
            path,
        ],
        timeout=30,
    )
    assert done.returncode == 0
