"""Webhook attempts end by their deadline, reach only allowed addresses and keep nothing of
the receiver's answer (issue 7) — against real HTTP receivers on 127.0.0.1.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.errors import InvalidInput
from anshin.notify import models, queue, rules, service, subscribers, webhook
from anshin.notify.models import Delivery, Subscriber
from anshin.notify.service import MessageTexts
from webhook_receivers import SECRET_ANSWER, receivers

assert models

LOCAL = ["127.0.0.1/32"]
TEXTS = {"ja": MessageTexts(subject="件名", text="本文"), "en": MessageTexts(subject="S", text="B")}


@pytest.fixture
def guarded(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allowed_networks": LOCAL,
            "webhook_deadline_seconds": 1.0,
            "delivery_backoff_base_seconds": 0.01,
            "delivery_backoff_max_seconds": 0.05,
            "delivery_max_attempts": 3,
        }
    )


def _send(settings: Settings, url: str) -> webhook.Outcome:
    sender = webhook.WebhookSender(settings)
    return sender.send(url=url, secret="s" * 20, body=b"{}", delivery_id=1, kind="test")


@pytest.mark.parametrize("mode", ["hang", "trickle"])
def test_an_endpoint_that_hangs_or_trickles_fails_at_the_deadline(
    guarded: Settings, mode: str
) -> None:
    with receivers(mode) as (slow,):
        outcome = _send(guarded, slow.url())
        assert slow.requests, "the request reached the receiver"
        assert not slow.released.is_set(), "the receiver was still holding on"
    assert not outcome.ok and outcome.transient
    assert outcome.error == "deadline exceeded (1 s)"


def test_a_failing_answer_keeps_the_status_only(guarded: Settings) -> None:
    with receivers("fail", "ok") as (failing, fine):
        outcome = _send(guarded, failing.url())
        assert _send(guarded, fine.url()).ok
    assert outcome == webhook.Outcome.failed("HTTP 500", transient=True)
    assert "hunter2" not in outcome.error


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "[::1]",
        "10.1.2.3",
        "192.168.0.10",
        "169.254.169.254",
        "100.64.0.1",
        "[::ffff:10.0.0.1]",
        "0.0.0.0",
        "localhost",
    ],
)
def test_webhooks_to_inside_addresses_are_refused_when_added(
    session: Session, settings: Settings, address: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        subscribers.add_webhook(session, settings, url=f"http://{address}:8080/x", actor="t")
    assert refused.value.field == "url"
    assert session.scalars(select(Subscriber)).all() == []


def test_an_allowed_network_and_public_addresses_may_be_added(
    session: Session, settings: Settings
) -> None:
    allowed = settings.model_copy(update={"webhook_allowed_networks": ["10.20.0.0/16"]})
    subscribers.add_webhook(session, allowed, url="http://10.20.3.4/hook", actor="t")
    subscribers.add_webhook(session, settings, url="https://93.184.215.14/hook", actor="t")
    with pytest.raises(InvalidInput):
        subscribers.add_webhook(session, allowed, url="http://10.21.0.1/hook", actor="t")
    assert rules.address_allowed("2001:4860:4860::8888")
    assert not rules.address_allowed("fe80::1") and not rules.address_allowed("fc00::1")
    assert not rules.address_allowed("224.0.0.1")


def test_the_address_connected_is_checked_at_send_time(session: Session, guarded: Settings) -> None:
    """DNS rebinding: a name that pointed outside when added and inside now is not reached."""
    with receivers("ok") as (inside,):
        url = inside.url().replace("127.0.0.1", "localhost")
        # Written as if its name had resolved to a public address when it was added.
        session.add(
            Subscriber(
                kind="webhook",
                address=url,
                status="active",
                secret="s" * 20,
                webhook_format="anshin",
                source="staff",
            )
        )
        session.commit()
        service.fan_out(session, guarded, kind="update", texts=TEXTS)
        session.commit()
        strict = guarded.model_copy(update={"webhook_allowed_networks": []})
        queue.get_queue(strict).deliver_now()
        assert inside.requests == []
    delivery = session.scalars(select(Delivery)).one()
    session.refresh(delivery)
    assert delivery.status == "dead"
    assert delivery.last_error is not None and delivery.last_error.startswith(
        "address not allowed (127.0.0.1"
    )


def test_staff_see_no_answer_body_in_the_delivery(session: Session, guarded: Settings) -> None:
    with receivers("fail") as (failing,):
        subscribers.add_webhook(session, guarded, url=failing.url(), actor="t")
        service.fan_out(session, guarded, kind="update", texts=TEXTS)
        session.commit()
        queue.get_queue(guarded).deliver_now()
        assert failing.requests
    delivery = session.scalars(select(Delivery)).one()
    session.refresh(delivery)
    assert delivery.last_error == "HTTP 500"
    assert SECRET_ANSWER not in (delivery.last_error or "")


def test_the_cli_refuses_an_inside_webhook_with_exit_2(
    settings: Settings, session: Session
) -> None:
    from typer.testing import CliRunner

    from anshin.notify.__main__ import app

    env = {
        "ANSHIN_DATABASE_URL": settings.database_url,
        "ANSHIN_SECRET_KEY": settings.secret_key,
        "LANG": "en_US.UTF-8",
        "LC_ALL": "",
        "LC_MESSAGES": "",
    }
    runner = CliRunner()
    refused = runner.invoke(app, ["subscribers", "add-webhook", "http://10.9.8.7/x"], env=env)
    assert refused.exit_code == 2
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and "private or local network (10.9.8.7)" in lines[0]
    ja = runner.invoke(
        app, ["subscribers", "add-webhook", "http://[::1]/x"], env={**env, "LANG": "ja_JP.UTF-8"}
    )
    assert ja.exit_code == 2 and "社内・ローカルのネットワーク" in ja.output
    assert session.scalars(select(Subscriber)).all() == []
    allowed = {**env, "ANSHIN_WEBHOOK_ALLOWED_NETWORKS": '["10.9.0.0/16"]'}
    added = runner.invoke(app, ["subscribers", "add-webhook", "http://10.9.8.7/x"], env=allowed)
    assert added.exit_code == 0, added.output
    assert '"secret"' in added.output
