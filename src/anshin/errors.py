"""Errors a user can cause, carried to the edge and shown in the user's language.

Services raise these with an English msgid and parameters; the API and the
pages translate them for the request's locale, and the CLI for the terminal's.
Nothing a user types ever turns into a 500 or a traceback.
"""

from __future__ import annotations

from typing import Any


class AnshinError(Exception):
    """A refusal with a reason a person can act on. ``status`` is the HTTP code to answer."""

    status = 400

    def __init__(self, msgid: str, /, field: str | None = None, **params: Any) -> None:
        super().__init__(msgid.format(**params) if params else msgid)
        self.msgid = msgid
        self.params = params
        self.field = field

    def details(self) -> dict[str, object]:
        """Extra JSON the API adds to its error body (e.g. the message check's findings)."""
        return {}


class InvalidInput(AnshinError):
    """The request is understood but its values break a rule (HTTP 422)."""

    status = 422


class NotFound(AnshinError):
    """The record named does not exist (HTTP 404)."""

    status = 404


class Conflict(AnshinError):
    """The record's current state forbids the change (HTTP 409)."""

    status = 409


class Forbidden(AnshinError):
    """The user's role does not allow this (HTTP 403)."""

    status = 403
