"""One way to say who may call a route: typed role aliases (docs/design.md "auth").

A route names the lowest role it allows by the type of one parameter::

    @router.post("/console/components")
    def add_component(request: Request, session: DbSession, user: Senior, form: PostedForm): ...

``Operator``, ``Senior``, ``Supervisor`` and ``Admin`` resolve to the signed-in
user (a server-side session named by the cookie, anshin.team.sessions) or the
owner of a bearer API token who ranks at least that role (R22: L1 operator, L2
senior, L3 supervisor; admin manages people and tokens), or refuse with 401
(pages redirect to /login) or 403. For a method that changes state (anything
but GET, HEAD, OPTIONS) a cookie session must also send its CSRF token; bearer
requests carry no cookie and need none. Keeping the CSRF check inside the alias
means a write route cannot forget it, and the authorisation matrix test
(tests/test_authz_matrix.py) reads the alias of every route from the route table.

The lookup runs in the thread pool (it reads the database); only the CSRF check,
which may have to read the form body, awaits on the event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from anshin.team import service as team_service
from anshin.team import sessions as console_sessions
from anshin.team.models import User
from anshin.team.rules import Role
from anshin.web.deps import SAFE_METHODS, check_csrf, db_session, require_role

DbSession = Annotated[Session, Depends(db_session)]


def _lookup(minimum: Role) -> Callable[[Request, Session], User]:
    def lookup(request: Request, session: DbSession) -> User:
        user = require_role(request, session, minimum)
        token = getattr(request.state, "api_token", None)
        if token is not None and request.method in SAFE_METHODS:
            # Best effort in its own transaction: a read stays a read, and a database
            # that refuses writes (read-only, full) does not fail it.
            team_service.record_token_use(request.app.state.sessions, token)
        elif token is not None:
            # A write: kept in the request's own transaction, which on SQLite holds the
            # write lock already (a second connection would wait for it in vain).
            team_service.record_token_use(request.app.state.sessions, token, session=session)
        live = getattr(request.state, "console_session", None)
        if live is not None:
            # The same two ways for a cookie session's last request (idle expiry), decided
            # as web.deps.db_session decides: a POST that only reads (@lock_when_writing,
            # e.g. the compose box's check, which never commits) holds no write lock, so
            # its time of use is kept apart and is not lost with its rollback.
            endpoint = request.scope.get("endpoint")
            reads = request.method in SAFE_METHODS or getattr(endpoint, "lock_when_writing", False)
            own = None if reads else session
            console_sessions.touch(request.app.state.sessions, live, session=own)
        return user

    lookup.__name__ = f"signed_in_{minimum}"
    return lookup


def role_dependency(minimum: Role) -> Callable[..., Awaitable[User]]:
    """The dependency behind each alias: the user ranking at least ``minimum``, CSRF on writes."""
    lookup = _lookup(minimum)

    # A default rather than Annotated: the closure's name would not resolve from a
    # postponed annotation.
    async def dependency(request: Request, user: User = Depends(lookup)) -> User:
        if request.method not in SAFE_METHODS:
            await check_csrf(request)
        return user

    dependency.__name__ = f"at_least_{minimum}"
    # Read by the authorisation matrix test to know what each route should allow.
    dependency.minimum_role = minimum  # type: ignore[attr-defined]
    return dependency


Operator = Annotated[User, Depends(role_dependency(Role.OPERATOR))]
Senior = Annotated[User, Depends(role_dependency(Role.SENIOR))]
Supervisor = Annotated[User, Depends(role_dependency(Role.SUPERVISOR))]
Admin = Annotated[User, Depends(role_dependency(Role.ADMIN))]

ROLE_ALIASES: dict[Role, object] = {
    Role.OPERATOR: Operator,
    Role.SENIOR: Senior,
    Role.SUPERVISOR: Supervisor,
    Role.ADMIN: Admin,
}
