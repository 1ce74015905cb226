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

import base64
import datetime as dt
import html
import re
import secrets
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from anshin.config import Settings
from anshin.i18n import N_, translate
from anshin.notify import rules, wire

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


SURVEY_INVITATION = N_("How did we do? Tell us in one minute (1 to 5, and a comment if you like):")


def survey_url(settings: Settings, token: str) -> str:
    """The customer's own survey link (R30; the page is served by review.feedback_views)."""
    return f"{settings.base_url.rstrip('/')}/feedback/{token}"


def unsubscribe_url(settings: Settings, token: str) -> str:
    """The one-click unsubscribe URL (served by notify.views)."""
    return f"{settings.base_url.rstrip('/')}/unsubscribe/{token}"


@lru_cache(maxsize=8)
def sender_address(smtp_from: str) -> str:
    """The bare address of ``ANSHIN_SMTP_FROM`` (envelope sender, mailto target)."""
    return parseaddr(smtp_from)[1] or "postmaster@localhost"


def unsubscribe_mailto(settings: Settings, token: str) -> str:
    """The mailto alternative of List-Unsubscribe: a mail to the sender naming the token."""
    # Quoting is per character, so "unsubscribe " is quoted once here and the token (URL-safe
    # base64 and dots, left as they are) takes quote()'s fast path.
    return f"mailto:{sender_address(settings.smtp_from)}?subject=unsubscribe%20{quote(token)}"


# base64 turns every 57 bytes into one 76-character line (RFC 2045), independently of
# what follows, so the part of a body all recipients share is encoded once per template.
_B64_CHUNK = 57


@dataclass(frozen=True)
class _Base64Body:
    """A body part's base64 with its shared start pre-encoded; only the tail varies."""

    encoded: bytes  # whole 57-byte chunks of the shared start, base64 with CRLF
    rest: bytes  # the shared start's last bytes (< 57), encoded with each tail

    @classmethod
    def of(cls, shared: str) -> _Base64Body:
        data = shared.encode("utf-8")
        cut = len(data) - len(data) % _B64_CHUNK
        return cls(encoded=_b64(data[:cut]), rest=data[cut:])

    def encode(self, tail: str) -> bytes:
        """The bytes of encoding ``shared + tail`` whole; only the last lines are encoded here."""
        return self.encoded + _b64(self.rest + tail.encode("utf-8"))


def _b64(data: bytes) -> bytes:
    """Base64 lines of 76 characters with CRLF (7-bit safe for every relay)."""
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


