"""JSON API of the departments inquiries are shared with, and their routing (R21).

``GET /api/departments`` lists them for any agent (the share panel of a chat
tool reads it). Administrators add, change, disable and enable them here as
in the console (``/console/departments``) and with ``anshin department``:
the same checks (``inquiries.departments``), refused with a 422 in the
caller's language and nothing written; a key that exists already is a 409.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from anshin.inputs import StrictInput, Text
from anshin.inquiries import departments, rules
from anshin.web.auth import Admin, DbSession, Operator
from anshin.web.deps import settings_of

router = APIRouter(prefix="/api", tags=["inquiries"])


class DepartmentChange(StrictInput):
    """A department's labels, address and routing (what ``PUT`` replaces; the key stays)."""

    name_ja: Text = Field(max_length=departments.NAME_MAX)
    name_en: Text = Field(max_length=departments.NAME_MAX)
    email: Text = Field(max_length=254)
    locale: Text = Field(default="ja", max_length=5)
    webhook_url: Text | None = Field(default=None, max_length=2000)
    intents: list[Text] = Field(default_factory=list, max_length=len(rules.INTENT_ORDER))
    components: list[Text] = Field(default_factory=list, max_length=200)
    tiers: list[Text] = Field(default_factory=list, max_length=5)

    def as_input(self, key: str) -> departments.DepartmentInput:
        return departments.DepartmentInput(
            key=key,
            name_ja=self.name_ja,
            name_en=self.name_en,
            email=self.email,
            locale=self.locale,
            webhook_url=self.webhook_url,
            intents=list(self.intents),
            components=list(self.components),
            tiers=list(self.tiers),
        )


class DepartmentNew(DepartmentChange):
    """A new department: its key (development, billing, …) and the rest."""

    key: Text = Field(max_length=200)  # the rule says why a key is refused (rules.py)


class DepartmentActive(StrictInput):
    """Disabled: no longer suggested nor reachable; enabled again."""

    active: bool


@router.get("/departments")
def list_departments(session: DbSession, user: Operator) -> list[dict[str, Any]]:
    """Every department, active or not, by key."""
    return [departments.as_dict(d) for d in departments.listing(session)]


@router.post("/departments", status_code=201)
def add_department(
    request: Request, session: DbSession, user: Admin, body: DepartmentNew
) -> dict[str, Any]:
    """Add a department with its routing (admin)."""
    row = departments.add(session, settings_of(request), body.as_input(body.key), actor=user.actor)
    session.commit()
    return departments.as_dict(row)


@router.put("/departments/{department}")
def change_department(
    request: Request, department: str, session: DbSession, user: Admin, body: DepartmentChange
) -> dict[str, Any]:
    """Replace a department's labels, address, webhook and routing (admin; the key stays)."""
    row = departments.get(session, department)
    departments.update(session, settings_of(request), row, body.as_input(row.key), actor=user.actor)
    session.commit()
    return departments.as_dict(row)


@router.post("/departments/{department}/active")
def set_department_active(
    department: str, session: DbSession, user: Admin, body: DepartmentActive
) -> dict[str, Any]:
    """Disable or enable a department (admin)."""
    row = departments.set_active(
        session, departments.get(session, department), body.active, actor=user.actor
    )
    session.commit()
    return departments.as_dict(row)
