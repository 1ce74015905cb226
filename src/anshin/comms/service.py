"""Template use cases: the active text, versions, edit and restore, compose (R11).

The shipped default set (``templates_default/<locale>/<kind>.<channel>.txt``)
is used until a team edits a template; every edit adds a version and an event
in the caller's transaction, never changing an old one. The caller commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anshin import events
from anshin.comms import records, rules
from anshin.comms.gate import OVERRIDE_REASON_MAX as OVERRIDE_REASON_MAX
from anshin.comms.gate import TemplateCheckFailed as TemplateCheckFailed
from anshin.comms.gate import sample_findings
from anshin.comms.models import MessageTemplate, MessageTemplateVersion
from anshin.comms.variables import allowed_names
from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Conflict, InvalidInput, NotFound
from anshin.i18n import N_
from anshin.timefmt import iso_local

DEFAULTS_DIR = Path(__file__).resolve().parent / "templates_default"
NOTE_MAX = 500


@dataclass(frozen=True)
class TemplateText:
    """One version of a template: version 0 is the shipped default file."""

    kind: str
    locale: str
    channel: str
    version: int
    subject: str | None
    body: str
    created_at: dt.datetime | None = None
    created_by: str | None = None
    note: str | None = None

    @property
    def source(self) -> rules.Source:
        """The text as the renderer takes it."""
        return rules.Source(subject=self.subject, body=self.body)

    @property
    def is_default(self) -> bool:
        """True while the team has not edited this template."""
        return self.version == 0

    def as_dict(self, zone: str) -> dict[str, Any]:
        """The JSON shape of the API; ``created_at`` in the team's zone, like every answer."""
        return {
            "kind": self.kind,
            "locale": self.locale,
            "channel": self.channel,
            "version": self.version,
            "source": "default" if self.is_default else "custom",
            "subject": self.subject,
            "body": self.body,
            "created_at": iso_local(self.created_at, zone),
            "created_by": self.created_by,
            "note": self.note,
        }


def default_path(kind: str, locale: str, channel: str) -> Path:
    """Where the shipped default of a template lives."""
    return DEFAULTS_DIR / locale / f"{kind}.{channel}.txt"


@lru_cache(maxsize=128)
def load_default(kind: str, locale: str, channel: str) -> TemplateText:
    """The shipped default of a template, read once per process."""
    rules.check_key(kind, locale, channel)
    source = rules.parse_file(default_path(kind, locale, channel).read_text("utf-8"), channel)
    return TemplateText(kind, locale, channel, 0, source.subject, source.body)


def _from_row(row: MessageTemplateVersion, slot: MessageTemplate) -> TemplateText:
    return TemplateText(
        kind=slot.kind,
        locale=slot.locale,
        channel=slot.channel,
        version=row.version,
        subject=row.subject,
        body=row.body,
        created_at=row.created_at,
        created_by=row.created_by,
        note=row.note,
    )


def _slot(session: Session, kind: str, locale: str, channel: str) -> MessageTemplate | None:
    return session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.kind == kind,
            MessageTemplate.locale == locale,
            MessageTemplate.channel == channel,
        )
    )


def _latest(session: Session, slot: MessageTemplate) -> MessageTemplateVersion | None:
    return session.scalar(
        select(MessageTemplateVersion)
        .where(MessageTemplateVersion.template_id == slot.id)
        .order_by(MessageTemplateVersion.version.desc())
        .limit(1)
    )


def _lock_slot(session: Session, kind: str, locale: str, channel: str) -> None:
    """Serialise editors of one template before reading its newest version.

    A write that changes nothing: on PostgreSQL it takes the slot's row lock;
    on SQLite it takes the write lock before the transaction reads anything,
    so a concurrent save waits instead of failing on a stale snapshot.
    """
    session.execute(
        update(MessageTemplate)
        .where(
            MessageTemplate.kind == kind,
            MessageTemplate.locale == locale,
            MessageTemplate.channel == channel,
        )
        .values(id=MessageTemplate.id)
        .execution_options(synchronize_session=False)
    )


