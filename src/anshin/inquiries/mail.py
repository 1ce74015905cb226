"""Inbound mail read into what an inquiry needs: sender, subject, text, threading ids (R18).

Pure: bytes in, a :class:`ParsedMail` out, no database and no service. The
listener (``anshin mail-in``) and the import (``anshin inquiry import``) both
come through here, so a mail reads the same whichever way it arrived. What
the bytes of a part or a header say (charsets, encoded words, HTML) is read
in ``inquiries.mail_text``; this module walks the mail and decides what it is.

Japanese mail is the normal case, not the exception: bodies in ISO-2022-JP,
Shift_JIS (and its Windows form cp932, labelled ``x-sjis``, ``windows-31j``…),
EUC-JP or UTF-8, sent 7bit, 8bit, quoted-printable or base64; headers in
RFC 2047 encoded words, or raw 8-bit bytes from older mailers. A label that
lies (UTF-8 bytes sent as ``iso-2022-jp``, an unknown charset name) does not
stop the mail: the next candidate that decodes the bytes cleanly is taken and
the fallback is noted, and bytes nothing decodes become U+FFFD rather than a
refusal. What cannot make an inquiry at all — no sender, no readable text, a
mail over the size limit — is refused with a message saying why (R18: nothing
is half-stored).
"""

from __future__ import annotations

import datetime as dt
import email.errors
import email.header
import email.utils
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from typing import cast

from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inquiries.mail_text import decode_bytes, decode_header, html_to_text, storable

# Q-2026-000123 (inquiries.service: prefix Q, year, six digits or more).
_REFERENCE = re.compile(r"(?<![A-Za-z0-9])Q-([0-9]{4})-([0-9]{6,})(?![0-9])", re.IGNORECASE)
_MSGID = re.compile(r"<([^<>\s]+)>")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")

SUBJECT_MAX = 300  # the column (inquiries.service.SUBJECT_MAX); the full subject goes in data
NAME_MAX = 200
ADDRESS_MAX = 254

TOO_LARGE = N_("The mail is {size} bytes; the limit is {limit} bytes.")
NOT_A_MAIL = N_("This is not a mail: no header could be read.")
NO_SENDER = N_("The mail has no sender address (From).")
NO_TEXT = N_("The mail has no text to read (no text or HTML part, or an empty body).")


