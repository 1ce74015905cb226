"""The skill map page (R28): who can take what in a surge.

* ``GET /console/skills`` — every agent with role, level, languages,
  incident-capable and on-duty; everyone sees it (whom to ask for help).
* ``POST /console/skills/{user_id}`` — a lead (supervisor) or an administrator
  sets an agent's level cap, languages and incident work.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin.errors import AnshinError, InvalidInput
from anshin.i18n import N_
from anshin.inputs import DbId
from anshin.team import skills
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator, Supervisor
from anshin.web.views_helpers import PostedForm, error_for, flash, page, redirect

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    session: Session,
    user: User,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    editing: int | None = None,
) -> HTMLResponse:
    return page(
        request,
        user,
        "team/skills.html",
        status=status,
        rows=skills.skill_map(session),
        may_edit=skills.may_edit(user),
        languages=skills.LANGUAGES,
        errors=errors or {},
        editing=editing,
    )


@router.get("/console/skills", response_class=HTMLResponse)
def skill_map(request: Request, session: DbSession, user: Operator) -> Response:
    """The team's skill map, on-duty first (R28)."""
    return _page(request, session, user)


@router.post("/console/skills/{user_id}", response_class=HTMLResponse)
def set_skill(
    request: Request, session: DbSession, user: Supervisor, user_id: DbId, form: PostedForm
) -> Response:
    """A lead sets one agent's level cap, languages and incident work (R28)."""
    try:
        raw = form.get("max_level")
        if raw and not raw.isdigit():
            raise InvalidInput(N_("The level must be 1, 2 or 3."), field="max_level")
        skills.set_skill(
            session,
            user,
            user_id,
            max_level=int(raw) if raw else None,
            languages=form.getlist("languages"),
            incident_capable=form.checked("incident_capable"),
        )
    except AnshinError as exc:
        session.rollback()
        return _page(
            request,
            session,
            user,
            status=exc.status,
            errors=error_for(request, exc),
            editing=user_id,
        )
    session.commit()
    flash(request, N_("The skill map was updated."))
    return redirect("/console/skills")
