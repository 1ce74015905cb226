"""Pure decisions of delivery: validation, retry policy — no I/O.

R4/R26: every subscriber who asked is told, once. The retry policy
(exponential backoff with full jitter, transient vs permanent failures) lives
here so it can be unit-tested alone; the identity of a message on the wire
(``Message-ID``, ``Idempotency-Key``), signatures and payloads are in
``notify.wire``.
"""

from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from anshin.comms.formatting import text_to_html as text_to_html  # the mail's HTML part
from anshin.comms.kinds import MessageKind
from anshin.errors import InvalidInput
from anshin.i18n import N_, SUPPORTED_LOCALES


class SubscriberKind(StrEnum):
    """How a subscriber is reached."""

    EMAIL = "email"
    WEBHOOK = "webhook"


class SubscriberStatus(StrEnum):
    """Double opt-in: pending until the mailed link is followed (R26)."""

    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    # An on-duty team member's address for staff nudges only: never active, so no
    # customer notice reaches it, and no customer list shows it (incidents.nudges).
    STAFF = "staff"
    # A customer who wrote to us (an inquiry): replies and the updates they asked for
    # reach this row through ``queue_to``; never active, so no broadcast does.
    CONTACT = "contact"


class WebhookFormat(StrEnum):
    """The body a webhook receives: anshin's JSON, or a Slack-compatible message."""

    ANSHIN = "anshin"
    SLACK = "slack"


class DeliveryStatus(StrEnum):
    """One recipient's copy of a message on its way through the outbox."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"
    CANCELLED = "cancelled"


LOCALES = SUPPORTED_LOCALES
SUBSCRIBER_KINDS: tuple[str, ...] = tuple(SubscriberKind)
# What a customer's subscription can be (CSV, API, console); staff rows are not listed.
SUBSCRIBER_STATUSES: tuple[str, ...] = tuple(
    s for s in SubscriberStatus if s not in (SubscriberStatus.STAFF, SubscriberStatus.CONTACT)
)
WEBHOOK_FORMATS: tuple[str, ...] = tuple(WebhookFormat)
DELIVERY_STATUSES: tuple[str, ...] = tuple(DeliveryStatus)
# A worker may pick these up once next_attempt_at has passed.
DUE_STATUSES: tuple[str, ...] = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
# Not yet sent and not given up: what a dead letter list or a retry leaves alone.
OPEN_DELIVERY_STATUSES: tuple[str, ...] = (*DUE_STATUSES, DeliveryStatus.SENDING)
# The team's own message (incidents.nudges): sent to staff rows only, never fanned out.
STAFF_NUDGE = "staff_nudge"
# An incident update forwarded to a customer with an open inquiry on it (R26).
INQUIRY_UPDATE = "inquiry_update"
# What the outbox carries: the broadcast notices, and the outbox's own mails.
MESSAGE_KINDS: tuple[str, ...] = (
    MessageKind.FIRST_NOTICE,
    MessageKind.UPDATE,
    MessageKind.NO_NEWS_UPDATE,
    MessageKind.RESOLUTION,
    MessageKind.REOPENED,
    MessageKind.REPORT_NOTICE,
    MessageKind.MAINTENANCE_NOTICE,
    "confirmation",
    "test",
    STAFF_NUDGE,
    MessageKind.INQUIRY_ACK,
    MessageKind.INQUIRY_REPLY,
    INQUIRY_UPDATE,
    MessageKind.HARASSMENT_WARNING,
    MessageKind.CONTACT_ENDING,
)
# Messages to one customer about their own inquiry: they wrote to us, which is the
# consent; a status-page unsubscribe does not silence the answer to their question.
DIRECT_KINDS: frozenset[str] = frozenset(
    {
        MessageKind.INQUIRY_ACK,
        MessageKind.INQUIRY_REPLY,
        INQUIRY_UPDATE,
        MessageKind.HARASSMENT_WARNING,
        MessageKind.CONTACT_ENDING,
    }
)
EMAIL_MAX = 254
URL_MAX = 2000
# Confirmation links expire (double opt-in); unsubscribe links never do.
CONFIRM_MAX_AGE_SECONDS = 3 * 24 * 3600

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def normalise_email(value: str | None) -> str:
    """A trimmed, lower-cased address, or InvalidInput (R26: subscribe from the public page).

    Only plain ASCII addresses are accepted: they are what every SMTP server
    on the path can carry without SMTPUTF8.
    """
    email = (value or "").strip().lower()
    if not email:
        raise InvalidInput(N_("Enter your email address."), field="email")
    if len(email) > EMAIL_MAX or ".." in email or not _EMAIL.match(email):
        raise InvalidInput(
            N_("{value} is not a valid email address."), field="email", value=email[:80]
        )
    return email


def check_locale(value: str | None) -> str:
    """ja or en; anything else is refused rather than guessed."""
    locale = (value or "ja").strip().lower()
    if locale not in LOCALES:
        raise InvalidInput(
            N_("Unknown language: {value}. Choose ja or en."), field="locale", value=locale
        )
    return locale


def check_webhook_url(value: str | None) -> str:
    """An absolute http(s) URL with a host."""
    url = (value or "").strip()
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - reading it is the check (":99999" raises)
    except ValueError:
        parts = parts._replace(scheme="")
    if len(url) > URL_MAX or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            N_("Enter a webhook URL that starts with https:// or http://."), field="url"
        )
    return url


def check_webhook_format(value: str | None) -> str:
    """anshin (JSON payload) or slack (incoming-webhook compatible)."""
    fmt = (value or "anshin").strip().lower()
    if fmt not in WEBHOOK_FORMATS:
        raise InvalidInput(
            N_("Unknown webhook format: {value}. Choose anshin or slack."),
            field="format",
            value=fmt,
        )
    return fmt


def check_subscriber_status(value: str | None) -> str:
    """One of SUBSCRIBER_STATUSES (CSV import)."""
    status = (value or "active").strip().lower()
    if status not in SUBSCRIBER_STATUSES:
        raise InvalidInput(
            N_("Unknown status: {value}. Use one of {choices}."),
            field="status",
            value=status,
            choices=", ".join(SUBSCRIBER_STATUSES),
        )
    return status


def split_components(value: str | None) -> list[str]:
    """The components cell of a CSV row: names or ids separated by ``;`` (empty = all)."""
    return [part.strip() for part in (value or "").split(";") if part.strip()]


# --- where a webhook may go (SSRF guard) ------------------------------------

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=16)
def networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """``ANSHIN_WEBHOOK_ALLOWED_NETWORKS`` parsed once."""
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def address_allowed(address: str | IPAddress, allowed: Sequence[IPNetwork] = ()) -> bool:
    """May a webhook connect to ``address``? Public unicast addresses yes; others only if allowed.

    A webhook URL is typed by staff but fetched by the server, inside the
    network: without this guard it could reach the database, a cloud metadata
    service (169.254.169.254) or an admin page on localhost (SSRF). Loopback,
    private, link-local, shared, reserved and multicast addresses are refused
    unless an admin allowed their network. An IPv4 address written as IPv6
    (``::ffff:10.0.0.1``) is judged as the IPv4 address it is.
    """
    ip = ipaddress.ip_address(address.split("%")[0] if isinstance(address, str) else address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in allowed if net.version == ip.version):
        return True
    return ip.is_global and not ip.is_multicast


def url_host_port(url: str) -> tuple[str, int]:
    """The host and port a webhook URL connects to (checked by ``check_webhook_url``)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname or "", port


