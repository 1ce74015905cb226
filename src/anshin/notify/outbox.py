"""The worker side of the outbox: claim a batch (see ``claims``), send, mark each one.

docs/design.md "outbox", "Scale-out": nothing assumes one process; claims go
through the database and expire, so the work of a killed worker returns to the
queue by itself.

"Exactly once" (R4: each subscriber gets each notice once): every delivery
is marked ``sent`` in its own small commit right after the server accepted
it. The only window for a second copy is a crash between the server's accept
and that commit; the copy then carries the same Message-ID / Idempotency-Key
(the delivery id), so mail systems and webhook receivers recognise it as the
same message. docs/delivery.md states the guarantee.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Engine,
    Table,
    bindparam,
    exists,
    func,
    select,
    update,
)

from anshin.config import Settings
from anshin.db import utcnow
from anshin.notify import endpoints, rules, smtp, tokens, webhook, wire
from anshin.notify.claims import Marks, claim, release, renew
from anshin.notify.models import Delivery, OutboxMessage, Subscriber

D = cast(Table, Delivery.__table__)
S = cast(Table, Subscriber.__table__)
M = cast(Table, OutboxMessage.__table__)


class Work(NamedTuple):
    """One claimed delivery with everything needed to send it (a tuple: 200 are built a batch)."""

    delivery_id: int
    message_id: int
    attempts: int
    channel: str
    subscriber_id: int | None
    address: str | None
    locale: str
    subscriber_status: str | None
    webhook_format: str | None
    secret: str | None


@dataclass
class Senders:
    """The connections one worker run reuses: one SMTP session, one HTTP pool, one for marks."""

    settings: Settings
    mail: smtp.SmtpSender = field(init=False)
    hooks: webhook.WebhookSender = field(init=False)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    mail_templates: dict[tuple[int, str], smtp.MailTemplate] = field(default_factory=dict)
    _marks: Marks | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.mail = smtp.SmtpSender(self.settings)
        self.hooks = webhook.WebhookSender(self.settings)

    def marks(self, engine: Engine) -> Marks:
        """This run's own database connection for the per-delivery marks."""
        if self._marks is None:
            self._marks = Marks(engine)
        return self._marks

    def __enter__(self) -> Senders:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.mail.close()
        self.hooks.close()
        if self._marks is not None:
            self._marks.close()
            self._marks = None


def mark_sent(marks: Marks, delivery_id: int, now: dt.datetime | None = None) -> None:
    """The server accepted it: record that at once, in its own commit (see module docstring).

    ``claimed_by`` stays: it tells the console which worker sent the message.
    """
    marks.sent(delivery_id, now or utcnow())


def mark_failed(
    marks: Marks, settings: Settings, work: Work, worker: str, outcome: smtp.Outcome
) -> str:
    """A failed attempt: retry later with backoff and jitter, or give up (dead letter)."""
    status = rules.after_failure(
        work.attempts, settings.delivery_max_attempts, transient=outcome.transient
    )
    delay = rules.backoff_seconds(
        work.attempts,
        base=settings.delivery_backoff_base_seconds,
        maximum=settings.delivery_backoff_max_seconds,
    )
    next_at = utcnow() + dt.timedelta(seconds=delay)
    marks.failed(work.delivery_id, worker, status, next_at, outcome.error)
    return status


def mark_cancelled(marks: Marks, work: Work, worker: str, reason: str) -> None:
    """The recipient left (unsubscribed or deleted) before the message went out."""
    marks.cancelled(work.delivery_id, worker, reason)


