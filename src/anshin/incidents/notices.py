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
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events
from anshin.comms.lint import Finding, check, has_errors, promise
from anshin.comms.lint.lexicon import load as load_lexicon
from anshin.comms.rules import LOCALES
from anshin.config import Settings
from anshin.errors import Forbidden, InvalidInput
from anshin.i18n import N_
from anshin.incidents import languages
from anshin.incidents import messages as composer
from anshin.incidents.facts import lint_facts
from anshin.incidents.models import Incident, IncidentUpdate, Maintenance
from anshin.notify import service as notify
from anshin.notify.models import OutboxMessage
from anshin.team import rules as team_rules

OVERRIDE_REASON_MAX = 2000


class MessageCheckFailed(InvalidInput):
    """The text has error findings and nobody with the right to override did (HTTP 422).

    ``findings`` maps each checked locale to its findings so the page, the API
    and the CLI can show exactly what to fix; nothing is published. ``field``
    names the first text with an error (``body_ja`` before ``body_en``).
    """

    def __init__(self, findings: Mapping[str, list[Finding]]) -> None:
        super().__init__(
            N_(
                "The message check found problems to fix before publishing. "
                "A senior can publish anyway with a reason."
            ),
            field=next(
                (f"body_{loc}" for loc, items in findings.items() if has_errors(items)),
                "body_ja",
            ),
        )
        self.findings = {locale: list(items) for locale, items in findings.items()}

    def details(self) -> dict[str, object]:
        """The findings as JSON, for the API's error body."""
        return {
            "findings": {
                locale: [finding.as_dict() for finding in items]
                for locale, items in self.findings.items()
            }
        }


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
        actor_role=actor_role,
        override_reason=override_reason,
        next_update_at=next_update_at,
        zone=settings.timezone,
    )
    return done, checked


def check_texts(
    incident: Incident | None,
    kind: str,
    texts: Mapping[str, str | None],
    *,
    next_update_at: dt.datetime | None = None,
    zone: str = "Asia/Tokyo",
) -> dict[str, list[Finding]]:
    """The message check on each written locale, with the record's confirmed facts (R3).

    ``next_update_at`` is the time the message goes out with (R5): the time
    the text promises must be the same (``next-update-mismatch``), read in ``zone``.
    """
    facts = replace(lint_facts(incident, kind), next_update_at=next_update_at, timezone=zone)
    found: dict[str, list[Finding]] = {}
    for locale in LOCALES:
        text = texts.get(locale)
        if text and text.strip():
            found[locale] = check(text, kind=kind, locale=locale, facts=facts)
    return found


@dataclass(frozen=True)
class Checked:
    """What the gate let through: the findings, and the senior's override if one was needed."""

    kind: str
    findings: dict[str, list[Finding]]
    reason: str | None = None

    def record_override(
        self, session: Session, incident: Incident, update: IncidentUpdate, *, actor: str
    ) -> None:
        """Keep the override as an event naming the update it let through (by its id).

        Recorded once the update has its id, so the incident page pairs each
        override with its update by that id, never by the order of events.
        """
        if self.reason is None:
            return
        events.record(
            session,
            actor=actor,
            entity_type="incident",
            entity_id=incident.id,
            action="message.check_overridden",
            after={
                "kind": self.kind,
                "update_id": update.id,
                "reason": self.reason,
                "findings": {
                    locale: [f.rule for f in items if f.severity == "error"]
                    for locale, items in self.findings.items()
                    if has_errors(items)
                },
            },
        )


def gate(
    incident: Incident,
    kind: str,
    texts: Mapping[str, str | None],
    *,
    actor_role: str,
    override_reason: str | None,
    next_update_at: dt.datetime | None = None,
    zone: str = "Asia/Tokyo",
) -> Checked:
    """Refuse a public text with error findings unless a senior overrides with a reason.

    R3, R6, R12–R16: the check runs on every customer-facing text before it is
    published, with the ``next_update_at`` it will carry (R5). The caller
    records the override (who, why, which findings, which update) with
    :meth:`Checked.record_override` in the same transaction as the update it
    lets through.
    """
    found = check_texts(incident, kind, texts, next_update_at=next_update_at, zone=zone)
    errors = {locale: items for locale, items in found.items() if has_errors(items)}
    reason = (override_reason or "").strip()
    if reason and not team_rules.can(actor_role, "message.override_check"):
        raise Forbidden(
            N_("Only a senior or above can publish a message the check refuses."),
            field="override_reason",
        )
    if len(reason) > OVERRIDE_REASON_MAX:
        raise InvalidInput(
            N_("The reason must be at most {n} characters."),
            field="override_reason",
            n=OVERRIDE_REASON_MAX,
        )
    if not errors:
        return Checked(kind, found)
    if not reason:
        raise MessageCheckFailed(found)
    return Checked(kind, found, reason)


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
    """Queue a published public update for every subscriber of its components (R4, R7)."""
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
    return notify.fan_out(
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
