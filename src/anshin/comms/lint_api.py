"""``POST /api/lint``: the message check for the editor as the user types.

An editor calls this on every pause in typing and underlines
``text[start:end]`` of each finding, so the route does nothing but validate
and call the pure check. Like every staff route under ``/api/`` it needs a
signed-in operator or an API token (issue 7: it answered anonymous callers,
and its body was read before anything else was checked). Unknown kinds and
locales are answered with 422 and the list of valid values, like any other
invalid field. A word-list file in
``ANSHIN_LINT_EXTRA_DIR`` that was broken after start-up (the app refuses to
start with one) is a 503 naming the file, never a 500.

The knowledge base's expressions to avoid (R17) come in through the
:func:`avoid_expressions` dependency, read from the database on every call
through the providers ``comms.avoid`` names (comms may not import the
knowledge base): one published a second ago is flagged now, on every server
process. A test may still override the dependency.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from anshin.comms import avoid
from anshin.comms.lint import KINDS, LOCALES, IncidentFacts, LexiconError, check, has_errors
from anshin.config import Settings
from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.inputs import StrictInput, Text, Time
from anshin.web.auth import DbSession, Operator

TEXT_MAX = 20_000
log = logging.getLogger("anshin.lint")

router = APIRouter()


class WordListsUnavailable(AnshinError):
    """A data file of the message check is malformed (HTTP 503: the server's setup, not
    the draft, is at fault; the message names the file so an administrator can fix it)."""

    status = 503


def word_lists_unavailable(exc: LexiconError) -> WordListsUnavailable:
    """The refusal for a broken data file, logged once for whoever runs the server."""
    log.error("message check: %s", exc)
    return WordListsUnavailable(
        N_("The message check could not load its word lists: {reason}"), reason=str(exc)
    )


def avoid_expressions(session: DbSession) -> Sequence[tuple[str, str]]:
    """(expression, alternative) pairs of the published expressions to avoid, as stored now."""
    return avoid.expressions(session)


def _team_zone(request: Request) -> str:
    """The zone the text's clock times are read in: the app's, or the default one when
    this router runs on its own (the editor's tests mount it alone)."""
    settings = getattr(request.app.state, "settings", None)
    return settings.timezone if isinstance(settings, Settings) else Settings().timezone


class FactsIn(StrictInput):
    """What the incident record says is confirmed (enables ``unconfirmed-as-fact``), and
    the next-update time the text will be published with (enables ``next-update-mismatch``)."""

    recovery_confirmed: bool = False
    cause_confirmed: bool = False
    next_update_at: Time | None = None


class LintRequest(StrictInput):
    """A draft to check: unknown fields are refused, types are not coerced (anshin.inputs)."""

    text: Text = Field(max_length=TEXT_MAX)
    kind: Text
    locale: Text = "ja"
    facts: FactsIn | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise PydanticCustomError(
                "kind_unknown",
                "unknown kind {value!r}",
                {"value": value, "choices": ", ".join(KINDS)},
            )
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise PydanticCustomError(
                "locale_unknown",
                "unknown locale {value!r}",
                {"value": value, "choices": ", ".join(LOCALES)},
            )
        return value


class FindingOut(BaseModel):
    """One finding; offsets are Python string indices into the submitted text."""

    rule: str
    severity: str
    start: int
    end: int
    message: str
    suggestion: str


class LintResponse(BaseModel):
    """All findings, and whether any of them blocks publishing."""

    findings: list[FindingOut]
    has_errors: bool


@router.post("/api/lint", response_model=LintResponse)
def lint(
    request: Request,
    body: LintRequest,
    user: Operator,
    avoid: Annotated[Sequence[tuple[str, str]], Depends(avoid_expressions)],
) -> LintResponse:
    """Check one draft message and return its findings."""
    facts = None
    if body.facts is not None:
        facts = IncidentFacts(
            recovery_confirmed=body.facts.recovery_confirmed,
            cause_confirmed=body.facts.cause_confirmed,
            next_update_at=body.facts.next_update_at,
            timezone=_team_zone(request),
        )
    try:
        findings = check(
            body.text, kind=body.kind, locale=body.locale, facts=facts, avoid_expressions=avoid
        )
    except LexiconError as exc:
        raise word_lists_unavailable(exc) from None
    return LintResponse(
        findings=[
            FindingOut(
                rule=f.rule,
                severity=f.severity,
                start=f.start,
                end=f.end,
                message=f.message,
                suggestion=f.suggestion,
            )
            for f in findings
        ],
        has_errors=has_errors(findings),
    )