# Built once with an expanding IN, so SQLAlchemy compiles it once per process, not per batch.
_WORK = (
    select(
        D.c.id,
        D.c.message_id,
        D.c.attempts,
        D.c.channel,
        D.c.subscriber_id,
        S.c.address,
        S.c.locale,
        S.c.status,
        S.c.webhook_format,
        S.c.secret,
    )
    .select_from(D.outerjoin(S, S.c.id == D.c.subscriber_id))
    .where(D.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(D.c.id)
)


def load_work(engine: Engine, ids: list[int]) -> list[Work]:
    """The claimed deliveries joined with their subscribers, in one query."""
    with engine.connect() as conn:
        rows = conn.execute(_WORK, {"ids": ids}).all()
    return [Work(r[0], r[1], r[2], r[3], r[4], r[5], r[6] or "ja", r[7], r[8], r[9]) for r in rows]


def _messages(engine: Engine, cache: dict[int, dict[str, Any]], ids: set[int]) -> None:
    missing = [i for i in ids if i not in cache]
    if not missing:
        return
    with engine.connect() as conn:
        for row in conn.execute(
            select(
                M.c.id,
                M.c.kind,
                M.c.texts,
                M.c.data,
                M.c.component_ids,
                M.c.created_at,
                M.c.incident_id,
            ).where(M.c.id.in_(missing))
        ):
            created = row[5]
            cache[row[0]] = {
                "kind": row[1],
                "texts": row[2],
                "data": row[3] or {},
                "component_ids": list(row[4] or []),
                "created_at": created.isoformat() if created else "",
                "incident_id": row[6],
            }


def _send(
    settings: Settings, senders: Senders, work: Work, message: dict[str, Any]
) -> smtp.Outcome:
    texts = message["texts"]
    if work.channel == "email":
        assert work.address is not None and work.subscriber_id is not None
        key = (work.message_id, work.locale)
        template = senders.mail_templates.get(key)
        if template is None:
            template = smtp.MailTemplate.prepare(
                settings,
                locale=work.locale,
                kind=message["kind"],
                texts=wire.pick_texts(texts, work.locale),
                data=message["data"],
            )
            senders.mail_templates[key] = template
        token = tokens.unsubscribe_token(settings, work.subscriber_id, work.address)
        survey = None
        if template.survey and message["incident_id"] is not None:
            respondent = rules.survey_respondent(
                message["kind"], message["data"], work.subscriber_id
            )
            survey = tokens.survey_token(settings, message["incident_id"], respondent)
        data = template.render(
            settings,
            delivery_id=work.delivery_id,
            to=work.address,
            token=token,
            survey_token=survey,
        )
        return senders.mail.send(data, work.address)
    assert work.address is not None
    body = webhook.body_for(
        fmt=work.webhook_format or "anshin",
        delivery_id=work.delivery_id,
        message_id=work.message_id,
        kind=message["kind"],
        locale=work.locale,
        created_at=message["created_at"],
        texts=texts,
        component_ids=message["component_ids"],
        data=message["data"],
    )
    return senders.hooks.send(
        url=work.address,
        secret=work.secret or "",
        body=body,
        delivery_id=work.delivery_id,
        kind=message["kind"],
    )


def _left(work: Work, kind: str) -> str | None:
    """Why a claimed delivery must not go out any more, or None to send it."""
    if work.subscriber_id is None or work.address is None:
        return "the subscriber was deleted"
    if kind == rules.STAFF_NUDGE:
        return None  # on-duty staff: their on-duty flag is the consent, not a subscription
    if kind in rules.DIRECT_KINDS:
        return None  # the customer's own inquiry: writing to us is the consent
    if work.subscriber_status == "unsubscribed":
        return "the subscriber unsubscribed"
    if work.subscriber_status != "active" and kind != "confirmation":
        return "the subscriber is not active"
    return None


def process_batch(
    engine: Engine,
    settings: Settings,
    worker: str,
    senders: Senders,
    *,
    stopping: Callable[[], bool] = lambda: False,
) -> int:
    """Claim one batch of mail and send it; returns how many were claimed (0 = nothing due)."""
    ids = claim(engine, settings, worker)
    if not ids:
        return 0
    handle(engine, settings, worker, senders, ids, stopping=stopping)
    return len(ids)


def send_hooks(
    engine: Engine,
    settings: Settings,
    worker: str,
    senders: Senders,
    ids: list[int],
    *,
    stopping: Callable[[], bool] = lambda: False,
) -> int:
    """Send webhook deliveries claimed with their endpoints' leases, then free each endpoint.

    A transient failure moves the endpoint's next attempt out (``endpoints.finished``).
    """
    done = handle(engine, settings, worker, senders, ids, stopping=stopping)
    handled = {work.delivery_id for work, _ in done}
    for work, outcome in done:
        if work.subscriber_id is None:
            continue
        if outcome is None:  # cancelled before sending: the endpoint was not tried
            endpoints.release(engine, worker, [work.subscriber_id])
        else:
            endpoints.finished(
                engine, settings, work.subscriber_id, failed=not outcome.ok and outcome.transient
            )
    left = [i for i in ids if i not in handled]
    if left:  # released unsent (stopping): their endpoints are free again
        for work in load_work(engine, left):
            if work.subscriber_id is not None:
                endpoints.release(engine, worker, [work.subscriber_id])
    return len(ids)


def handle(
    engine: Engine,
    settings: Settings,
    worker: str,
    senders: Senders,
    ids: list[int],
    *,
    stopping: Callable[[], bool] = lambda: False,
) -> list[tuple[Work, smtp.Outcome | None]]:
    """Send claimed deliveries and mark each one; returns what happened to each one handled.

    The outcome is None for a delivery cancelled because its recipient left.
    """
    works = load_work(engine, ids)
    _messages(engine, senders.messages, {w.message_id for w in works})
    held = set(ids)
    renew_at = time.monotonic() + settings.delivery_claim_seconds / 2
    marks = senders.marks(engine)
    done: list[tuple[Work, smtp.Outcome | None]] = []
    for index, work in enumerate(works):
        if stopping():
            release(engine, worker, [w.delivery_id for w in works[index:] if w.delivery_id in held])
            break
        if time.monotonic() >= renew_at:
            held = renew(engine, settings, worker, [w.delivery_id for w in works[index:]])
            renew_at = time.monotonic() + settings.delivery_claim_seconds / 2
        if work.delivery_id not in held:
            continue  # our claim lapsed and another worker owns it now
        message = senders.messages[work.message_id]
        reason = _left(work, message["kind"])
        if reason:
            mark_cancelled(marks, work, worker, reason)
            done.append((work, None))
            continue
        outcome = _send(settings, senders, work, message)
        if outcome.ok:
            mark_sent(marks, work.delivery_id)
        else:
            mark_failed(marks, settings, work, worker, outcome)
        done.append((work, outcome))
    finish_messages(engine, {w.message_id for w in works})
    return done


def finish_messages(engine: Engine, message_ids: Iterable[int]) -> None:
    """Stamp ``last_delivered_at`` on messages nothing is left to send for (R4, for the review)."""
    with engine.begin() as conn:
        for message_id in sorted(message_ids):
            still_open = exists().where(
                D.c.message_id == message_id, D.c.status.in_(rules.OPEN_DELIVERY_STATUSES)
            )
            last_sent = (
                select(func.max(D.c.sent_at))
                .where(D.c.message_id == message_id, D.c.status == "sent")
                .scalar_subquery()
            )
            conn.execute(
                update(M)
                .where(M.c.id == message_id, ~still_open)
                .values(last_delivered_at=func.coalesce(last_sent, M.c.last_delivered_at))
            )
