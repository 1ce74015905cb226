"""The webhook lane's claims: one delivery in flight per endpoint, and a failing endpoint waits.

Mail and webhooks are separate lanes (docs/delivery.md, issue 7). Mail is
claimed in batches (``claims.claim``); a webhook delivery is claimed only
together with a lease on its endpoint (``notify_webhook_endpoints``, one row
per webhook subscriber), so:

- **at most one delivery per endpoint is in flight** across every worker and
  process: a slow endpoint holds one sending thread, and the others take other
  endpoints' work;
- **a failing endpoint backs off**: after a failed attempt the endpoint's
  ``next_attempt_at`` moves out (consecutive failures, exponential); until
  then its deliveries are not claimed, so they keep their attempts instead of
  spending them one after another on an endpoint that is down.

The lease ends with the delivery's claim (``claimed_until``), so a killed
worker frees the endpoint when its claim expires (R4: nothing is lost).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Engine, Table, and_, bindparam, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from anshin.config import Settings
from anshin.db import utcnow
from anshin.notify import rules
from anshin.notify.claims import _locked, _recover_expired
from anshin.notify.models import Delivery, WebhookEndpoint

D = cast(Table, Delivery.__table__)
E = cast(Table, WebhookEndpoint.__table__)

WEBHOOK = rules.SubscriberKind.WEBHOOK.value


def lease_seconds(settings: Settings) -> float:
    """How long a webhook claim and its endpoint lease last: at least one deadline and a margin."""
    return max(float(settings.delivery_claim_seconds), settings.webhook_deadline_seconds + 5.0)


def _due_hooks(now: dt.datetime) -> Any:
    return and_(
        D.c.channel == WEBHOOK,
        D.c.subscriber_id.is_not(None),
        D.c.status.in_(rules.DUE_STATUSES),
        D.c.next_attempt_at <= now,
    )


def _ensure_rows(conn: Any, engine: Engine, now: dt.datetime) -> None:
    """An endpoint row for every webhook subscriber with due work (written on first need)."""
    missing = (
        select(
            D.c.subscriber_id,
            literal(0, E.c.failures.type),
            bindparam("endpoint_now", now, type_=E.c.next_attempt_at.type),
        )
        .where(_due_hooks(now), ~exists().where(E.c.subscriber_id == D.c.subscriber_id))
        .group_by(D.c.subscriber_id)
    )
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(E).from_select(["subscriber_id", "failures", "next_attempt_at"], missing)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["subscriber_id"]))


def claim(
    engine: Engine, settings: Settings, worker: str, limit: int, now: dt.datetime | None = None
) -> list[int]:
    """Lease up to ``limit`` free, healthy endpoints with due work and claim one delivery each.

    Returns the claimed delivery ids (each claim counts as an attempt, as for mail).
    """
    if limit <= 0:
        return []
    now = now or utcnow()
    until = now + dt.timedelta(seconds=lease_seconds(settings))
    free = _locked(
        select(E.c.subscriber_id)
        .where(
            or_(E.c.busy_until.is_(None), E.c.busy_until < now),
            E.c.next_attempt_at <= now,
            exists().where(D.c.subscriber_id == E.c.subscriber_id, _due_hooks(now)),
        )
        .order_by(E.c.next_attempt_at, E.c.subscriber_id)
        .limit(limit),
        engine,
    )
    lease = (
        update(E)
        .where(E.c.subscriber_id.in_(free.scalar_subquery()))
        .values(busy_by=worker, busy_until=until)
        .returning(E.c.subscriber_id)
    )
    ids: list[int] = []
    with engine.begin() as conn:
        _recover_expired(conn, engine, settings, now)
        _ensure_rows(conn, engine, now)
        for (subscriber_id,) in conn.execute(lease).all():
            first = (
                select(D.c.id)
                .where(D.c.subscriber_id == subscriber_id, _due_hooks(now))
                .order_by(D.c.next_attempt_at, D.c.id)
                .limit(1)
            )
            taken = conn.execute(
                update(D)
                .where(D.c.id.in_(first.scalar_subquery()))
                .values(
                    status="sending",
                    claimed_by=worker,
                    claimed_until=until,
                    attempts=D.c.attempts + 1,
                    last_attempt_at=now,
                )
                .returning(D.c.id)
            ).scalar()
            if taken is None:  # nothing due after all: give the lease back at once
                conn.execute(
                    update(E)
                    .where(E.c.subscriber_id == subscriber_id)
                    .values(busy_by=None, busy_until=None)
                )
            else:
                ids.append(int(taken))
    return sorted(ids)


def finished(
    engine: Engine,
    settings: Settings,
    subscriber_id: int,
    *,
    failed: bool,
    now: dt.datetime | None = None,
) -> None:
    """Free the endpoint after its delivery: healthy again, or backing off one step more.

    Only a transient failure (timeout, connection trouble, 5xx, 429…) says the
    endpoint is unwell; a permanent answer ends that delivery alone.
    """
    now = now or utcnow()
    with engine.begin() as conn:
        if not failed:
            conn.execute(
                update(E)
                .where(E.c.subscriber_id == subscriber_id)
                .values(busy_by=None, busy_until=None, failures=0, next_attempt_at=now)
            )
            return
        failures = (
            conn.execute(select(E.c.failures).where(E.c.subscriber_id == subscriber_id)).scalar()
            or 0
        ) + 1
        wait = rules.endpoint_backoff_seconds(
            failures,
            base=settings.delivery_backoff_base_seconds,
            maximum=settings.delivery_backoff_max_seconds,
        )
        conn.execute(
            update(E)
            .where(E.c.subscriber_id == subscriber_id)
            .values(
                busy_by=None,
                busy_until=None,
                failures=failures,
                last_failure_at=now,
                next_attempt_at=now + dt.timedelta(seconds=wait),
            )
        )


def release(engine: Engine, worker: str, subscriber_ids: list[int]) -> None:
    """Give leases back untouched (a stopping worker that did not send)."""
    if not subscriber_ids:
        return
    with engine.begin() as conn:
        conn.execute(
            update(E)
            .where(E.c.subscriber_id.in_(subscriber_ids), E.c.busy_by == worker)
            .values(busy_by=None, busy_until=None)
        )


def seconds_until_next_due(engine: Engine, now: dt.datetime | None = None) -> float | None:
    """When webhook work next becomes claimable: a retry falls due or an endpoint's wait ends."""
    now = now or utcnow()
    waiting = and_(
        D.c.channel == WEBHOOK,
        D.c.subscriber_id.is_not(None),
        D.c.status.in_(rules.DUE_STATUSES),
    )
    healthy = or_(E.c.next_attempt_at.is_(None), E.c.next_attempt_at <= now)
    joined = D.outerjoin(E, E.c.subscriber_id == D.c.subscriber_id)
    with engine.connect() as conn:
        retry = conn.execute(
            select(func.min(D.c.next_attempt_at))
            .select_from(joined)
            .where(waiting, D.c.next_attempt_at > now, healthy)
        ).scalar()
        recovered = conn.execute(
            select(func.min(E.c.next_attempt_at)).where(
                E.c.next_attempt_at > now,
                exists().where(D.c.subscriber_id == E.c.subscriber_id, waiting),
            )
        ).scalar()
    times = [t for t in (retry, recovered) if t is not None]
    if not times:
        return None
    soonest = min(t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in times)
    return max((soonest - now).total_seconds(), 0.0)


def state(engine: Engine, subscriber_id: int) -> dict[str, Any] | None:
    """An endpoint's row as a dict (tests and the console)."""
    with engine.connect() as conn:
        row = conn.execute(select(E).where(E.c.subscriber_id == subscriber_id)).mappings().first()
    return dict(row) if row else None
