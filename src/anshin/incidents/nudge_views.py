"""Console page of who is on duty, and of the staff nudges they get (incidents.nudges).

* ``GET  /console/on-duty`` — everyone who can sign in, their on-duty flag,
  how nudges are set up (minutes before, staff webhook) and the latest nudges.
* ``POST /console/users/{id}/on-duty`` — ``on_duty=1`` or ``0``: anyone for
  themselves, an admin for anyone (``team.rules`` ``duty.set_others``).

Included by ``incidents.views.router``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.incidents import nudges
from anshin.inputs import DbId
from anshin.notify.recipients import mask_address
from anshin.team import duty
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import settings_of
from anshin.web.views_helpers import PostedForm, flash, page, redirect

router = APIRouter(include_in_schema=False)


@router.get("/console/on-duty", response_class=HTMLResponse)
def on_duty_page(request: Request, session: DbSession, user: Operator) -> Response:
    """Who gets the staff nudges, how they are set up, and the latest ones sent."""
    settings = settings_of(request)
    webhook = settings.staff_webhook_url
    return page(
        request,
        user,
        "incidents/on_duty.html",
        people=duty.staff(session),
        may_set=lambda target_id: duty.may_set(user, target_id),
        before_minutes=settings.nudge_before_minutes,
        webhook=mask_address("webhook", webhook) if webhook else "",
        webhook_format=settings.staff_webhook_format,
        recent=nudges.recent(session),
    )


@router.post("/console/users/{user_id}/on-duty")
def set_on_duty(
    request: Request, session: DbSession, user: Operator, user_id: DbId, form: PostedForm
) -> Response:
    """Put someone on or off duty (``on_duty`` = 1 or 0); recorded as an event."""
    value = form.get("on_duty")
    if value not in ("0", "1"):
        raise InvalidInput(N_("Choose on duty or off duty."), field="on_duty")
    target = duty.set_on_duty(session, user, user_id, value == "1")
    session.commit()
    if target.on_duty:
        flash(request, N_("{name} is on duty and gets the staff nudges."), name=target.name)
    else:
        flash(request, N_("{name} is off duty."), name=target.name)
    return redirect("/console/on-duty")
