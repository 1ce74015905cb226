"""Mails for the inbound-mail tests, as Python's own generator writes them (RFC 2047 headers)."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage


def compose(
    body: str,
    *,
    charset: str = "utf-8",
    cte: str | None = None,
    subject: str = "お問い合わせ",
    sender: str = "山田 太郎 <taro@example.jp>",
    message_id: str | None = "<m1@example.jp>",
    **headers: str,
) -> bytes:
    """The bytes of one mail; ``In_Reply_To="<…>"`` adds the ``In-Reply-To`` header."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@example.com"
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body, charset=charset, cte=cte)
    return message.as_bytes(policy=policy.SMTP)