def get_active(session: Session, kind: str, locale: str, channel: str) -> TemplateText:
    """The text in use: the newest saved version, else the shipped default."""
    rules.check_key(kind, locale, channel)
    slot = _slot(session, kind, locale, channel)
    row = _latest(session, slot) if slot is not None else None
    if slot is None or row is None:
        return load_default(kind, locale, channel)
    return _from_row(row, slot)


def list_templates(session: Session) -> list[TemplateText]:
    """The active text of every template the product knows, in a stable order."""
    newest = (
        select(
            MessageTemplateVersion.template_id,
            func.max(MessageTemplateVersion.version).label("version"),
        )
        .group_by(MessageTemplateVersion.template_id)
        .subquery()
    )
    rows = session.execute(
        select(MessageTemplate, MessageTemplateVersion)
        .join(MessageTemplateVersion, MessageTemplateVersion.template_id == MessageTemplate.id)
        .join(
            newest,
            (newest.c.template_id == MessageTemplateVersion.template_id)
            & (newest.c.version == MessageTemplateVersion.version),
        )
    ).all()
    saved = {(s.kind, s.locale, s.channel): _from_row(v, s) for s, v in rows}
    return [saved.get(key) or load_default(*key) for key in rules.all_keys()]


def list_versions(session: Session, kind: str, locale: str, channel: str) -> list[TemplateText]:
    """Every saved version, newest first, then the shipped default (version 0)."""
    rules.check_key(kind, locale, channel)
    slot = _slot(session, kind, locale, channel)
    found: list[TemplateText] = []
    if slot is not None:
        rows = session.scalars(
            select(MessageTemplateVersion)
            .where(MessageTemplateVersion.template_id == slot.id)
            .order_by(MessageTemplateVersion.version.desc())
        )
        found = [_from_row(row, slot) for row in rows]
    return [*found, load_default(kind, locale, channel)]


def get_version(
    session: Session, kind: str, locale: str, channel: str, version: int
) -> TemplateText:
    """One version (0 = the shipped default); 404 when there is no such version."""
    for text in list_versions(session, kind, locale, channel):
        if text.version == version:
            return text
    raise NotFound(
        N_("The template {kind}/{locale}/{channel} has no version {version}."),
        kind=kind,
        locale=locale,
        channel=channel,
        version=version,
    )


def validate(
    settings: Settings,
    kind: str,
    locale: str,
    channel: str,
    source: rules.Source,
    now: dt.datetime | None = None,
) -> list[rules.Rendered]:
    """Refuse a text that cannot be used; return it rendered on sample facts.

    Static check (syntax, unknown variables in every branch), then a render on
    a realistic incident with facts unconfirmed and confirmed (R3); a short
    text must fit its limit on both.
    """
    rules.check_key(kind, locale, channel)
    rules.validate(source, kind=kind, channel=channel, allowed=allowed_names(kind))
    now = now or utcnow()
    rendered = [
        rules.render(source, sample, kind=kind, locale=locale, channel=channel)
        for sample, _facts in records.sample_checks(settings, kind, locale, now)
    ]
    for result in rendered:
        if result.over_limit:
            raise InvalidInput(
                N_(
                    "The short text is {length} characters with sample facts; the limit is {limit}."
                ),
                field="body",
                length=result.length,
                limit=result.limit,
            )
    return rendered