@dataclass(frozen=True)
class ParsedMail:
    """One inbound mail as an inquiry sees it.

    ``message_id`` is the mail's own ``<id>``, or one derived from a hash of the
    bytes when the sender gave none, so a redelivery of the same bytes is still
    recognised (idempotent intake). ``text`` is the decoded body with line ends
    made ``\\n`` and nothing else changed (R25: the customer's words, unaltered).
    """

    sender_name: str | None
    sender_address: str
    subject: str
    text: str
    message_id: str
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    reference: str | None = None  # the Q-… found in the subject
    attachments: tuple[str, ...] = ()
    html_only: bool = False
    automatic: bool = False  # an auto-reply or a bounce (RFC 3834): never acknowledged
    sent_at: dt.datetime | None = None
    notes: tuple[str, ...] = field(default=())  # charset fallbacks and other repairs

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this mail answers, the most specific first (In-Reply-To, then
        References newest to oldest)."""
        seen: dict[str, None] = {}
        for value in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(value, None)
        return tuple(seen)

    @property
    def locale(self) -> str:
        """ja when the customer wrote any Japanese, else en (replies answer in kind)."""
        return "ja" if _JAPANESE.search(self.subject + self.text) else "en"


def _raw_header(message: Message, name: str) -> str | None:
    """The header as it came on the wire (before the policy's own decoding, which has no
    fallbacks for mislabelled or 8-bit Japanese)."""
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _message_ids(raw: str | None) -> tuple[str, ...]:
    """``<id>`` tokens of a Message-ID, In-Reply-To or References header, in order."""
    if not raw:
        return ()
    return tuple(f"<{m}>" for m in _MSGID.findall(raw))[-50:]


def find_reference(subject: str) -> str | None:
    """The inquiry reference (Q-2026-000123) in a subject, full-width forms included."""
    match = _REFERENCE.search(unicodedata.normalize("NFKC", subject))
    if match is None:
        return None
    return f"Q-{match.group(1)}-{match.group(2)}"


def _part_text(part: Message, notes: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = decode_bytes(payload, part.get_content_charset(), notes)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _filename(part: Message, notes: list[str]) -> str | None:
    try:
        name = part.get_filename()
    except (ValueError, LookupError, email.errors.MessageError):
        name = None
    if name is None:
        return None
    return decode_header(name, notes) or None


def _parts(part: Message, parent: str | None = None) -> Iterator[tuple[Message, str | None]]:
    """Every leaf part with the content type of the multipart that holds it."""
    if part.is_multipart():
        for sub in cast(EmailMessage, part).iter_parts():
            yield from _parts(sub, part.get_content_type())
    else:
        yield part, parent


def _body_and_attachments(
    message: EmailMessage, notes: list[str]
) -> tuple[str, bool, tuple[str, ...]]:
    """The text a person would read (text/plain preferred, else HTML made text), and the
    names of everything attached (not stored: R18 keeps the words, not files).

    A mailer that splits the text around an inline picture (multipart/mixed:
    text, image, text) sends one message in several text parts: they are read
    in order, so no words of the customer are dropped.
    """
    try:
        body = message.get_body(preferencelist=("plain", "html"))
    except (KeyError, ValueError, email.errors.MessageError):
        body = None
    if body is None and not message.is_multipart() and message.get_content_maintype() == "text":
        body = message
    attachments: list[str] = []
    texts: list[str] = []
    for part, parent in _parts(message):
        if part is body:
            texts.append(_part_text(part, notes))
            continue
        name = _filename(part, notes)
        if name or part.get_content_disposition() == "attachment":
            attachments.append(name or part.get_content_type())
        elif (
            body is not None
            and body.get_content_type() == "text/plain"
            and part.get_content_type() == "text/plain"
            and parent != "multipart/alternative"
            and texts
        ):
            texts.append(_part_text(part, notes))
    if body is None:
        return "", False, tuple(attachments)
    text = ""
    for piece in texts:
        text += piece if not text or text.endswith("\n") else "\n" + piece
    if body.get_content_subtype() == "html":
        return html_to_text(text), True, tuple(attachments)
    return text, False, tuple(attachments)


def _is_automatic(message: Message, sender: str) -> bool:
    """An auto-reply, out-of-office or bounce (RFC 3834): answering it could start a loop."""
    auto = (message.get("Auto-Submitted") or "no").strip().lower()
    precedence = (message.get("Precedence") or "").strip().lower()
    return (
        not auto.startswith("no")
        or precedence in ("bulk", "junk", "auto_reply", "list")
        or message.get("X-Autoreply") is not None
        or message.get_content_type() == "multipart/report"
        or sender.lower().startswith(("mailer-daemon@", "postmaster@"))
    )


def parse(data: bytes, *, max_bytes: int) -> ParsedMail:
    """Read one mail (RFC 5322 bytes); refuse what cannot become an inquiry, with the reason.

    Raises :class:`~anshin.errors.InvalidInput` for a mail over ``max_bytes``,
    one with no header, no sender address or no readable text. Everything else
    — odd charsets, broken MIME, 8-bit headers — is read as well as it can be.
    """
    if len(data) > max_bytes:
        raise InvalidInput(TOO_LARGE, field="mail", size=len(data), limit=max_bytes)
    try:
        message = cast(EmailMessage, message_from_bytes(data, policy=policy.default))
        raw_items = list(message.raw_items())
    except Exception:  # the parser is lenient; anything it still raises means "not a mail"
        raise InvalidInput(NOT_A_MAIL, field="mail") from None
    if not raw_items:
        raise InvalidInput(NOT_A_MAIL, field="mail")
    notes: list[str] = []
    try:
        return _read(message, data, notes)
    except InvalidInput:
        raise
    except Exception:  # broken MIME the email package chokes on: one clear refusal
        raise InvalidInput(NOT_A_MAIL, field="mail") from None


def _read(message: EmailMessage, data: bytes, notes: list[str]) -> ParsedMail:
    raw_from = _raw_header(message, "From") or _raw_header(message, "Sender")
    if raw_from is None:
        raise InvalidInput(NO_SENDER, field="from")
    flat = re.sub(r"\r?\n(?=[ \t])", "", raw_from)
    name_raw, address = email.utils.parseaddr(flat)
    address = storable(address.strip())
    if "@" not in address or len(address) > ADDRESS_MAX or any(c.isspace() for c in address):
        raise InvalidInput(NO_SENDER, field="from")
    name = decode_header(name_raw, notes)[:NAME_MAX] or None
    subject = decode_header(_raw_header(message, "Subject"), notes)
    text, html_only, attachments = _body_and_attachments(message, notes)
    text = storable(text)
    if not text.strip():
        raise InvalidInput(NO_TEXT, field="text")
    ids = _message_ids(_raw_header(message, "Message-ID"))
    message_id = ids[0] if ids else f"<{hashlib.sha256(data).hexdigest()[:40]}@no-message-id>"
    sent_at: dt.datetime | None = None
    raw_date = _raw_header(message, "Date")
    if raw_date:
        try:
            sent_at = email.utils.parsedate_to_datetime(raw_date.strip())
        except (TypeError, ValueError, IndexError):
            sent_at = None
        if sent_at is not None and sent_at.tzinfo is None:
            sent_at = sent_at.replace(tzinfo=dt.UTC)
    return ParsedMail(
        sender_name=name,
        sender_address=address,
        subject=subject,
        text=text,
        message_id=message_id[:300],
        in_reply_to=_message_ids(_raw_header(message, "In-Reply-To"))[-1:],
        references=_message_ids(_raw_header(message, "References")),
        reference=find_reference(subject),
        attachments=attachments,
        html_only=html_only,
        automatic=_is_automatic(message, address),
        sent_at=sent_at,
        notes=tuple(dict.fromkeys(notes)),
    )
