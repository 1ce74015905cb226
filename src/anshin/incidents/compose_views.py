"""htmx fragments of the incident record page: the compose box, the live check, the clock.

* ``GET  /console/incidents/{ref}/compose?kind=update`` — the compose box
  started again from another kind's template (R11: first notice, update,
  no-news update, resolution notice);
* ``POST /console/incidents/{ref}/check`` — the message check (伝え方チェック,
  R3, R6, R12–R16) on what is typed, as the agent types;
* ``GET  /console/incidents/{ref}/first-notice`` — the first-notice clock
  (R4), polled until the notice has reached its last customer.

Nothing here writes: publishing stays in ``views`` (Post/Redirect/Get).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin.db import utcnow
from anshin.errors import Conflict, InvalidInput
from anshin.i18n import N_
from anshin.incidents import detail, service
from anshin.incidents.models import Incident
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import lock_when_writing, settings_of
from anshin.web.views_helpers import PostedForm, partial

router = APIRouter(include_in_schema=False)


def _open(session: Session, ref: str) -> Incident:
    incident = service.get(session, ref)
    if incident.status == "resolved":
        raise Conflict(N_("This incident is already resolved; it takes no more updates."))
    return incident


@router.get("/console/incidents/{ref}/compose", response_class=HTMLResponse)
def compose_fragment(
    request: Request,
    session: DbSession,
    user: Operator,
    ref: str,
    kind: str = "",
    publish_affected: str = "",
) -> Response:
    """The compose box prefilled from the chosen kind's template, checked (R11).

    ``publish_affected`` (the lead's checkbox) puts the estimated number of
    affected customers in the text; it is left out otherwise.
    """
    incident = _open(session, ref)
    kinds = detail.compose_kinds(incident)
    if kind and kind not in kinds:
        raise InvalidInput(N_("Choose one of the allowed values."), field="kind")
    kind = kind or detail.chosen_kind(incident, None)
    values = detail.compose_values(
        session,
        settings_of(request),
        incident,
        kind,
        utcnow(),
        publish_affected=bool(publish_affected),
    )
    findings = detail.check(incident, values, settings_of(request).timezone)
    return partial(
        request,
        user,
        "incidents/_compose.html",
        incident=incident,
        values=values,
        errors={},
        **detail.compose_context(session, user, incident, values, findings),
    )


@router.post("/console/incidents/{ref}/check", response_class=HTMLResponse)
@lock_when_writing  # only reads: no write lock while checking; the session's last use kept apart
def check_fragment(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """The message check on the typed texts, for the compose box as the agent types."""
    incident = _open(session, ref)
    values = form.values()
    findings = detail.check(incident, values, settings_of(request).timezone)
    return partial(
        request,
        user,
        "incidents/_check.html",
        incident=incident,
        values=values,
        **detail.compose_context(session, user, incident, values, findings),
    )


@router.get("/console/incidents/{ref}/first-notice", response_class=HTMLResponse)
def first_notice_fragment(
    request: Request, session: DbSession, user: Operator, ref: str
) -> Response:
    """R4: the first-notice clock, refreshed until its last customer has it."""
    settings = settings_of(request)
    incident = service.get(session, ref)
    counts = detail.first_deliveries(session, incident)
    return partial(
        request,
        user,
        "incidents/_first_notice.html",
        incident=incident,
        **detail.clock_context(settings, incident, counts),
    )
