"""Inbound mail into the record (inquiries.inbound) and ``anshin inquiry import`` (R18–R20).

Threading rules (module docstring of inquiries.inbound): duplicate, reply by
header, reply by reference from the same customer, else a new inquiry; a
closed inquiry reopens. Real databases (SQLite and PostgreSQL), real files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from anshin import events
from anshin.cli import app
from anshin.config import Settings
from anshin.inquiries import inbound, mail, service
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.inquiries.rules import Stage
from mail_support import compose

DATA = Path(__file__).parent / "data" / "mail"
EXPECTED: dict[str, dict[str, Any]] = json.loads((DATA / "expected.json").read_text("utf-8"))


def raw_mail(
    body: str = "ログインできません。\n",
    *,
    message_id: str = "<first@example.jp>",
    charset: str = "iso-2022-jp",
    **options: str,
) -> bytes:
    return compose(body, message_id=message_id, charset=charset, **options)


def store(session: Session, settings: Settings, raw: bytes) -> inbound.Outcome:
    outcome = inbound.store(session, settings, mail.parse(raw, max_bytes=2**20), actor="test")
    session.commit()
    return outcome


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def actions(session: Session, inquiry_id: int) -> list[str]:
    return [e.action for e in events.history(session, "inquiry", inquiry_id)]


def test_a_new_mail_becomes_an_inquiry_with_its_words(session: Session, settings: Settings) -> None:
    outcome = store(session, settings, raw_mail())
    assert outcome.kind == "created" and outcome.reference
    inquiry = service.get(session, outcome.reference)
    assert inquiry.channel == "email"
    assert inquiry.original_text == "ログインできません。\n"
    assert (inquiry.customer_name, inquiry.customer_email) == ("山田 太郎", "taro@example.jp")
    assert inquiry.subject == "お問い合わせ"
    assert inquiry.mail_message_id == "<first@example.jp>"
    assert inquiry.locale == "ja"
    [message] = inquiry.messages
    assert message.body == "ログインできません。\n" and message.direction == "in"
    assert message.data["from"] == "taro@example.jp"
    assert actions(session, inquiry.id) == ["inquiry.received"]


def test_the_same_message_id_twice_stores_nothing_more(
    session: Session, settings: Settings
) -> None:
    first = store(session, settings, raw_mail())
    again = store(session, settings, raw_mail())
    assert again.kind == "duplicate" and again.reference == first.reference
    assert (count(session, Inquiry), count(session, InquiryMessage)) == (1, 1)


@pytest.mark.parametrize("header", ["In_Reply_To", "References"])
def test_a_reply_joins_the_inquiry_its_headers_name(
    session: Session, settings: Settings, header: str
) -> None:
    first = store(session, settings, raw_mail())
    refs = {header: "<unrelated@elsewhere> <first@example.jp>"}
    reply = store(
        session,
        settings,
        raw_mail("追記です。\n", subject="Re: お問い合わせ", message_id="<second@x>", **refs),
    )
    assert reply.kind == "threaded" and reply.reference == first.reference
    assert reply.threaded_by == header.lower()
    inquiry = service.get(session, first.reference or "")
    assert [m.body for m in inquiry.messages] == ["ログインできません。\n", "追記です。\n"]
    assert inquiry.messages[1].mail_message_id == "<second@x>"
    assert inquiry.original_text == "ログインできません。\n"  # never changed (R25)
    assert actions(session, inquiry.id) == ["inquiry.received", "inquiry.message_received"]
    assert count(session, Inquiry) == 1


def test_a_reply_to_our_own_outbound_mail_joins_its_inquiry(
    session: Session, settings: Settings
) -> None:
    first = store(session, settings, raw_mail())
    inquiry = service.get(session, first.reference or "")
    inquiry.messages.append(
        InquiryMessage(
            direction="out",
            channel="email",
            body="ご連絡ありがとうございます。",
            author="agent",
            mail_message_id="anshin.delivery.42@anshin.local",  # stored without <>
        )
    )
    session.commit()
    reply = store(
        session,
        settings,
        raw_mail(
            "ありがとうございます。\n",
            sender="taro@other.example",
            message_id="<third@x>",
            In_Reply_To="<anshin.delivery.42@anshin.local>",
        ),
    )
    assert (reply.kind, reply.reference, reply.threaded_by) == (
        "threaded",
        first.reference,
        "in_reply_to",
    )


def test_the_reference_in_the_subject_threads_for_the_same_customer_only(
    session: Session, settings: Settings
) -> None:
    first = store(session, settings, raw_mail())
    subject = f"Re: 【anshin】お問い合わせへのご回答（{first.reference}）"
    same = store(
        session,
        settings,
        raw_mail("続きです。\n", sender="TARO@example.jp", subject=subject, message_id="<r1@x>"),
    )
    assert (same.kind, same.reference, same.threaded_by) == (
        "threaded",
        first.reference,
        "subject_reference",
    )
    stranger = store(
        session,
        settings,
        raw_mail("私も。\n", sender="eve@example.net", subject=subject, message_id="<r2@x>"),
    )
    assert stranger.kind == "created" and stranger.reference != first.reference
    created = service.get(session, stranger.reference or "")
    assert created.messages[0].data["mentions_reference"] == first.reference


def test_a_mail_to_a_closed_inquiry_reopens_it_at_listening(
    session: Session, settings: Settings
) -> None:
    first = store(session, settings, raw_mail())
    inquiry = service.get(session, first.reference or "")
    for stage in (Stage.LISTENING, Stage.FACT_CHECKING, Stage.SOLUTION_PROPOSED):
        service.move(session, inquiry, stage, actor="agent")
    inquiry.messages.append(
        InquiryMessage(
            direction="out",
            channel="email",
            body="復旧しました。",
            author="agent",
            reports_result=True,
            mail_message_id="<anshin.delivery.9@anshin.local>",
        )
    )
    service.move(session, inquiry, Stage.RESOLVED, actor="agent")
    session.commit()
    assert inquiry.closed_at is not None
    reply = store(
        session,
        settings,
        raw_mail(
            "まだ直っていません。\n",
            message_id="<again@x>",
            In_Reply_To="<anshin.delivery.9@anshin.local>",
        ),
    )
    assert reply.kind == "threaded"
    session.expire_all()
    inquiry = service.get(session, first.reference or "")
    assert inquiry.stage == Stage.LISTENING and inquiry.closed_at is None
    assert actions(session, inquiry.id)[-2:] == [
        "inquiry.message_received",
        "inquiry.stage_changed",
    ]


def test_an_automatic_reply_answering_nothing_is_not_an_inquiry(
    session: Session, settings: Settings
) -> None:
    outcome = store(session, settings, raw_mail(Auto_Submitted="auto-replied"))
    assert outcome.kind == "ignored"
    assert count(session, Inquiry) == 0
    # An out-of-office answering our mail still joins the conversation (no reply goes out).
    first = store(session, settings, raw_mail(message_id="<q@x>"))
    auto = raw_mail(
        "不在です。\n", message_id="<ooo@x>", In_Reply_To="<q@x>", Auto_Submitted="auto-replied"
    )
    assert store(session, settings, auto).reference == first.reference


def test_text_the_record_refuses_refuses_the_whole_mail(
    session: Session, settings: Settings
) -> None:
    from anshin.errors import InvalidInput

    long = raw_mail("あ" * (service.TEXT_MAX + 1) + "\n", charset="utf-8")
    with pytest.raises(InvalidInput):
        store(session, settings, long)
    session.rollback()
    assert count(session, Inquiry) == 0


# --- anshin inquiry import -------------------------------------------------------------


def invoke(settings: Settings, *args: str) -> Result:
    env = {
        "ANSHIN_DATABASE_URL": settings.database_url,
        "ANSHIN_SECRET_KEY": settings.secret_key,
        "LANG": "en_US.UTF-8",
        "LC_ALL": "",
        "LC_MESSAGES": "",
        "COLUMNS": "200",
    }
    return CliRunner().invoke(app, list(args), env=env)


def test_import_a_folder_files_each_mail_and_reports_failures(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "mails"
    shutil.copytree(DATA, folder)
    (folder / "notes.txt").write_text("not a mail, not an .eml", "utf-8")
    result = invoke(settings, "inquiry", "import", str(folder))
    assert result.exit_code == 1, result.output
    assert (
        "Created 5, threaded 1, skipped duplicates 1, ignored automatic replies 0, failed 3."
        in result.stdout
    )
    for name in ("08-garbage.eml", "09-no-from.eml", "10-no-body.eml"):
        assert name in result.stderr
    assert "This is not a mail" in result.stderr
    assert "no sender address" in result.stderr
    for name, expected in EXPECTED.items():
        if expected["kind"] not in ("created", "threaded"):
            continue
        message = session.scalar(
            select(InquiryMessage).where(InquiryMessage.body == expected["text"])
        )
        assert message is not None, name  # the stored text is exactly the decoded body
        if expected["kind"] == "threaded":
            origin = EXPECTED[expected["thread_of"]]["text"]
            assert message.inquiry.original_text == origin
    becky = session.scalar(
        select(Inquiry).where(Inquiry.customer_email == "suzuki@sample.example.jp")
    )
    assert becky is not None and becky.messages[0].data["attachments"] == ["画面キャプチャ.pdf"]
    # Importing again changes nothing: every mail is a duplicate now.
    again = invoke(settings, "inquiry", "import", str(folder))
    assert "Created 0, threaded 0, skipped duplicates 7" in again.stdout
    assert count(session, Inquiry) == 5 and count(session, InquiryMessage) == 6


def test_import_one_file_and_a_path_that_is_not_there(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    result = invoke(settings, "inquiry", "import", str(DATA / "02-sjis-base64.eml"))
    assert result.exit_code == 0, result.output
    assert "Created 1," in result.stdout
    missing = invoke(settings, "inquiry", "import", str(tmp_path / "nope.eml"))
    assert missing.exit_code == 2
    assert "No such file or folder" in missing.stderr
    big = tmp_path / "big.eml"
    big.write_bytes(raw_mail("x" * 5000 + "\n", charset="utf-8"))
    limited = CliRunner().invoke(
        app,
        ["inquiry", "import", str(big)],
        env={
            "ANSHIN_DATABASE_URL": settings.database_url,
            "ANSHIN_SECRET_KEY": settings.secret_key,
            "ANSHIN_MAIL_MAX_BYTES": "2048",
            "LANG": "ja_JP.UTF-8",
            "LC_ALL": "",
        },
    )
    assert limited.exit_code == 1
    assert "big.eml" in limited.stderr and "上限は 2048 バイトです" in limited.stderr
    assert "失敗 1 件" in limited.stdout
    assert count(session, Inquiry) == 1
