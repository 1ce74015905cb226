"""``anshin mail-in``: an SMTP listener that files each mail as an inquiry before saying 250 (R18).

It sits behind the site's MTA (Postfix, Exim… relaying to 127.0.0.1:2525,
docs/inquiries-mail.md), which keeps a mail queued and retries while we answer
``4xx``. So the contract is simple and loses nothing:

- ``250`` only after the mail is committed to the database (``inbound.store``);
- ``451`` when it cannot be stored now (database down or locked, any fault of
  ours): the MTA keeps it and tries again, and a redelivery of a mail stored
  just before a crash is recognised by its Message-ID;
- ``550``/``552`` when it never can be (no sender, no text, too large): the MTA
  returns it to the sender with our reason.

aiosmtpd runs an asyncio loop in its own thread; the parse and the database
work go to a worker thread (``asyncio.to_thread``) so one slow commit never
stalls the other connections, and one lock per listener files mails one at a
time, so two copies of one mail delivered at once cannot both be stored.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from anshin.config import Settings
from anshin.db import is_storage_error, make_engine, make_sessionmaker, storage_cause
from anshin.errors import AnshinError
from anshin.i18n import translate
from anshin.inquiries import inbound, mail
from anshin.instance.secret import ensure_secret

log = logging.getLogger("anshin.mail_in")

ACTOR = "mail-in"


def _ascii(text: str) -> str:
    """SMTP replies are ASCII on one line."""
    return " ".join(text.encode("ascii", errors="replace").decode("ascii").split())[:400]


class InquiryMailHandler:
    """aiosmtpd handler: every accepted DATA becomes (or joins) an inquiry, committed first."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Reply only when the mail is stored (or refused for good)."""
        data = envelope.original_content or envelope.content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", errors="surrogateescape")
        peer = getattr(session, "peer", None)
        return await asyncio.to_thread(self.deliver, bytes(data), str(peer))

    def deliver(self, data: bytes, peer: str = "-") -> str:
        """Parse and store one mail; the SMTP reply that says what became of it."""
        try:
            parsed = mail.parse(data, max_bytes=self.settings.mail_max_bytes)
        except AnshinError as exc:
            reason = translate("en", exc.msgid, **exc.params)
            log.warning("mail from %s refused (%d bytes): %s", peer, len(data), reason)
            code = "552 5.3.4" if exc.msgid == mail.TOO_LARGE else "550 5.6.0"
            return _ascii(f"{code} {reason}")
        with self._lock, self.sessions() as session:
            try:
                outcome = inbound.store(session, self.settings, parsed, actor=ACTOR)
                session.commit()
            except AnshinError as exc:
                session.rollback()
                reason = translate("en", exc.msgid, **exc.params)
                log.warning("mail %s from %s refused: %s", parsed.message_id, peer, reason)
                return _ascii(f"550 5.6.0 {reason}")
            except SQLAlchemyError as exc:
                session.rollback()
                cause = storage_cause(exc) if is_storage_error(exc) else type(exc).__name__
                log.error("mail %s not stored, asked to retry: %s", parsed.message_id, cause)
                return "451 4.3.0 Cannot store the mail now; please try again later"
            except Exception:
                session.rollback()
                log.exception("mail %s not stored, asked to retry", parsed.message_id)
                return "451 4.3.0 Cannot store the mail now; please try again later"
        log.info(
            "mail %s from %s: %s %s%s",
            parsed.message_id,
            parsed.sender_address,
            outcome.kind,
            outcome.reference or "-",
            f" (by {outcome.threaded_by})" if outcome.threaded_by else "",
        )
        return _ascii(f"250 2.0.0 {outcome.kind} {outcome.reference or ''}")


@contextmanager
def listening(settings: Settings, host: str, port: int) -> Iterator[Controller]:
    """The listener running in its own thread on ``host:port`` until the block ends.

    aiosmtpd enforces ``ANSHIN_MAIL_MAX_BYTES`` while the data arrives (552),
    so an oversized mail is never held in memory whole.
    """
    engine = make_engine(settings.database_url, settings)
    ensure_secret(settings, engine)
    handler = InquiryMailHandler(settings, make_sessionmaker(engine))
    controller = Controller(
        handler,
        hostname=host,
        port=port,
        data_size_limit=settings.mail_max_bytes,
        enable_SMTPUTF8=True,
        server_hostname="anshin-mail-in",
    )
    try:
        controller.start()
    except BaseException:
        engine.dispose()
        raise
    try:
        yield controller
    finally:
        controller.stop()
        engine.dispose()
