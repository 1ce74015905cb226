"""``anshin mail-in``: a real aiosmtpd listener on 127.0.0.1, real mail over smtplib (R18).

Each mail is in the database before the 250; what cannot be stored now gets a
451 (the MTA retries, and nothing is lost); what never can gets a 5xx with
the reason. The last test runs the command itself in a process and stops it
with SIGTERM.
"""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from anshin import events
from anshin.config import Settings
from anshin.inquiries import mail_server, service
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.notify.sink import free_port
from mail_support import compose

DATA = Path(__file__).parent / "data" / "mail"
BODY = (
    "お世話になっております。\n"
    "本日9時からログインできません（エラー500）。\n"
    "復旧はいつ頃でしょうか。\n"
)


@pytest.fixture
def listener(settings: Settings) -> Iterator[tuple[str, int, Settings]]:
    limited = settings.model_copy(update={"mail_max_bytes": 64 * 1024})
    port = free_port()
    with mail_server.listening(limited, "127.0.0.1", port):
        yield "127.0.0.1", port, limited


def mail(
    body: str = BODY,
    *,
    subject: str = "【至急】ログインできません",
    in_reply_to: str | None = None,
    **options: str,
) -> bytes:
    if in_reply_to:
        options.update(In_Reply_To=in_reply_to, References=in_reply_to)
    return compose(body, subject=subject, **options)


def send(where: tuple[str, int, Settings], data: bytes) -> tuple[int, str]:
    """One SMTP transaction; the server's answer to DATA (code, text)."""
    host, port, _ = where
    with smtplib.SMTP(host, port, timeout=30) as client:
        client.ehlo("client.example.jp")
        code, _ = client.mail("taro@example.jp")
        assert code == 250
        code, _ = client.rcpt("support@example.com")
        assert code == 250
        code, reply = client.data(data)
    return code, reply.decode()


def messages(session: Session) -> list[InquiryMessage]:
    session.expire_all()
    return list(session.scalars(select(InquiryMessage).order_by(InquiryMessage.id)))


@pytest.mark.parametrize(
    ("charset", "cte"),
    [
        ("iso-2022-jp", "7bit"),
        ("shift_jis", "base64"),
        ("shift_jis", "8bit"),
        ("utf-8", "quoted-printable"),
        ("utf-8", "base64"),
    ],
)
def test_mail_in_each_charset_is_stored_before_the_250(
    listener: tuple[str, int, Settings], session: Session, charset: str, cte: str
) -> None:
    code, reply = send(listener, mail(charset=charset, cte=cte))
    assert code == 250, reply
    [message] = messages(session)
    assert reply.endswith(message.inquiry.reference)
    assert message.body == BODY  # exactly the words typed
    inquiry = message.inquiry
    assert inquiry.original_text == BODY and inquiry.channel == "email"
    assert inquiry.subject == "【至急】ログインできません"
    assert (inquiry.customer_name, inquiry.customer_email) == ("山田 太郎", "taro@example.jp")


def test_replies_thread_by_header_and_by_reference_and_duplicates_are_skipped(
    listener: tuple[str, int, Settings], session: Session
) -> None:
    code, _ = send(listener, mail(charset="iso-2022-jp"))
    assert code == 250
    [first] = messages(session)
    reference = first.inquiry.reference
    reply = mail("追加情報です。\n", message_id="<m2@example.jp>", in_reply_to="<m1@example.jp>")
    code, answer = send(listener, reply)
    assert (code, answer) == (250, f"2.0.0 threaded {reference}")
    by_subject = mail(
        "三通目です。\n",
        charset="shift_jis",
        cte="base64",
        subject=f"Re: 【anshin】お問い合わせへのご回答（{reference}）",
        message_id="<m3@example.jp>",
    )
    assert send(listener, by_subject) == (250, f"2.0.0 threaded {reference}")
    # The MTA delivers the same mail again (its 250 was lost): stored once.
    assert send(listener, reply) == (250, f"2.0.0 duplicate {reference}")
    stored = messages(session)
    assert [m.body for m in stored] == [BODY, "追加情報です。\n", "三通目です。\n"]
    assert {m.inquiry_id for m in stored} == {first.inquiry_id}
    assert session.scalar(select(func.count()).select_from(Inquiry)) == 1
    history = [e.action for e in events.history(session, "inquiry", first.inquiry_id)]
    assert history == ["inquiry.received", *["inquiry.message_received"] * 2]


