"""Who a notice went to: every delivery of a message with its recipient, a page at a time.

The console's "who was notified" page and ``GET /api/messages/{id}/deliveries``
read the same rows (R4: every subscriber who asked is told; the team must be
able to see who was). Addresses are personal data: supervisors and above see
them in full, everyone else masked (``team.rules`` ``delivery.addresses``,
R22); a webhook URL shows its host only for everyone, because its path is
often the receiver's secret. Errors are shown as the worker stored them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.notify import rules
from anshin.notify.models import Delivery, Subscriber


def mask_address(kind: str, address: str | None) -> str:
    """A recipient as staff may see it on a shared screen: enough to recognise, not to copy.

    ``operator@example.com`` → ``op•••@example.com``; a webhook URL keeps its
    scheme and host only (its path may hold a secret token).
    """
    if not address:
        return "—"
    if kind == "webhook":
        scheme, _, rest = address.partition("://")
        host = rest.split("/", 1)[0].split("@")[-1]
        return f"{scheme}://{host}/…" if rest else "…"
    local, at, domain = address.partition("@")
    if not at:
        return address[:2] + "•••"
    return f"{local[:2]}•••@{domain}"


def shown_address(kind: str, address: str | None, *, full: bool) -> str:
    """The recipient as this reader may see it: an email in full when ``full``, else masked."""
    if full and kind == "email" and address:
        return address
    return mask_address(kind, address)


@dataclass(frozen=True)
class Recipient:
    """One delivery of a message and who it is for (``kind``/``address`` None once deleted)."""

    delivery: Delivery
    kind: str | None
    address: str | None

    @property
    def last_attempt_at(self) -> dt.datetime | None:
        """When it was last tried: the send itself once sent, else the last claim."""
        return self.delivery.sent_at or self.delivery.last_attempt_at

    def shown(self, *, full: bool) -> str:
        """The recipient for a reader who may (``full``) or may not see whole addresses."""
        return shown_address(self.kind or self.delivery.channel, self.address, full=full)


def check_state(value: str | None, field: str = "state") -> str | None:
    """A delivery status to filter by, or None for all; anything else is refused."""
    if not value:
        return None
    if value not in rules.DELIVERY_STATUSES:
        raise InvalidInput(N_("Unknown delivery status: {value}."), field=field, value=value)
    return value


def of_message(
    session: Session,
    message_id: int,
    *,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Recipient], int]:
    """A page of one message's deliveries (all states, or one), in id order, and the total.

    ``status`` is checked by the caller (:func:`check_state`), which names its own field.
    """
    where = [Delivery.message_id == message_id]
    if status:
        where.append(Delivery.status == status)
    stmt = (
        select(Delivery, Subscriber.kind, Subscriber.address)
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(*where)
        .order_by(Delivery.id)
        .limit(limit)
        .offset(offset)
    )
    rows = [Recipient(d, kind, address) for d, kind, address in session.execute(stmt).all()]
    total = session.scalar(select(func.count()).select_from(Delivery).where(*where)) or 0
    return rows, int(total)
