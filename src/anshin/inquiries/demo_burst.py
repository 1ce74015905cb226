"""A demo surge: two more open incidents and a few hundred varied inquiries through real intake.

``anshin demo`` calls :func:`load_burst` so that a new user sees what the
inquiry side of an outage looks like: several open incidents, every channel,
calm and furious customers, important customers, a few harassing contacts
(R25), and questions about nothing that is broken. Every inquiry goes through
``intake.take`` — stored, triaged, acknowledged (R18) — exactly as a real one
would, so the queues, levels and incident links on the demo are the triage's
own answers, not values written here. The customers' words are data
(``data/demo_inquiries.toml``), in every register the triage must read.

Deterministic (one seed) and idempotent: nothing is added once the database
holds inquiries. Only customers who wrote by mail leave a mail address, so
the acknowledgements queued to them (``example.com``) are few; chat, form and
phone customers leave none (see docs/inquiries-demo.md).
"""

from __future__ import annotations

import datetime as dt
import random
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin.comms.formatting import format_stamp
from anshin.config import Settings
from anshin.incidents import service as incident_service
from anshin.incidents.models import Incident
from anshin.inquiries import intake
from anshin.inquiries.models import Inquiry
from anshin.inquiries.service import NewInquiry
from anshin.timefmt import format_local

WEBHOOK_TITLE = "Webhook の送信が遅れている事象"
SMS_TITLE = "二段階認証の確認コード（SMS）が届きにくい事象"
DEFAULT_BURST = 200
SEED = 20261206  # the same demo every time
SPAN = dt.timedelta(minutes=40)  # the surge arrives over the last 40 minutes

_DATA = tomllib.loads(
    resources.files("anshin.inquiries").joinpath("data", "demo_inquiries.toml").read_text("utf-8")
)
TEXTS: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _DATA["texts"].items()}
WEIGHTS: dict[str, int] = dict(_DATA["weights"])
OPENERS: tuple[str, ...] = tuple(_DATA["wrap"]["openers"])
CLOSERS: tuple[str, ...] = tuple(_DATA["wrap"]["closers"])
CHANNELS: tuple[str, ...] = ("form", "chat", "email", "phone")
CHANNEL_WEIGHTS: tuple[int, ...] = (4, 3, 3, 2)
NAMES: tuple[tuple[str, str], ...] = (
    ("佐藤", "Sato"),
    ("鈴木", "Suzuki"),
    ("高橋", "Takahashi"),
    ("田中", "Tanaka"),
    ("伊藤", "Ito"),
    ("渡辺", "Watanabe"),
    ("山本", "Yamamoto"),
    ("中村", "Nakamura"),
    ("小林", "Kobayashi"),
    ("加藤", "Kato"),
    ("吉田", "Yoshida"),
    ("山口", "Yamaguchi"),
)
GIVEN: tuple[str, ...] = ("花子", "一郎", "美咲", "健太", "由美", "翔", "陽子", "大輔")
ORGS: tuple[str | None, ...] = (
    "株式会社みどり商店",
    "合同会社ソラ",
    "山田工務店",
    "さくらEC",
    "北浜トレーディング",
    None,
    None,
    None,
)
IMPORTANT_SHARE = 0.12


@dataclass(frozen=True)
class BurstReport:
    """What a run added: inquiries, and how many of them were acknowledged by mail."""

    inquiries: int = 0
    mailed: int = 0
    incidents: tuple[str, ...] = ()


def _declare(
    session: Session,
    settings: Settings,
    data: incident_service.IncidentInput,
    *,
    actor: str,
    at: dt.datetime,
    body_ja: str,
    body_en: str,
) -> None:
    """Declare the incident and publish its first notice 7 minutes later (R4, R5)."""
    incident = incident_service.declare(session, settings, data, actor=actor, now=at)
    first_at = at + dt.timedelta(minutes=7)
    next_at = first_at + dt.timedelta(minutes=60)
    incident_service.publish_update(
        session,
        settings,
        incident,
        body_ja=body_ja.format(next=format_stamp(next_at, settings.timezone, "ja")),
        body_en=body_en.format(next=format_local(next_at, settings.timezone, "en")),
        next_update_at=next_at,
        actor=actor,
        now=first_at,
    )


def _webhook_incident(session: Session, settings: Settings, actor: str, now: dt.datetime) -> None:
    """A second open incident, so triage has to tell incidents apart (R2)."""
    declared = now - dt.timedelta(minutes=25)
    data = incident_service.IncidentInput(
        title=WEBHOOK_TITLE,
        title_en="Webhook deliveries are delayed",
        severity="sev3",
        summary="注文通知などの Webhook の送信が、通常より 20〜40 分遅れています。",
        summary_en="Webhook deliveries such as order notifications are 20–40 minutes late.",
        components=["Webhook 送信"],
        started_at=declared - dt.timedelta(minutes=10),
        detected_at=declared - dt.timedelta(minutes=3),
    )
    _declare(
        session,
        settings,
        data,
        actor=actor,
        at=declared,
        body_ja=(
            "現在、注文通知などの Webhook の送信が、通常より遅れております。"
            "ご不便とご心配をおかけしており、誠に申し訳ございません。"
            "遅れている通知は順次送信しております。原因と復旧見込みは現在確認中です。"
            "次回は{next}までに状況をお知らせいたします。"
        ),
        body_en=(
            "Webhook deliveries such as order notifications are currently delayed. "
            "We are sorry for the inconvenience. Delayed notifications are being sent in order. "
            "The cause and the recovery time are being checked. "
            "We will post the next update by {next}."
        ),
    )


