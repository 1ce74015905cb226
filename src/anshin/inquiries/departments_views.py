"""Administrators' console pages for the departments inquiries are shared with (R21).

``/console/departments`` lists them with a form to add one; ``/console/departments/{key}``
edits the labels, the internal address and its language, the webhook and the
routing (intents, components, customer tiers), and disables or enables it.
Administrators only, like the users and tokens pages. A refusal shows the form
again with the reason beside the field and everything typed kept.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.components.models import Component
from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.inquiries import departments, rules
from anshin.inquiries.models import Department
from anshin.team.models import User
from anshin.web.auth import Admin, DbSession
from anshin.web.deps import request_locale, settings_of
from anshin.web.views_helpers import FormData, PostedForm, error_for, flash, page, redirect

router = APIRouter(include_in_schema=False)


def _input(form: FormData, key: str) -> departments.DepartmentInput:
    return departments.DepartmentInput(
        key=key,
        name_ja=form.get("name_ja"),
        name_en=form.get("name_en"),
        email=form.get("email"),
        locale=form.get("locale") or "ja",
        webhook_url=form.get("webhook_url") or None,
        intents=form.getlist("intents"),
        components=form.getlist("components"),
        tiers=form.getlist("tiers"),
    )


def _values(row: Department) -> dict[str, Any]:
    """A department as the edit form's values."""
    return {
        "key": row.key,
        "name_ja": row.name_ja,
        "name_en": row.name_en,
        "email": row.email,
        "locale": row.locale,
        "webhook_url": row.webhook_url or "",
        "intents": list(row.intents or ()),
        "components": [str(i) for i in row.component_ids or ()],
        "tiers": list(row.tiers or ()),
    }


def _form_values(form: FormData) -> dict[str, Any]:
    values = form.values()
    for name in ("intents", "components", "tiers"):
        values[name] = form.getlist(name)
    return values


def _page(
    request: Request,
    session: Session,
    user: User,
    template: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    department: Department | None = None,
) -> HTMLResponse:
    components = list(session.scalars(select(Component).order_by(Component.position, Component.id)))
    return page(
        request,
        user,
        template,
        status=status,
        errors=errors or {},
        values=values or {"locale": "ja", "intents": [], "components": [], "tiers": []},
        department=department,
        departments=departments.listing(session),
        components=components,
        component_names={c.id: c for c in components},
        intents=rules.INTENT_ORDER,
        tiers=tuple(rules.Tier),
    )


@router.get("/console/departments", response_class=HTMLResponse)
def departments_page(request: Request, session: DbSession, user: Admin) -> Response:
    """Admin: every department with its routing, and a form to add one (R21)."""
    return _page(request, session, user, "inquiries/departments.html")


@router.post("/console/departments", response_class=HTMLResponse)
def add_department(request: Request, session: DbSession, user: Admin, form: PostedForm) -> Response:
    """Admin: add a department."""
    try:
        row = departments.add(
            session, settings_of(request), _input(form, form.get("key")), actor=user.actor
        )
    except AnshinError as exc:
        session.rollback()
        return _page(
            request,
            session,
            user,
            "inquiries/departments.html",
            status=exc.status,
            errors=error_for(request, exc),
            values=_form_values(form),
        )
    session.commit()
    flash(request, N_("The department {name} was added."), name=row.name(request_locale(request)))
    return redirect("/console/departments")


@router.get("/console/departments/{department}", response_class=HTMLResponse)
def department_page(request: Request, department: str, session: DbSession, user: Admin) -> Response:
    """Admin: one department's form, and disable or enable it."""
    row = departments.get(session, department)
    return _page(
        request, session, user, "inquiries/department.html", values=_values(row), department=row
    )


@router.post("/console/departments/{department}", response_class=HTMLResponse)
def save_department(
    request: Request, department: str, session: DbSession, user: Admin, form: PostedForm
) -> Response:
    """Admin: save a department's labels, address, webhook and routing."""
    row = departments.get(session, department)
    try:
        departments.update(
            session, settings_of(request), row, _input(form, row.key), actor=user.actor
        )
    except AnshinError as exc:
        session.rollback()
        return _page(
            request,
            session,
            user,
            "inquiries/department.html",
            status=exc.status,
            errors=error_for(request, exc),
            values={**_form_values(form), "key": row.key},
            department=departments.get(session, department),
        )
    session.commit()
    flash(request, N_("The department {name} was saved."), name=row.name(request_locale(request)))
    return redirect("/console/departments")


@router.post("/console/departments/{department}/active", response_class=HTMLResponse)
def set_department_active(
    request: Request, department: str, session: DbSession, user: Admin, form: PostedForm
) -> Response:
    """Admin: disable a department (no longer suggested nor reachable) or enable it again."""
    row = departments.get(session, department)
    active = form.get("active") == "1"
    departments.set_active(session, row, active, actor=user.actor)
    session.commit()
    name = row.name(request_locale(request))
    if active:
        flash(request, N_("The department {name} receives inquiries again."), name=name)
    else:
        flash(request, N_("The department {name} is disabled."), name=name)
    return redirect("/console/departments")