# --- retry policy -----------------------------------------------------------


def backoff_seconds(
    attempt: int,
    *,
    base: float,
    maximum: float,
    rand: Callable[[float, float], float] = random.uniform,
) -> float:
    """Full jitter: a random wait in [0, min(maximum, base * 2^(attempt-1))].

    Spreading retries out keeps a recovering mail server from being hit by every
    worker at the same instant (the "thundering herd").
    """
    ceiling = min(maximum, base * (2 ** max(attempt - 1, 0)))
    return float(rand(0.0, ceiling)) if ceiling > 0 else 0.0


def endpoint_backoff_seconds(
    failures: int,
    *,
    base: float,
    maximum: float,
    rand: Callable[[float, float], float] = random.uniform,
) -> float:
    """How long a failing webhook endpoint rests: half the exponential step, plus jitter.

    Unlike a delivery's retry (full jitter, may be 0) an endpoint that just
    failed always waits a while, so its queue of deliveries is not spent on it.
    """
    ceiling = min(maximum, base * (2 ** max(failures - 1, 0)))
    return ceiling / 2 + float(rand(0.0, ceiling / 2)) if ceiling > 0 else 0.0


def smtp_is_transient(code: int | None) -> bool:
    """SMTP 4xx and no code at all (connection trouble) are worth retrying; 5xx is final."""
    return code is None or 400 <= code < 500


def http_is_transient(status: int | None) -> bool:
    """Timeouts, connection errors, 408, 425, 429 and 5xx are retried; other 4xx are final."""
    return status is None or status in (408, 425, 429) or status >= 500


def after_failure(attempts: int, max_attempts: int, *, transient: bool) -> str:
    """The status a delivery takes after a failed attempt: ``failed`` (retry) or ``dead``."""
    if transient and attempts < max_attempts:
        return "failed"
    return "dead"


# --- CSV cells ----------------------------------------------------------------

# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The mark that keeps such a cell text; import takes it off again (export → import works).
CSV_TEXT_MARK = "'"


def csv_cell(value: str) -> str:
    """A cell for an exported CSV: a leading formula character is kept text with ``'``."""
    return CSV_TEXT_MARK + value if value.startswith(CSV_FORMULA_PREFIXES) else value


def csv_uncell(value: str) -> str:
    """An imported cell as it was before :func:`csv_cell` (only a mark it added is removed)."""
    if value.startswith(CSV_TEXT_MARK) and value[1:].startswith(CSV_FORMULA_PREFIXES):
        return value[1:]
    return value


def asks_for_feedback(kind: str, data: Mapping[str, Any]) -> bool:
    """R30: the resolution notice asks every subscriber; the reply that reports an
    inquiry's result asks that customer (``data["survey"]``, set by the inquiry desk)."""
    return kind == MessageKind.RESOLUTION or (
        kind == MessageKind.INQUIRY_REPLY and bool(data.get("survey"))
    )


def survey_respondent(kind: str, data: Mapping[str, Any], subscriber_id: int) -> str:
    """Who answers a survey link: the inquiry (``inq:Q-…``) or the subscriber (``sub:12``)."""
    reference = data.get("inquiry_reference")
    if kind == MessageKind.INQUIRY_REPLY and isinstance(reference, str):
        return f"inq:{reference}"
    return f"sub:{subscriber_id}"