def _sms_incident(session: Session, settings: Settings, actor: str, now: dt.datetime) -> None:
    """A third, with a workaround recorded: its workaround questions stay at level 1 (R22)."""
    declared = now - dt.timedelta(minutes=18)
    data = incident_service.IncidentInput(
        title=SMS_TITLE,
        title_en="Two-step verification codes by SMS arrive late",
        severity="sev3",
        summary="ログイン時の二段階認証で、SMS の確認コードが届かない、または遅れて届いています。",
        summary_en="Two-step verification codes sent by SMS at login do not arrive or arrive late.",
        components=["二段階認証"],
        started_at=declared - dt.timedelta(minutes=8),
        detected_at=declared - dt.timedelta(minutes=2),
        workaround="認証アプリでの確認コードは通常どおりご利用いただけます。",
        workaround_en="Codes from an authenticator app work as usual.",
    )
    _declare(
        session,
        settings,
        data,
        actor=actor,
        at=declared,
        body_ja=(
            "現在、ログイン時の二段階認証で、SMS の確認コードが届かない、"
            "または遅れて届く事象が発生しております。"
            "ログインできずお困りのことと存じます。誠に申し訳ございません。"
            "認証アプリでの確認コードは通常どおりご利用いただけます。"
            "原因と復旧見込みは現在確認中です。次回は{next}までに状況をお知らせいたします。"
        ),
        body_en=(
            "Two-step verification codes sent by SMS at login currently do not arrive or "
            "arrive late. We are sorry for the trouble. Codes from an authenticator app work "
            "as usual. The cause and the recovery time are being checked. "
            "We will post the next update by {next}."
        ),
    )


INCIDENTS = ((WEBHOOK_TITLE, _webhook_incident), (SMS_TITLE, _sms_incident))


def load_incidents(
    session: Session, settings: Settings, *, actor: str, now: dt.datetime
) -> list[str]:
    """Declare whichever of the burst's incidents is missing; returns the titles declared."""
    declared = []
    for title, make in INCIDENTS:
        if session.scalar(select(Incident.id).where(Incident.title == title)) is None:
            make(session, settings, actor, now)
            declared.append(title)
    return declared


def _text(rng: random.Random, group: str) -> str:
    """One customer's words: a text of the group, Japanese ones now and then with a greeting."""
    body = rng.choice(TEXTS[group])
    if body.isascii() or group.startswith("harassing"):
        return body
    return f"{rng.choice(OPENERS)}{body}{rng.choice(CLOSERS)}"


def new_inquiry(rng: random.Random, i: int, received_at: dt.datetime) -> NewInquiry:
    """The ``i``-th demo customer: what they write, how, who they are."""
    groups = tuple(WEIGHTS)
    group = rng.choices(groups, weights=tuple(WEIGHTS[g] for g in groups))[0]
    text = _text(rng, group)
    channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
    surname, romaji = rng.choice(NAMES)
    english = text.isascii()
    name = f"{romaji} {i}" if english else f"{surname} {rng.choice(GIVEN)}"
    return NewInquiry(
        channel=channel,
        text=text,
        customer_name=name,
        # Only a mail has an address: fewer acknowledgements to example.com (module docstring).
        customer_email=f"{romaji.lower()}.{i}@example.com" if channel == "email" else None,
        customer_phone=(
            f"090-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
            if channel == "phone"
            else None
        ),
        customer_org=rng.choice(ORGS),
        customer_tier="important" if rng.random() < IMPORTANT_SHARE else "standard",
        locale="en" if english else "ja",
        subject=text[:30] if channel == "email" else None,
        received_at=received_at,
        keep_informed=rng.random() < 0.8,
    )


def load_burst(
    session: Session,
    settings: Settings,
    *,
    actor: str,
    now: dt.datetime,
    count: int = DEFAULT_BURST,
    progress: Callable[[int, int], None] | None = None,
) -> BurstReport:
    """Declare the burst's incidents and take ``count`` inquiries in; the caller commits.

    Adds no inquiry when the database already holds some (a second run, or a
    team's real ones): the demo never mixes into live work. ``progress(done,
    total)`` is called after each inquiry (the CLI's progress bar).
    """
    declared = load_incidents(session, settings, actor=actor, now=now)
    if count <= 0 or session.scalar(select(func.count()).select_from(Inquiry)):
        return BurstReport(incidents=tuple(declared))
    rng = random.Random(SEED)
    start = now - SPAN
    mailed = 0
    for i in range(count):
        received_at = start + dt.timedelta(seconds=int(SPAN.total_seconds() * i / count))
        inquiry = intake.take(
            session, settings, new_inquiry(rng, i + 1, received_at), actor=actor, now=received_at
        )
        mailed += inquiry.contact_id is not None
        if progress is not None:
            progress(i + 1, count)
    return BurstReport(inquiries=count, mailed=mailed, incidents=tuple(declared))
