"""Customer feedback on one incident (R30): a score from 1 to 5 and a comment, no login.

The link in the resolution notice and in the reply that reports an
inquiry's result is signed (notify.tokens.survey_token) and names the
incident and the respondent, so nobody can answer for someone else and one
respondent has one answer per incident: answering again updates it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import InvalidInput, NotFound
from anshin.i18n import N_
from anshin.incidents.models import Incident
from anshin.inputs import text_problem
from anshin.notify import tokens
from anshin.review.models import FeedbackResponse

COMMENT_MAX = 2_000


@dataclass(frozen=True)
class Survey:
    """What a survey link opens: the incident and, if given before, the earlier answer."""

    incident: Incident
    respondent: str
    answer: FeedbackResponse | None


def open_survey(session: Session, settings: Settings, token: str) -> Survey:
    """The survey a link names, or a clear refusal (altered, expired, incident gone)."""
    incident_id, respondent = tokens.read_survey_token(settings, token)
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(N_("This survey is no longer open."))
    answer = session.scalar(
        select(FeedbackResponse).where(
            FeedbackResponse.incident_id == incident_id,
            FeedbackResponse.respondent == respondent,
        )
    )
    return Survey(incident, respondent, answer)


def check_answer(score: object, comment: object) -> tuple[int, str]:
    """A score 1–5 (required) and a comment (optional, at most COMMENT_MAX characters)."""
    try:
        value = int(str(score).strip())
    except ValueError:
        value = 0
    if not 1 <= value <= 5:
        raise InvalidInput(N_("Choose a score from 1 to 5."), field="score")
    text = comment.strip() if isinstance(comment, str) else ""
    if len(text) > COMMENT_MAX:
        raise InvalidInput(
            N_("The comment must be at most {n} characters."), field="comment", n=COMMENT_MAX
        )
    problem = text_problem(text) if text else None
    if problem:
        raise InvalidInput(problem, field="comment")
    return value, text


def answer(
    session: Session,
    settings: Settings,
    token: str,
    *,
    score: object,
    comment: object,
    locale: str,
) -> FeedbackResponse:
    """Store the answer, or update the respondent's earlier one (the caller commits)."""
    survey = open_survey(session, settings, token)
    value, text = check_answer(score, comment)
    now = utcnow()
    row = survey.answer
    if row is None:
        row = FeedbackResponse(
            incident_id=survey.incident.id,
            respondent=survey.respondent,
            score=value,
            comment=text,
            locale=locale,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # The same link answered twice at once: the other answer won; update it.
            return answer(session, settings, token, score=score, comment=comment, locale=locale)
        return row
    row.score, row.comment, row.locale, row.updated_at = value, text, locale, now
    session.flush()
    return row


def scores(session: Session, incident: Incident) -> list[int]:
    """Every answer's score for the incident (``csat_average``, ``csat_responses``)."""
    return list(
        session.scalars(
            select(FeedbackResponse.score).where(FeedbackResponse.incident_id == incident.id)
        )
    )


def answers(session: Session, incident: Incident) -> list[FeedbackResponse]:
    """Every answer for the incident, the newest (last written) first, for the review page."""
    return list(
        session.scalars(
            select(FeedbackResponse)
            .where(FeedbackResponse.incident_id == incident.id)
            .order_by(FeedbackResponse.updated_at.desc(), FeedbackResponse.id.desc())
        )
    )
