"""What every console page route shares: render a page, read a form, flash, redirect.

Routes stay thin (docs/design.md): they read the form with these helpers, call a
service, commit, and either redirect (Post/Redirect/Get, with a flash message
in the session) or re-render the form with the user's values and an error
next to each field (status 422) so nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from anshin.errors import AnshinError, InvalidInput
from anshin.i18n import N_, translate
from anshin.inputs import check_storable, parse_id
from anshin.team.models import User
from anshin.web.deps import page_context, request_locale
from anshin.web.templating import render

FLASH_KEY = "flash"


class FormData:
    """A submitted form as plain strings: one value per name, or every value of a name."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    def get(self, name: str, default: str = "") -> str:
        """The first value of ``name``, stripped of surrounding blanks."""
        for key, value in self._items:
            if key == name:
                return value.strip()
        return default

    def raw(self, name: str) -> str:
        """The first value of ``name`` exactly as typed (long texts keep their line breaks)."""
        for key, value in self._items:
            if key == name:
                return value.replace("\r\n", "\n")
        return ""

    def getlist(self, name: str) -> list[str]:
        """Every value of ``name`` (checkbox groups)."""
        return [value for key, value in self._items if key == name]

    def choice_id(self, name: str) -> int:
        """The id picked from a list (a ``<select>`` of records); anything else is a 422."""
        number = parse_id(self.get(name))
        if number is None:
            raise InvalidInput(N_("Choose one from the list."), field=name)
        return number

    def checked(self, name: str) -> bool:
        """True when a checkbox named ``name`` was ticked."""
        return any(key == name for key, _ in self._items)

    def values(self) -> dict[str, Any]:
        """Single values plus lists for repeated names, to re-fill a form after an error."""
        out: dict[str, Any] = {}
        for key, value in self._items:
            if key == "csrf_token":
                continue
            if key in out:
                existing = out[key]
                out[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
            else:
                out[key] = value
        return out


async def read_form(request: Request) -> FormData:
    """The request's form fields as strings (uploaded files are ignored).

    Used as a dependency (``form: PostedForm``), so the body is read on the event
    loop and the route itself can be a plain ``def`` that runs in the thread pool.
    A value the database could not store (NUL) is refused here, for every form
    (``anshin.inputs.BadInput``: a 422 page naming the field).
    """
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    for name, value in items:
        # A NUL no keyboard types: refused for every form at once (PostgreSQL cannot store it).
        check_storable(name)
        check_storable(value, name)
    return FormData(items)


PostedForm = Annotated[FormData, Depends(read_form)]


def page(
    request: Request,
    user: User | None,
    template: str,
    *,
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    """Render a console page with the layout's context and any flash message waiting."""
    context = page_context(request, user, **extra)
    waiting = request.session.pop(FLASH_KEY, None)
    if waiting and "flash" not in extra:
        context["flash"] = translate(
            context["locale"], str(waiting.get("msgid", "")), **dict(waiting.get("params", {}))
        )
        context["flash_kind"] = waiting.get("kind", "ok")
    response = HTMLResponse(render(template, context), status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def partial(request: Request, user: User | None, template: str, **extra: Any) -> HTMLResponse:
    """Render a fragment for htmx (no layout, no flash consumed)."""
    response = HTMLResponse(render(template, page_context(request, user, **extra)))
    response.headers["Cache-Control"] = "no-store"
    return response


def flash(request: Request, msgid: str, *, kind: str = "ok", **params: Any) -> None:
    """Leave a message for the next page (translated there, in that request's language)."""
    request.session[FLASH_KEY] = {"msgid": msgid, "kind": kind, "params": params}


def redirect(url: str) -> RedirectResponse:
    """303 See Other: after a POST the browser follows with a GET."""
    return RedirectResponse(url, status_code=303)


def error_for(
    request: Request, error: AnshinError, fallback_field: str = "_form"
) -> dict[str, str]:
    """One refusal as ``{field: message}`` in the request's language."""
    text = translate(request_locale(request), error.msgid, **error.params)
    return {error.field or fallback_field: text}


def translate_errors(
    request: Request, errors: Mapping[str, tuple[str, dict[str, Any]]]
) -> dict[str, str]:
    """Field errors collected as (msgid, params) in the request's language."""
    locale = request_locale(request)
    return {field: translate(locale, msgid, **params) for field, (msgid, params) in errors.items()}


def safe_next(value: str | None, default: str = "/console") -> str:
    """Only a path on this site may be a redirect target after login (no open redirect)."""
    if not value:
        return default
    value = value.strip()
    if (
        not value.startswith("/")
        or value.startswith("//")
        or value.startswith("/\\")
        or "\\" in value
        or any(ord(ch) < 32 for ch in value)
    ):
        return default
    return value