def test_malformed_and_oversized_mail_is_refused_with_the_reason(
    listener: tuple[str, int, Settings], session: Session
) -> None:
    code, reply = send(listener, (DATA / "08-garbage.eml").read_bytes())
    assert code == 550 and "not a mail" in reply
    code, reply = send(listener, (DATA / "09-no-from.eml").read_bytes())
    assert code == 550 and "no sender address" in reply
    code, reply = send(listener, (DATA / "10-no-body.eml").read_bytes())
    assert code == 550 and "no text" in reply
    big = mail("あ" * 40_000 + "\n")  # ~120 KB base64 > the 64 KiB limit
    host, port, _ = listener
    with smtplib.SMTP(host, port, timeout=30) as client, pytest.raises(smtplib.SMTPException) as e:
        client.sendmail("taro@example.jp", ["support@example.com"], big)
    assert getattr(e.value, "smtp_code", None) == 552  # refused at MAIL FROM (SIZE=…)
    code, reply = send(listener, big)  # a client that does not declare the size
    assert code == 552, reply
    assert messages(session) == []
    # The listener still works after refusing.
    assert send(listener, mail())[0] == 250


def test_a_mail_that_cannot_be_stored_now_gets_451_and_arrives_on_retry(
    listener: tuple[str, int, Settings], session: Session, sessions: sessionmaker[Session]
) -> None:
    with sessions() as other:
        other.execute(text("ALTER TABLE inquiry_messages RENAME TO inquiry_messages_away"))
        other.commit()
    try:
        code, reply = send(listener, mail())
    finally:
        with sessions() as other:
            other.execute(text("ALTER TABLE inquiry_messages_away RENAME TO inquiry_messages"))
            other.commit()
    assert code == 451 and "try again" in reply
    assert send(listener, mail())[0] == 250  # the MTA's retry
    [message] = messages(session)
    assert message.body == BODY


def test_anshin_mail_in_runs_until_sigterm(tmp_path: Path) -> None:
    """The command itself: schema check, listen, store, stop cleanly on SIGTERM."""
    port = free_port()
    env = {
        **os.environ,
        "ANSHIN_DATABASE_URL": f"sqlite:///{tmp_path / 'mail.db'}",
        "ANSHIN_SECRET_KEY": "x" * 40,
        "ANSHIN_MAIL_IN_PORT": str(port),
        "LANG": "en_US.UTF-8",
    }
    anshin = [sys.executable, "-m", "anshin.cli"]
    refused = subprocess.run([*anshin, "mail-in"], env=env, capture_output=True, text=True)
    assert refused.returncode == 1 and "anshin db upgrade" in refused.stderr
    subprocess.run([*anshin, "db", "upgrade"], env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [*anshin, "mail-in"], env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert f"127.0.0.1:{port}" in line, line
        where = ("127.0.0.1", port, Settings())
        code, reply = send(where, mail())
        assert code == 250 and "created Q-" in reply
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        rest = process.stderr.read()
        assert "Stopped" in rest and "created Q-" in rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    from anshin.db import make_engine, make_sessionmaker

    engine = make_engine(env["ANSHIN_DATABASE_URL"])
    with make_sessionmaker(engine)() as session:
        [inquiry] = session.scalars(select(Inquiry))
        assert service.get(session, inquiry.reference).original_text == BODY
    engine.dispose()
