"""The team's synonym list as one text, a group per line (R17 search).

* ``GET /console/kb/synonyms`` — the list; everyone reads it, a senior or above edits it.
* ``POST /console/kb/synonyms`` — replace the whole list (``service.replace_synonyms``).

Words in a line are separated by commas (``,`` ``、`` ``，``) or slashes, so a
phrase with a space (``sign in``) stays one word. A refused list comes back
with the line named and the text kept.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.knowledge import permissions, service
from anshin.knowledge.console import refusal
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator, Senior
from anshin.web.views_helpers import PostedForm, flash, page, redirect

router = APIRouter(include_in_schema=False)

SEPARATORS = re.compile(r"[,、，/／]")


def parse_groups(text: str) -> list[list[str]]:
    """One group per line, words split at commas and slashes; blank lines kept as empty groups.

    Empty groups keep the line numbers of the text in the service's messages.
    """
    return [
        [word.strip() for word in SEPARATORS.split(line) if word.strip()]
        for line in text.replace("\r\n", "\n").split("\n")
    ]


def groups_text(groups: list[list[str]]) -> str:
    """The list as the text area shows it."""
    return "\n".join(", ".join(words) for words in groups)


def _page(
    request: Request,
    user: User,
    text: str,
    *,
    count: int,
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    return page(
        request,
        user,
        "knowledge/synonyms.html",
        status=status,
        text=text,
        count=count,
        errors=errors or {},
        editor=permissions.is_editor(user.role),
    )


@router.get("/console/kb/synonyms", response_class=HTMLResponse)
def synonyms_page(request: Request, session: DbSession, user: Operator) -> Response:
    """The synonym list, one group per line."""
    groups = service.synonym_groups(session)
    return _page(request, user, groups_text(groups), count=len(groups))


@router.post("/console/kb/synonyms", response_class=HTMLResponse)
def save_synonyms(request: Request, session: DbSession, user: Senior, form: PostedForm) -> Response:
    """Replace the whole list; a refused line is named and the text kept."""
    text = form.raw("synonyms")
    try:
        saved = service.replace_synonyms(session, parse_groups(text), actor=user.actor)
    except AnshinError as exc:
        session.rollback()
        count = len(service.synonym_groups(session))
        return _page(
            request, user, text, count=count, status=exc.status, errors=refusal(request, exc)
        )
    session.commit()
    flash(request, N_("The synonym list is saved: {n} groups."), n=len(saved))
    return redirect("/console/kb/synonyms")