@dataclass(frozen=True)
class MailTemplate:
    """What a notice's mail has in common for every recipient of one locale, encoded once.

    Rendering a mail per recipient then only adds To, Date, Message-ID, the
    unsubscribe link and the base64 of the bodies' last lines: microseconds,
    not the milliseconds the ``email`` package's header machinery costs per
    message. The bytes are the same as encoding each mail whole (tested).
    """

    head: bytes  # Subject and From, RFC 2047-encoded and folded, CRLF-terminated
    locale: str
    text: _Base64Body  # the text part up to the unsubscribe URL
    html: _Base64Body  # the HTML part up to the unsubscribe link
    footer: bool
    language: bytes  # the headers after the per-recipient ones, up to the boundary
    # The survey invitation in the message's language, when the message asks for
    # feedback (R30: the resolution notice, the reply that reports an inquiry's result).
    survey: str | None = None

    @classmethod
    def prepare(
        cls,
        settings: Settings,
        *,
        locale: str,
        kind: str,
        texts: Mapping[str, Any],
        data: Mapping[str, Any] | None = None,
    ) -> MailTemplate:
        """Encode the shared parts of a message for one locale.

        A reply to a customer's mail carries ``In-Reply-To``/``References`` from
        the message's ``data`` (``wire.thread_headers``), so it threads (R21).
        """
        subject = str(texts.get("subject", ""))
        headers = EmailMessage(policy=SMTP_POLICY)
        headers["Subject"] = subject
        headers["From"] = settings.smtp_from
        head = headers.as_bytes().split(b"\r\n\r\n", 1)[0] + b"\r\n"
        head += wire.thread_headers(data or {}).encode("ascii")
        text = str(texts.get("text", ""))
        body_html = _fragment(str(texts.get("html") or rules.text_to_html(text)))
        text = text.rstrip() + "\n"
        markup = (
            f'<!DOCTYPE html><html lang="{locale}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(subject)}</title></head>"
            f'<body style="{_BODY_STYLE}">{body_html}'
        )
        footer = kind not in ("confirmation", rules.STAFF_NUDGE)
        if footer:
            why = translate(
                locale,
                N_("You receive this mail because you subscribed to status updates from {site}."),
                site=settings.site_name,
            )
            leave = translate(locale, N_("To stop receiving these mails, open this link:"))
            text += f"\n-- \n{why}\n{leave}\n"
            markup += (
                f'<hr><p style="color:#555;font-size:12px">{html.escape(why)}<br>'
                f'{html.escape(leave)} <a href="'
            )
        else:
            markup += _HTML_TAIL
        asks = footer and rules.asks_for_feedback(kind, data or {})
        return cls(
            head=head,
            locale=locale,
            text=_Base64Body.of(text),
            html=_Base64Body.of(markup),
            footer=footer,
            survey=translate(locale, SURVEY_INVITATION) if asks else None,
            language=(
                "MIME-Version: 1.0\r\n"
                f"Content-Language: {locale}\r\n"
                'Content-Type: multipart/alternative; boundary="'
            ).encode("ascii"),
        )

    def render(
        self,
        settings: Settings,
        *,
        delivery_id: int,
        to: str,
        token: str,
        now: dt.datetime | None = None,
        survey_token: str | None = None,
    ) -> bytes:
        """The complete mail of one delivery, as bytes for SMTP (same Message-ID every time).

        ``survey_token`` adds the recipient's own survey link after the
        unsubscribe link, when the message asks for feedback (``survey``).
        """
        url = unsubscribe_url(settings, token)
        if self.footer:
            link = html.escape(url)
            text_tail, html_tail = f"{url}\n", f'{link}">{link}</a></p>'
            if self.survey and survey_token:
                ask = survey_url(settings, survey_token)
                text_tail += f"\n{self.survey}\n{ask}\n"
                html_tail += (
                    f'<p style="font-size:14px">{html.escape(self.survey)}<br>'
                    f'<a href="{html.escape(ask)}">{html.escape(ask)}</a></p>'
                )
            text = self.text.encode(text_tail)
            markup = self.html.encode(html_tail + _HTML_TAIL)
        else:
            text, markup = self.text.encode(""), self.html.encode("")
        boundary = f"=_anshin_{delivery_id}_{secrets.token_hex(6)}"
        mailto = unsubscribe_mailto(settings, token)
        head = (
            f"To: {to}\r\n"
            f"Date: {_date(now)}\r\n"
            f"Message-ID: {wire.message_id(delivery_id, settings.smtp_message_id_domain)}\r\n"
            # RFC 2369/8058 headers stay plain ASCII, folded only between the two URIs.
            f"List-Unsubscribe: <{url}>,\r\n <{mailto}>\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
            "Auto-Submitted: auto-generated\r\n"
            f"X-Anshin-Delivery: {delivery_id}\r\n"
        ).encode("ascii")
        delimiter = f"--{boundary}\r\n".encode("ascii")
        return b"".join(
            (
                self.head,
                head,
                self.language,
                f'{boundary}"\r\n\r\n'.encode("ascii"),
                delimiter,
                _PLAIN_PART,
                text,
                delimiter,
                _HTML_PART,
                markup,
                f"--{boundary}--\r\n".encode("ascii"),
            )
        )


_HTML_TAIL = "</body></html>\n"
# Long URLs wrap on a phone instead of widening the mail past the screen.
_BODY_STYLE = "font-family:sans-serif;line-height:1.6;overflow-wrap:anywhere;word-break:break-word"
_BODY = re.compile(r"<body[^>]*>(.*?)</body>", re.S | re.I)


def _fragment(markup: str) -> str:
    """The inside of ``<body>`` when a whole document was given, so the mail has one document.

    Messages queued before the HTML part became a fragment still hold whole
    documents; they are sent well-formed too.
    """
    found = _BODY.search(markup)
    return found.group(1).strip() if found else markup


_PART = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
_PLAIN_PART = _PART.format("plain").encode("ascii")
_HTML_PART = _PART.format("html").encode("ascii")


_date_cache: tuple[int, str] = (-1, "")


def _date(now: dt.datetime | None) -> str:
    """The Date header's value (RFC 5322), from the clock unless a test gives the time.

    The header has whole seconds, so a worker sending hundreds of mails a second
    formats it once per second (the tuple is swapped whole: safe between threads).
    """
    global _date_cache
    if now is not None:
        return format_datetime(now)
    second = int(time.time())
    cached = _date_cache
    if cached[0] != second:
        cached = (second, format_datetime(dt.datetime.fromtimestamp(second, dt.UTC)))
        _date_cache = cached
    return cached[1]


def render_email(
    settings: Settings,
    *,
    delivery_id: int,
    to: str,
    locale: str,
    kind: str,
    texts: Mapping[str, Any],
    token: str,
    now: dt.datetime | None = None,
    data: Mapping[str, Any] | None = None,
) -> bytes:
    """One mail from scratch (workers keep a :class:`MailTemplate` per message and locale)."""
    template = MailTemplate.prepare(settings, locale=locale, kind=kind, texts=texts, data=data)
    return template.render(settings, delivery_id=delivery_id, to=to, token=token, now=now)


class SmtpSender:
    """One SMTP connection reused for every mail a worker sends in a run (opened lazily)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None
        self._last_used = 0.0
        self.envelope_from = sender_address(settings.smtp_from)

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

    def send(self, data: bytes, to: str) -> Outcome:
        """Hand one mail to the server; ``ok`` only once the server has accepted it."""
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
