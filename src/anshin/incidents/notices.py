"""An incident notice on its way to customers: checked first, then queued for every subscriber.

Publishing an update is the moment the product promises two things:

* the wording passed the message check (伝え方チェック, R3, R6, R12–R16) — a
  text with an error-severity finding is refused unless a senior (L2+) takes
  responsibility with a written reason, and that override is kept as an event;
* every subscriber of the affected components gets it (R4, R26) — the email,
  chat text and webhook payload are written to the outbox in the same
  transaction as the update, so the update is either published and queued for
  everyone, or not at all (docs/design.md "outbox").

The email frame (subject, greeting, status-page link, signature) comes from the
``email`` template of the update's kind; the checked text goes in as
``{{ message_body }}``. What customers read is what was checked, in every
language: a locale the agent left empty is written first from the kind's
status-page template (the text the compose box shows), checked with the rest
and stored with the update, so the status page, the mail and the webhook carry
exactly that text. English readers never get a Japanese fragment; when
confirmed subscribers read English, the incident needs an English title.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from anshin.comms import gate as message_gate
from anshin.comms.gate import OVERRIDE_REASON_MAX as OVERRIDE_REASON_MAX
from anshin.comms.gate import Checked as Checked
from anshin.comms.gate import MessageCheckFailed as MessageCheckFailed
from anshin.comms.lint import Finding, promise
from anshin.comms.lint.lexicon import load as load_lexicon
from anshin.comms.rules import LOCALES
from anshin.config import Settings
from anshin.hooks import resolve
from anshin.incidents import languages
from anshin.incidents import messages as composer
from anshin.incidents.facts import lint_facts
from anshin.incidents.models import Incident, IncidentUpdate, Maintenance
from anshin.notify import service as notify
from anshin.notify.models import OutboxMessage

__all__ = ["OVERRIDE_REASON_MAX", "Checked", "MessageCheckFailed"]  # the gate, from comms

# ``function(session, settings, incident, update, *, actor=..., now=...)``, called for
# every public update once it is queued for subscribers, in the same transaction.
# Named, not imported: inquiries sits above incidents (R26: everyone who asked hears it).
UPDATE_LISTENERS: tuple[str, ...] = ("anshin.inquiries.forward:update_published",)


def status_url(settings: Settings) -> str:
    """Where a notice's reader follows the incident: the public status page (webhook ``url``)."""
    return settings.base_url.rstrip("/") + "/"


def time_promised(
    texts: Mapping[str, str | None], now: dt.datetime, zone: str
) -> dt.datetime | None:
    """The next-update time the texts promise (the first locale that names one), or None.

    R5: when the author gives no next-update time, the one the text promises is
    taken, so the record, the dashboard's countdown and what customers read
    agree instead of the text being refused as ``next-update-mismatch``.
    """
    for locale in LOCALES:
        text = texts.get(locale)
        if text:
            found = promise.text_next_update(text, load_lexicon(locale), now, zone)
            if found is not None:
                return found
    return None


def prepare_public(
    session: Session,
    settings: Settings,
    incident: Incident,
    kind: str,
    texts: Mapping[str, str | None],
    *,
    title_en: str | None,
    next_update_at: dt.datetime | None,
    now: dt.datetime,
    actor: str,
    actor_role: str,
    override_reason: str | None,
) -> tuple[dict[str, str], Checked]:
    """Every public notice's way to the outbox: titles, every locale written, then the gate.

    One sequence for updates, resolutions, reopen and report notices, so none
    can skip a step: the English title English readers need, each locale
    written from the template where the agent left it empty, and the check on
    exactly those texts (R3, R5, R26). The caller stores the texts returned and
    records ``Checked.record_override`` once the update has its id.
    """
    languages.take_english_title(session, incident, title_en, actor=actor)
    done = languages.complete_texts(
        session, settings, incident, kind, texts, next_update_at=next_update_at, now=now
    )
    checked = gate(
        incident,
        kind,
        {"ja": done["ja"], "en": done["en"]},
        session=session,
        actor_role=actor_role,
        override_reason=override_reason,
        next_update_at=next_update_at,
        zone=settings.timezone,
    )
    return done, checked


def add_public_update(
    session: Session,
    settings: Settings,
    incident: Incident,
    kind: str,
    status: str,
    texts: Mapping[str, str | None],
    *,
    title_en: str | None,
    next_update_at: dt.datetime | None,
    now: dt.datetime,
    actor: str,
    actor_role: str,
    override_reason: str | None,
) -> tuple[IncidentUpdate, Checked]:
    """``prepare_public``, then its texts stored as the incident's new public update.

    The one way an update, a resolution, a reopened or a report notice is
    written, so what is stored is always what was checked. The update is added
    to the session, not flushed: the caller changes the incident in the same
    step, flushes, records ``Checked.record_override`` once the update has its
    id, then queues it (``send_update``).
    """
    done, checked = prepare_public(
        session,
        settings,
        incident,
        kind,
        texts,
        title_en=title_en,
        next_update_at=next_update_at,
        now=now,
        actor=actor,
        actor_role=actor_role,
        override_reason=override_reason,
    )
    update = IncidentUpdate(
        incident=incident,
        kind=kind,
        status=status,
        body_ja=done["ja"] or "",
        body_en=done["en"],
        audience="public",
        published_at=now,
        next_update_at=next_update_at,
        author=actor,
    )
    session.add(update)
    return update, checked


