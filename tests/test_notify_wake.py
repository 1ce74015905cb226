"""Wake-ups after commits are coalesced, and a committed delivery is still always found.

A burst of intake requests each queue one acknowledgement; waking Huey for
each costs a write to its queue file per request. ``queue.wake_soon`` sends
the first at once and folds the rest into one wake-up booked for the end of
the interval, sent after every commit that joined it.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anshin.config import Settings
from anshin.inquiries import intake, service
from anshin.notify import queue
from anshin.notify.models import Delivery


def test_a_burst_of_commits_wakes_workers_a_few_times_and_the_last_wake_sees_every_delivery(
    sessions: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    def wake(_settings: Settings, recipients: int = 1) -> int:
        with sessions() as other:  # what a worker woken now would find
            seen.append(other.scalar(select(func.count()).select_from(Delivery)) or 0)
        return 1

    monkeypatch.setattr(queue, "wake", wake)
    monkeypatch.setattr(queue, "WAKE_INTERVAL_SECONDS", 0.5)
    queue.forget_wakes()
    burst = 6
    began = time.monotonic()
    for i in range(burst):
        with sessions() as s:
            intake.take(
                s,
                settings,
                service.NewInquiry(
                    channel="form", text=f"つながらない {i}", customer_email=f"c{i}@example.com"
                ),
                actor="public",
            )
            s.commit()
    assert seen[:1] == [1]  # the first commit after a quiet spell wakes at once
    deadline = time.monotonic() + 5
    while (not seen or seen[-1] < burst) and time.monotonic() < deadline:
        time.sleep(0.02)
    # Every commit was followed by a wake-up that found its delivery ...
    assert seen[-1] == burst
    # ... with fewer wake-ups than commits (one per interval, plus the first).
    elapsed = time.monotonic() - began
    assert len(seen) <= 2 + int(elapsed / 0.5)
    assert len(seen) < burst or elapsed > 0.5 * burst
