"""Grouped intake (``inquiries.intake_group``): concurrent arrivals stored together, answered apart.

The API's ``POST /api/inquiries`` takes its inquiries this way (R18): each
request must get its own inquiry, reference and acknowledgement; a refusal
stays its own; a group that fails is taken again one by one, so one inquiry
that cannot be stored costs no other its place.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anshin import events, migrations
from anshin.config import Settings
from anshin.db import make_engine, make_sessionmaker
from anshin.errors import InvalidInput
from anshin.inquiries import intake, intake_group, service
from anshin.inquiries.intake import Arrival
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.notify.models import Delivery, OutboxMessage, Subscriber

ARRIVALS = 24


def _arrival(i: int, text: str | None = None) -> Arrival:
    new = service.NewInquiry(
        channel="chat",
        text=text if text is not None else f"ログインできません、いつ直りますか {i}",
        customer_name=f"顧客 {i}",
        customer_email=f"c{i % 5}@example.com",
    )
    return Arrival(new, actor=f"api:widget-{i % 2}")


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each group taken; the first group's work is slowed so the others queue."""
    sizes: list[int] = []
    real = intake.take_many

    def slowed_first(session: Session, settings: Settings, arrivals: Sequence[Arrival]) -> Any:
        sizes.append(len(arrivals))
        if len(sizes) == 1:
            time.sleep(0.3)
        return real(session, settings, arrivals)

    monkeypatch.setattr(intake, "take_many", slowed_first)
    return sizes


def _take_all(
    sessions: sessionmaker[Session],
    settings: Settings,
    arrival: Callable[[int], Arrival],
    count: int = ARRIVALS,
) -> list[intake_group.Taken | Exception]:
    """Every arrival from its own thread and session, the first a moment before the rest."""
    started = threading.Event()

    def one(i: int) -> intake_group.Taken | Exception:
        if i:
            started.wait(5)
            time.sleep(0.05)
        else:
            started.set()
        with sessions() as session:
            try:
                return intake_group.take(session, settings, arrival(i))
            except Exception as exc:
                return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_concurrent_arrivals_share_groups_and_each_gets_its_own_inquiry(
    sessions: sessionmaker[Session], settings: Settings, groups: list[int]
) -> None:
    taken = _take_all(sessions, settings, _arrival)
    assert all(isinstance(t, intake_group.Taken) for t in taken)
    assert max(groups) > 1 and sum(groups) == ARRIVALS  # grouped, each taken once
    refs = [t.reference for t in taken if isinstance(t, intake_group.Taken)]
    numbers = sorted(int(ref.rsplit("-", 1)[1]) for ref in refs)
    assert numbers == list(range(1, ARRIVALS + 1))  # one counter statement a group, no gaps
    with sessions() as s:
        for i, ref in enumerate(refs):
            inquiry = s.scalar(select(Inquiry).where(Inquiry.reference == ref))
            assert inquiry is not None
            assert inquiry.original_text.endswith(f" {i}")  # each request's own words
            assert inquiry.customer_email == f"c{i % 5}@example.com"
            assert inquiry.first_response_due_at == taken[i].first_response_due_at  # type: ignore[union-attr]
            ack = s.scalar(
                select(InquiryMessage).where(
                    InquiryMessage.inquiry_id == inquiry.id, InquiryMessage.kind == "inquiry_ack"
                )
            )
            assert ack is not None and ref in ack.body
            outbox = s.get(OutboxMessage, ack.outbox_message_id)
            assert outbox is not None and outbox.data["reference"] == ref
            history = s.scalars(
                select(events.Event).where(
                    events.Event.entity_type == "inquiry", events.Event.entity_id == inquiry.id
                )
            ).all()
            assert history[0].action == "inquiry.received"
            assert {e.actor for e in history} == {f"api:widget-{i % 2}"}  # its own actor
            acknowledged = [e for e in history if e.action == "inquiry.acknowledged"]
            assert acknowledged and acknowledged[0].after["outbox_message_id"] == outbox.id
        # Five customers, five contact rows, even when two of one group are new together.
        assert s.scalar(select(func.count()).select_from(Subscriber)) == 5
        assert s.scalar(select(func.count()).select_from(Delivery)) == ARRIVALS


def test_a_refusal_is_its_own_requests_alone(
    sessions: sessionmaker[Session], settings: Settings, groups: list[int]
) -> None:
    taken = _take_all(sessions, settings, lambda i: _arrival(i, "   " if i == 7 else None))
    assert isinstance(taken[7], InvalidInput)
    assert sum(isinstance(t, intake_group.Taken) for t in taken) == ARRIVALS - 1
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Inquiry)) == ARRIVALS - 1


def test_a_group_that_fails_is_taken_again_one_by_one(
    sessions: sessionmaker[Session],
    settings: Settings,
    groups: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One inquiry that cannot be stored (here: its write fails) costs no other its place."""
    grouped = intake.take_many

    def fails_with_the_bad_one(
        session: Session, settings: Settings, arrivals: Sequence[Arrival]
    ) -> Any:
        made = grouped(session, settings, arrivals)
        if any("壊れる" in a.new.text for a in arrivals):
            raise RuntimeError("the database refused a row")
        return made

    monkeypatch.setattr(intake, "take_many", fails_with_the_bad_one)
    taken = _take_all(sessions, settings, lambda i: _arrival(i, "壊れる" if i == 9 else None))
    assert isinstance(taken[9], RuntimeError)
    stored = [t for t in taken if isinstance(t, intake_group.Taken)]
    assert len(stored) == ARRIVALS - 1
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Inquiry)) == ARRIVALS - 1
        assert s.scalar(select(func.count()).select_from(Delivery)) == ARRIVALS - 1
        refs = set(s.scalars(select(Inquiry.reference)))
    assert refs == {t.reference for t in stored}


def test_requests_to_another_database_never_share_a_group(
    sessions: sessionmaker[Session],
    settings: Settings,
    groups: list[int],
    tmp_path: Path,
) -> None:
    """Each engine has its own waiting list: a group is stored in its first request's session."""
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    migrations.upgrade(other_url)
    other_engine = make_engine(other_url)
    other_sessions = make_sessionmaker(other_engine)
    other_settings = settings.model_copy(update={"database_url": other_url})
    started = threading.Event()

    def one(i: int) -> intake_group.Taken:
        if i:
            started.wait(5)
            time.sleep(0.05)
        else:
            started.set()
        factory, chosen = (sessions, settings) if i % 2 else (other_sessions, other_settings)
        with factory() as session:
            return intake_group.take(session, chosen, _arrival(i))

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(one, range(12)))
    for factory in (sessions, other_sessions):
        with factory() as s:
            texts = list(s.scalars(select(Inquiry.original_text)))
        assert len(texts) == 6
        mine = 1 if factory is sessions else 0
        assert all(int(text.rsplit(" ", 1)[1]) % 2 == mine for text in texts)
    other_engine.dispose()
