"""Email: build the MIME message of a delivery and send it over one persistent SMTP connection.

Every mail is ``multipart/alternative`` (text and HTML, UTF-8, Japanese
subjects as RFC 2047 encoded words) and carries:

- ``Message-ID`` derived from the delivery id, so a resend after a crash is
  the same message to every mail system on the way (duplicates collapse);
- ``List-Unsubscribe`` (HTTPS + mailto) and ``List-Unsubscribe-Post:
  List-Unsubscribe=One-Click`` (RFC 8058), so one click leaves the list.

SMTP 4xx and connection trouble are transient (retried with backoff); a 5xx
answer to MAIL, RCPT or DATA is permanent (a dead letter).
"""

from __future__ import annotations

import datetime as dt
import html
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import quote

from anshin.config import Settings
from anshin.i18n import N_, translate
from anshin.notify import rules

# Headers set raw (List-Unsubscribe) are written as given; all others are folded.
SMTP_POLICY = SMTP.clone(refold_source="none")
# A connection idle for longer than this is checked with NOOP before reuse.
IDLE_CHECK_SECONDS = 5.0


@dataclass(frozen=True)
class Outcome:
    """What happened to one send: accepted, or why not and whether to try again."""

    ok: bool
    transient: bool = False
    error: str = ""

    @classmethod
    def accepted(cls) -> Outcome:
        return cls(ok=True)

    @classmethod
    def failed(cls, error: str, *, transient: bool) -> Outcome:
        return cls(ok=False, transient=transient, error=error[:500])


def unsubscribe_url(settings: Settings, token: str) -> str:
    """The one-click unsubscribe URL (served by notify.views)."""
    return f"{settings.base_url.rstrip('/')}/unsubscribe/{token}"


def unsubscribe_mailto(settings: Settings, token: str) -> str:
    """The mailto alternative of List-Unsubscribe: a mail to the sender naming the token."""
    address = parseaddr(settings.smtp_from)[1] or "postmaster@localhost"
    return f"mailto:{address}?subject={quote('unsubscribe ' + token)}"


def _footer(settings: Settings, locale: str, url: str) -> tuple[str, str]:
    why = translate(
        locale,
        N_("You receive this mail because you subscribed to status updates from {site}."),
        site=settings.site_name,
    )
    leave = translate(locale, N_("To stop receiving these mails, open this link:"))
    text = f"\n-- \n{why}\n{leave}\n{url}\n"
    markup = (
        '<hr><p style="color:#555;font-size:12px">'
        f'{html.escape(why)}<br>{html.escape(leave)} <a href="{html.escape(url)}">'
        f"{html.escape(url)}</a></p>"
    )
    return text, markup


def build_email(
    settings: Settings,
    *,
    delivery_id: int,
    to: str,
    locale: str,
    kind: str,
    texts: Mapping[str, Any],
    token: str,
    now: dt.datetime | None = None,
) -> EmailMessage:
    """The complete mail of one delivery (same Message-ID on every attempt)."""
    url = unsubscribe_url(settings, token)
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Subject"] = str(texts.get("subject", ""))
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Date"] = format_datetime(now or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = rules.message_id(delivery_id, settings.smtp_message_id_domain)
    # RFC 2369 headers must stay plain ASCII: stored raw (never re-encoded), folded
    # between the two URIs only.
    msg.set_raw("List-Unsubscribe", f"<{url}>,\r\n <{unsubscribe_mailto(settings, token)}>")
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Anshin-Delivery"] = str(delivery_id)
    text = str(texts.get("text", ""))
    body_html = str(texts.get("html") or rules.text_to_html(text))
    footer_text, footer_html = (
        ("", "") if kind == "confirmation" else _footer(settings, locale, url)
    )
    msg.set_content(text.rstrip() + "\n" + footer_text, charset="utf-8")
    document = (
        f'<!DOCTYPE html><html lang="{locale}"><head><meta charset="utf-8">'
        f"<title>{html.escape(str(texts.get('subject', '')))}</title></head>"
        f'<body style="font-family:sans-serif;line-height:1.6">{body_html}{footer_html}'
        "</body></html>"
    )
    msg.add_alternative(document, subtype="html", charset="utf-8")
    msg["Content-Language"] = locale  # after the parts: set_content drops Content-* headers
    return msg


class SmtpSender:
    """One SMTP connection reused for every mail a worker sends in a run (opened lazily)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None
        self._last_used = 0.0
        self.envelope_from = parseaddr(settings.smtp_from)[1] or "postmaster@localhost"

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        try:
            conn.ehlo()
            if s.smtp_starttls:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if s.smtp_username:
                conn.login(s.smtp_username, s.smtp_password or "")
        except BaseException:
            conn.close()
            raise
        return conn

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None and time.monotonic() - self._last_used > IDLE_CHECK_SECONDS:
            try:
                code, _ = self._conn.noop()
                if code != 250:
                    self.close()
            except (smtplib.SMTPException, OSError):
                self.close()
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def send(self, msg: EmailMessage, to: str) -> Outcome:
        """Hand one mail to the server; ``ok`` only once the server has accepted it."""
        data = msg.as_bytes()
        try:
            conn = self._connection()
        except smtplib.SMTPResponseException as exc:  # refused at connect, EHLO, STARTTLS or AUTH
            self.close()
            return Outcome.failed(f"SMTP {exc.smtp_code} while connecting: {exc}", transient=True)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            return Outcome.failed(f"cannot connect to the SMTP server: {exc}", transient=True)
        try:
            conn.sendmail(self.envelope_from, [to], data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(to, (None, b""))
            return Outcome.failed(
                f"SMTP {code} {_text(reply)}", transient=rules.smtp_is_transient(code)
            )
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421 or exc.smtp_code < 0:
                self.close()
            return Outcome.failed(
                f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}",
                transient=rules.smtp_is_transient(exc.smtp_code),
            )
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            return Outcome.failed(f"SMTP connection lost: {exc}", transient=True)
        self._last_used = time.monotonic()
        return Outcome.accepted()

    def close(self) -> None:
        """QUIT politely if possible; the connection is gone either way."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