def save(
    session: Session,
    settings: Settings,
    kind: str,
    locale: str,
    channel: str,
    *,
    subject: str | None,
    body: str,
    actor: str,
    note: str | None = None,
    now: dt.datetime | None = None,
    action: str = "template.edited",
    override_reason: str | None = None,
) -> tuple[TemplateText, bool]:
    """Save a new version after checking it; (active text, whether a version was added).

    A text identical to the active one adds nothing (saving twice is harmless).
    A refused text writes nothing. A text that fails the message check on the
    sample facts is refused (:class:`TemplateCheckFailed`) unless
    ``override_reason`` says why it is right; the event keeps the reason and
    the rules overridden.
    """
    now = now or utcnow()
    rules.check_key(kind, locale, channel)
    source = rules.Source(
        subject=subject.strip() if subject is not None and channel == "email" else subject,
        body=body.replace("\r\n", "\n").strip("\n"),
    )
    clean_note = (note or "").strip() or None
    if clean_note and len(clean_note) > NOTE_MAX:
        raise InvalidInput(
            N_("Too long: at most {limit} characters."), field="note", limit=NOTE_MAX
        )
    validate(settings, kind, locale, channel, source, now)
    reason = (override_reason or "").strip()
    if len(reason) > OVERRIDE_REASON_MAX:
        raise InvalidInput(
            N_("The reason must be at most {n} characters."),
            field="override_reason",
            n=OVERRIDE_REASON_MAX,
        )
    findings = sample_findings(settings, kind, locale, channel, source, now, session=session)
    errors = sorted({f.rule for f in findings if f.severity == "error"})
    if errors and not reason:
        raise TemplateCheckFailed(findings)
    for _attempt in range(5):
        try:
            with session.begin_nested():
                _lock_slot(session, kind, locale, channel)
                current = get_active(session, kind, locale, channel)
                if current.subject == source.subject and current.body == source.body:
                    return current, False
                slot = _slot(session, kind, locale, channel)
                if slot is None:
                    slot = MessageTemplate(
                        kind=kind, locale=locale, channel=channel, created_at=now, updated_at=now
                    )
                    session.add(slot)
                    session.flush()
                number = current.version + 1
                row = MessageTemplateVersion(
                    template_id=slot.id,
                    version=number,
                    subject=source.subject,
                    body=source.body,
                    note=clean_note,
                    created_at=now,
                    created_by=actor,
                )
                session.add(row)
                slot.updated_at = now
                session.flush()
            break
        except IntegrityError:  # another editor created the same slot or version first
            continue
    else:  # pragma: no cover - five collisions in a row
        raise Conflict(N_("Someone else saved this template at the same time; try again."))
    events.record(
        session,
        actor=actor,
        entity_type="message_template",
        entity_id=slot.id,
        action=action,
        before={"version": current.version, "subject": current.subject, "body": current.body},
        after={
            "kind": kind,
            "locale": locale,
            "channel": channel,
            "version": number,
            "subject": source.subject,
            "body": source.body,
            "note": clean_note,
            **({"check_overridden": {"reason": reason, "rules": errors}} if errors else {}),
        },
    )
    return _from_row(row, slot), True


def restore(
    session: Session,
    settings: Settings,
    kind: str,
    locale: str,
    channel: str,
    version: int,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> TemplateText:
    """Bring back an old version (0 = the shipped default) as a new version.

    History stays linear: nothing is deleted, and the event names the version
    restored.
    """
    old = get_version(session, kind, locale, channel, version)
    text, changed = save(
        session,
        settings,
        kind,
        locale,
        channel,
        subject=old.subject,
        body=old.body,
        actor=actor,
        note=f"restored from version {version}",
        now=now,
        action="template.restored",
    )
    if not changed:
        raise Conflict(
            N_("Version {version} is already the active text."), field="version", version=version
        )
    return text


def compose(
    session: Session,
    kind: str,
    locale: str,
    channel: str,
    values: dict[str, Any],
    *,
    source: rules.Source | None = None,
) -> rules.Rendered:
    """The message to start from: the active template rendered with a context the caller built.

    The caller (an incident's notice, a maintenance window's, later an
    inquiry's) builds ``values`` from its record; comms knows no record.
    ``source`` renders a draft instead of the active text (the edit page's
    preview) — checked the same way, never saved.
    """
    rules.check_key(kind, locale, channel)
    if source is None:
        source = get_active(session, kind, locale, channel).source
    else:
        rules.validate(source, kind=kind, channel=channel, allowed=allowed_names(kind))
    return rules.render(source, values, kind=kind, locale=locale, channel=channel)