def check_texts(
    incident: Incident | None,
    kind: str,
    texts: Mapping[str, str | None],
    *,
    session: Session | None = None,
    next_update_at: dt.datetime | None = None,
    zone: str = "Asia/Tokyo",
) -> dict[str, list[Finding]]:
    """The message check on each written locale, with the record's confirmed facts (R3).

    The facts come from the incident (``incidents.facts``); the check is comms'
    (``comms.gate.check_texts``), with the team's expressions to avoid read
    through ``session`` — by default the one the incident was loaded in (R17).
    """
    if session is None and incident is not None:
        session = object_session(incident)
    return message_gate.check_texts(
        lint_facts(incident, kind),
        kind,
        texts,
        session=session,
        next_update_at=next_update_at,
        zone=zone,
    )


def gate(
    incident: Incident | None,
    kind: str,
    texts: Mapping[str, str | None],
    *,
    session: Session,
    actor_role: str,
    override_reason: str | None,
    next_update_at: dt.datetime | None = None,
    zone: str = "Asia/Tokyo",
) -> Checked:
    """Refuse a public text with error findings unless a senior overrides (``comms.gate``).

    R3, R6, R12–R16, with the incident's confirmed facts and the
    ``next_update_at`` the text will carry (R5); the team's expressions to
    avoid are read through ``session`` (R17). An inquiry's reply about no
    incident is checked with nothing confirmed (``inquiries.replies``).
    """
    return message_gate.gate(
        lint_facts(incident, kind),
        kind,
        texts,
        session=session,
        actor_role=actor_role,
        override_reason=override_reason,
        next_update_at=next_update_at,
        zone=zone,
    )


def _message_texts(
    session: Session,
    settings: Settings,
    kind: str,
    now: dt.datetime,
    *,
    fallback_subject: str,
    incident: Incident | None = None,
    maintenance: Maintenance | None = None,
    options: Mapping[str, Mapping[str, object]] | None = None,
) -> dict[str, notify.MessageTexts]:
    """Each locale's mail (subject, text, HTML) and short text, from the kind's templates."""
    texts: dict[str, notify.MessageTexts] = {}
    for locale in LOCALES:
        extra = dict((options or {}).get(locale) or {})
        email, short = (
            composer.compose(
                session,
                settings,
                incident,
                kind,
                locale,
                channel,
                now,
                maintenance=maintenance,
                options=extra,
            )
            for channel in ("email", "short")
        )
        texts[locale] = notify.MessageTexts(
            subject=email.subject or fallback_subject,
            text=email.text,
            html=email.html,
            short=short.text,
        )
    return texts


def send_update(
    session: Session,
    settings: Settings,
    incident: Incident,
    update: IncidentUpdate,
    *,
    actor: str,
    now: dt.datetime,
) -> OutboxMessage:
    """Queue a published public update for every subscriber of its components (R4, R7).

    Then each of :data:`UPDATE_LISTENERS` hears it in the same transaction
    (R26: the customers who asked about the incident are told too).
    """
    bodies = {"ja": update.body_ja, "en": update.body_en}
    public = [u.id for u in incident.public_updates]
    number = public.index(update.id) + 1 if update.id in public else len(public) + 1
    texts = _message_texts(
        session,
        settings,
        update.kind,
        now,
        fallback_subject=incident.title,
        incident=incident,
        options={
            locale: {
                "message_body": bodies[locale] or "",
                "next_update_at": update.next_update_at,
                "notice_number": number,
            }
            for locale in LOCALES
        },
    )
    message = notify.fan_out(
        session,
        settings,
        kind=update.kind,
        texts=texts,
        component_ids=[ic.component_id for ic in incident.components],
        incident_id=incident.id,
        update_id=update.id,
        data={
            "url": status_url(settings),
            "reference": incident.reference,
            "status": update.status,
            "severity": incident.severity,
            "published_at": update.published_at.isoformat(),
            "next_update_at": (
                update.next_update_at.isoformat() if update.next_update_at else None
            ),
        },
        actor=actor,
        now=now,
    )
    for name in UPDATE_LISTENERS:
        resolve(name)(session, settings, incident, update, actor=actor, now=now)
    return message


def send_maintenance(
    session: Session,
    settings: Settings,
    maintenance: Maintenance,
    *,
    actor: str,
    now: dt.datetime,
) -> OutboxMessage:
    """Tell subscribers of a maintenance window in advance (R10), from its templates."""
    texts = _message_texts(
        session,
        settings,
        "maintenance_notice",
        now,
        fallback_subject=maintenance.title,
        maintenance=maintenance,
    )
    return notify.fan_out(
        session,
        settings,
        kind="maintenance_notice",
        texts=texts,
        component_ids=[mc.component_id for mc in maintenance.components],
        maintenance_id=maintenance.id,
        data={
            "url": status_url(settings),
            "reference": maintenance.reference,
            "scheduled_start": maintenance.scheduled_start.isoformat(),
            "scheduled_end": maintenance.scheduled_end.isoformat(),
        },
        actor=actor,
        now=now,
    )


def message_for_update(session: Session, update_id: int) -> OutboxMessage | None:
    """The outbox message a public update was sent as (None for internal notes)."""
    return session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.update_id == update_id)
        .order_by(OutboxMessage.id)
        .limit(1)
    )


def messages_for_incident(session: Session, incident_id: int) -> dict[int, OutboxMessage]:
    """Every update's outbox message, by update id, for the incident page."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.incident_id == incident_id, OutboxMessage.update_id.is_not(None))
        .order_by(OutboxMessage.id)
    )
    found: dict[int, OutboxMessage] = {}
    for row in rows:
        if row.update_id is not None:
            found.setdefault(row.update_id, row)
    return found
