"""The message gate: no customer text with an error finding goes out unexplained (R3, R6, R11-R16).

A notice (an incident's, a maintenance window's, later an inquiry's reply) is
checked in every written locale with the facts its caller read off the record
(:func:`check_texts`); :func:`gate` refuses error findings unless a senior
(L2+) gives a reason, which :meth:`Checked.record_override` keeps as an event.
comms knows no record: the caller builds the facts (docs/design.md
"Dependency direction"). The knowledge base's expressions to avoid (R17) are
read with the caller's session for every check (``comms.avoid``), so one a
lead published a moment ago is flagged with its alternative.

Templates are gated the same way, since every operator starts from them: a
template is rendered on the sample facts (nothing confirmed, everything
confirmed) and each rendering runs the message check with what that sample
lets a text state as fact. A text with an error finding is not saved unless
the saver gives a reason (``comms.service.save`` keeps it in the event).
Pure apart from rendering and the override's event: no other I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from sqlalchemy.orm import Session

from anshin import events
from anshin.comms import avoid, records, rules
from anshin.comms.lint import Finding, IncidentFacts, check, has_errors
from anshin.config import Settings
from anshin.errors import Forbidden, InvalidInput
from anshin.i18n import N_
from anshin.team import rules as team_rules

OVERRIDE_REASON_MAX = 2000


class TemplateCheckFailed(InvalidInput):
    """The template, rendered on the sample facts, has error findings (HTTP 422).

    A template is the text every operator starts from, so it is gated like a
    notice (R3, R6, R11-R16): refused, unless the saver gives a reason, which
    the version's event keeps. ``findings`` lists each sample's findings.
    """

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(
            N_(
                "On the sample facts this template fails the message check. "
                "Fix the findings, or give a reason to save it anyway."
            ),
            field="body",
        )
        self.findings = list(findings)

    def details(self) -> dict[str, object]:
        """The findings as JSON, for the API's error body."""
        return {"findings": [finding.as_dict() for finding in self.findings]}


def sample_findings(
    settings: Settings,
    kind: str,
    locale: str,
    channel: str,
    source: rules.Source,
    now: dt.datetime,
    *,
    session: Session | None = None,
) -> list[Finding]:
    """The message check on the template rendered with each sample's facts (R3, R12-R16).

    The same samples the save renders (nothing confirmed, everything
    confirmed), each checked with what that sample lets a text state as fact,
    and with the team's expressions to avoid when a session is given (R17).
    """
    pairs = avoid.expressions(session)
    found: list[Finding] = []
    for values, facts in records.sample_checks(settings, kind, locale, now):
        rendered = rules.render(source, values, kind=kind, locale=locale, channel=channel)
        found.extend(
            check(rendered.text, kind=kind, locale=locale, facts=facts, avoid_expressions=pairs)
        )
    return found


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


def check_texts(
    facts: IncidentFacts,
    kind: str,
    texts: Mapping[str, str | None],
    *,
    session: Session | None,
    next_update_at: dt.datetime | None = None,
    zone: str = "Asia/Tokyo",
) -> dict[str, list[Finding]]:
    """The message check on each written locale, with the facts the caller confirmed (R3).

    ``next_update_at`` is the time the message goes out with (R5): the time
    the text promises must be the same (``next-update-mismatch``), read in ``zone``.
    ``session`` reads the team's expressions to avoid as stored now (R17);
    ``None`` only where no database is at hand.
    """
    facts = replace(facts, next_update_at=next_update_at, timezone=zone)
    pairs = avoid.expressions(session)
    found: dict[str, list[Finding]] = {}
    for locale in rules.LOCALES:
        text = texts.get(locale)
        if text and text.strip():
            found[locale] = check(
                text, kind=kind, locale=locale, facts=facts, avoid_expressions=pairs
            )
    return found


class Identified(Protocol):
    """A stored record or update: the override's event names it by id."""

    @property
    def id(self) -> int: ...


@dataclass(frozen=True)
class Checked:
    """What the gate let through: the findings, and the senior's override if one was needed."""

    kind: str
    findings: dict[str, list[Finding]]
    reason: str | None = None

    def record_override(
        self,
        session: Session,
        record: Identified,
        update: Identified,
        *,
        actor: str,
        entity_type: str = "incident",
    ) -> None:
        """Keep the override as an event naming the update it let through (by its id).

        Recorded once the update has its id, so the record's page pairs each
        override with its update by that id, never by the order of events.
        """
        if self.reason is None:
            return
        events.record(
            session,
            actor=actor,
            entity_type=entity_type,
            entity_id=record.id,
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
    facts: IncidentFacts,
    kind: str,
    texts: Mapping[str, str | None],
    *,
    session: Session | None,
    actor_role: str,
    override_reason: str | None,
    next_update_at: dt.datetime | None = None,
    zone: str = "Asia/Tokyo",
) -> Checked:
    """Refuse a public text with error findings unless a senior overrides with a reason.

    R3, R6, R12–R16: the check runs on every customer-facing text before it is
    published, with the ``next_update_at`` it will carry (R5) and the team's
    expressions to avoid as ``session`` reads them now (R17). The caller
    records the override (who, why, which findings, which update) with
    :meth:`Checked.record_override` in the same transaction as the update it
    lets through.
    """
    found = check_texts(
        facts, kind, texts, session=session, next_update_at=next_update_at, zone=zone
    )
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
