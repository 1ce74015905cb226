"""``POST /api/lint``: the message check for the editor as the user types.

The compose pages call this on every pause in typing and underline
``text[start:end]`` of each finding, so the route does nothing but validate
and call the pure check. Unknown kinds and locales are answered with 422 and
the list of valid values, like any other invalid field.

The knowledge base's expressions to avoid (R17) come in through the
:func:`avoid_expressions` dependency; the application overrides it
(``app.dependency_overrides[avoid_expressions] = …``) once the knowledge
domain can supply them, so this router stays self-contained.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, field_validator

from anshin.comms.lint import KINDS, LOCALES, IncidentFacts, check, has_errors

TEXT_MAX = 20_000

router = APIRouter()


def avoid_expressions() -> Sequence[tuple[str, str]]:
    """(expression, alternative) pairs from the knowledge base; none until it is wired."""
    return ()


class FactsIn(BaseModel):
    """What the incident record says is confirmed (enables ``unconfirmed-as-fact``)."""

    recovery_confirmed: bool = False
    cause_confirmed: bool = False


class LintRequest(BaseModel):
    """A draft to check."""

    text: str = Field(max_length=TEXT_MAX)
    kind: str
    locale: str = "ja"
    facts: FactsIn | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"unknown kind {value!r}; expected one of: {', '.join(KINDS)}")
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"unknown locale {value!r}; expected one of: {', '.join(LOCALES)}")
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
    body: LintRequest,
    avoid: Annotated[Sequence[tuple[str, str]], Depends(avoid_expressions)],
) -> LintResponse:
    """Check one draft message and return its findings."""
    facts = None
    if body.facts is not None:
        facts = IncidentFacts(
            recovery_confirmed=body.facts.recovery_confirmed,
            cause_confirmed=body.facts.cause_confirmed,
        )
    findings = check(
        body.text, kind=body.kind, locale=body.locale, facts=facts, avoid_expressions=avoid
    )
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
