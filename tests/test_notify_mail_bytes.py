"""The per-recipient mail is the same bytes as encoding the whole mail at once.

Workers encode what every recipient of a message shares once per message and
locale (``smtp.MailTemplate``) and only the last base64 lines per recipient.
These tests pin that against a straightforward encoding of each mail whole
(the way anshin built mail before), for texts whose lengths fall on every side
of base64's 57-byte lines, both locales, confirmations (no footer) and a
base URL that needs HTML escaping. Only the boundary's random tag differs.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from anshin.config import Settings
from anshin.i18n import N_, translate
from anshin.notify import rules, smtp, tokens, wire

NOW = dt.datetime(2026, 12, 1, 10, 12, 30, tzinfo=dt.UTC)
BOUNDARY_TAG = re.compile(rb"(=_anshin_\d+_)[0-9a-f]{12}")


def whole(
    settings: Settings, *, delivery_id: int, to: str, locale: str, kind: str, texts: dict[str, str]
) -> bytes:
    """Every header and part of one mail built and base64-encoded in full, for this mail only."""
    subject = texts.get("subject", "")
    headers = EmailMessage(policy=smtp.SMTP_POLICY)
    headers["Subject"] = subject
    headers["From"] = settings.smtp_from
    head = headers.as_bytes().split(b"\r\n\r\n", 1)[0] + b"\r\n"
    text = texts.get("text", "").rstrip() + "\n"
    markup = (
        f'<!DOCTYPE html><html lang="{locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(subject)}</title></head>"
        '<body style="font-family:sans-serif;line-height:1.6;'
        'overflow-wrap:anywhere;word-break:break-word">'
        f"{texts.get('html') or rules.text_to_html(texts.get('text', ''))}"
    )
    token = tokens.unsubscribe_token(settings, 7, to)
    url = smtp.unsubscribe_url(settings, token)
    if kind != "confirmation":
        why = translate(
            locale,
            N_("You receive this mail because you subscribed to status updates from {site}."),
            site=settings.site_name,
        )
        leave = translate(locale, N_("To stop receiving these mails, open this link:"))
        text += f"\n-- \n{why}\n{leave}\n{url}\n"
        link = html.escape(url)
        markup += (
            f'<hr><p style="color:#555;font-size:12px">{html.escape(why)}<br>'
            f'{html.escape(leave)} <a href="{link}">{link}</a></p>'
        )
    markup += "</body></html>\n"
    boundary = f"=_anshin_{delivery_id}_000000000000"
    mailto = smtp.unsubscribe_mailto(settings, token)
    fields = (
        f"To: {to}\r\n"
        f"Date: Tue, 01 Dec 2026 10:12:30 +0000\r\n"
        f"Message-ID: <anshin.delivery.{delivery_id}@{settings.smtp_message_id_domain}>\r\n"
        f"List-Unsubscribe: <{url}>,\r\n <{mailto}>\r\n"
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        "Auto-Submitted: auto-generated\r\n"
        f"X-Anshin-Delivery: {delivery_id}\r\n"
        "MIME-Version: 1.0\r\n"
        f"Content-Language: {locale}\r\n"
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'
        "\r\n"
    ).encode("ascii")
    part = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    b64 = [base64.encodebytes(body.encode()).replace(b"\n", b"\r\n") for body in (text, markup)]
    return b"".join(
        (
            head,
            fields,
            f"--{boundary}\r\n{part.format('plain')}".encode(),
            b64[0],
            f"--{boundary}\r\n{part.format('html')}".encode(),
            b64[1],
            f"--{boundary}--\r\n".encode(),
        )
    )


def rendered(
    settings: Settings, *, delivery_id: int, to: str, locale: str, kind: str, texts: dict[str, str]
) -> bytes:
    """What a worker sends: the template prepared once, rendered for this recipient."""
    template = smtp.MailTemplate.prepare(settings, locale=locale, kind=kind, texts=texts)
    token = tokens.unsubscribe_token(settings, 7, to)
    data = template.render(settings, delivery_id=delivery_id, to=to, token=token, now=NOW)
    return BOUNDARY_TAG.sub(rb"\g<1>000000000000", data)


@pytest.fixture
def mail_settings() -> Settings:
    return Settings(
        secret_key="mail-bytes-secret",
        base_url="https://status.example.com/a&b/",
        smtp_from="安心ステータス <status@example.com>",
        smtp_message_id_domain="status.example.com",
        site_name="安心 & Co",
    )


# Lengths in bytes around one and two base64 lines (57 bytes each), in ASCII and in
# three-byte Japanese characters, plus an empty text.
BODIES = [
    "",
    "a",
    "x" * 56,
    "x" * 57,
    "x" * 58,
    "y" * 113,
    "あ" * 19,
    "い" * 38 + "z",
    "障害" * 200,
]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("kind", ["first_notice", "confirmation"])
@pytest.mark.parametrize("locale", ["ja", "en"])
def test_rendered_mail_is_byte_identical_to_encoding_it_whole(
    mail_settings: Settings, body: str, kind: str, locale: str
) -> None:
    texts = {"subject": "【障害】決済サービス " + body[:10], "text": body}
    args = {"delivery_id": 4321, "to": "user1@example.com", "locale": locale, "kind": kind}
    assert rendered(mail_settings, texts=texts, **args) == whole(mail_settings, texts=texts, **args)


def test_given_html_and_several_recipients_of_one_template(mail_settings: Settings) -> None:
    texts = {"subject": "Payments", "text": "Payments are down.", "html": "<p>Payments &amp;</p>"}
    template = smtp.MailTemplate.prepare(mail_settings, locale="en", kind="update", texts=texts)
    for delivery_id, to in ((1, "a@example.com"), (99999, "long.name+tag@example.co.jp")):
        token = tokens.unsubscribe_token(mail_settings, 7, to)
        data = template.render(mail_settings, delivery_id=delivery_id, to=to, token=token, now=NOW)
        expected = whole(
            mail_settings, delivery_id=delivery_id, to=to, locale="en", kind="update", texts=texts
        )
        assert BOUNDARY_TAG.sub(rb"\g<1>000000000000", data) == expected
        mail = message_from_bytes(data, policy=policy.default)
        assert mail["Message-ID"] == f"<anshin.delivery.{delivery_id}@status.example.com>"
        body = mail.get_body(("html",))
        assert body is not None and "<p>Payments &amp;</p>" in body.get_content()


def test_unsubscribe_tokens_are_stable_and_keyed_by_secret(mail_settings: Settings) -> None:
    """The cached serializer signs exactly as a fresh one would, per secret key."""
    first = tokens.unsubscribe_token(mail_settings, 7, "a@example.com")
    assert tokens.unsubscribe_token(mail_settings, 7, "a@example.com") == first
    other = mail_settings.model_copy(update={"secret_key": "another-secret"})
    assert tokens.unsubscribe_token(other, 7, "a@example.com") != first
    assert tokens.read_unsubscribe_token(mail_settings, first) == (
        7,
        wire.address_tag("a@example.com"),
    )


def test_the_date_header_is_the_clock_to_the_second() -> None:
    """The Date value is formatted once a second and reused; it is still the current second."""
    before = format_datetime(dt.datetime.now(dt.UTC))
    first, second = smtp._date(None), smtp._date(None)
    after = format_datetime(dt.datetime.now(dt.UTC))
    assert first in (before, after) and second in (first, after)
    assert smtp._date(NOW) == "Tue, 01 Dec 2026 10:12:30 +0000"
