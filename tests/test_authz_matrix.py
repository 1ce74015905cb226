"""Who may call what: every route of the app × every kind of caller (issue 7, R22).

The expected answer is derived, not written by hand: each route's lowest role
is the ``minimum_role`` of the role alias it declares (``anshin.web.auth``),
and the routes anyone may call are listed in :data:`PUBLIC`. A new route that
has neither fails :func:`test_every_route_declares_who_may_call_it` — it must
take an alias or be added to the public list on purpose.

Callers: anonymous; each role by console session cookie and by API token; a
cookie signed with another key; a revoked and an expired token; a session
expired by idling. Each request carries a
harmless body (empty JSON or form, ids that do not exist), so an allowed caller
gets past sign-in and stops at validation or a 404 — that counts as allowed —
and nothing is changed. A denied caller gets 401 (API) or the sign-in redirect
(pages), or 403 for a role too low. Never a 500. One app and one database per
backend (SQLite, and PostgreSQL when ``ANSHIN_TEST_DATABASE_URL`` is set).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.app import create_app
from anshin.config import Settings
from anshin.db import make_engine, make_sessionmaker, utcnow
from anshin.statuspage.views import PATHS as STATUS_PATHS
from anshin.team import rules as team_rules
from anshin.team import service as team_service
from anshin.team.models import ConsoleSession, User
from anshin.team.rules import Role
from anshin.web.auth import DbSession, Senior
from route_table import RouteInfo, api_routes
from test_console_support import USERS, login, seed

# Routes anyone may call, on purpose, with the answers they may give anyone: signing
# in and out, the public subscription pages (their links carry their own token) and the
# public inquiry form.
# A form posted without this session's CSRF token is refused as such ("csrf"); the
# sign-in form answers 401 to the wrong credentials it is given here ("sign-in").
_ANYONE = frozenset({"allowed", "csrf"})
PUBLIC: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/login"): _ANYONE,
    ("POST", "/login"): _ANYONE | {"sign-in"},
    ("POST", "/logout"): _ANYONE,
    ("GET", "/subscribe"): _ANYONE,
    ("POST", "/subscribe"): _ANYONE,
    ("GET", "/subscribe/confirm/{token}"): _ANYONE,
    ("GET", "/unsubscribe/{token}"): _ANYONE,
    ("POST", "/unsubscribe/{token}"): _ANYONE,
    # The customer's survey (R30): the signed link is the proof, no login.
    ("GET", "/feedback/{token}"): _ANYONE,
    ("POST", "/feedback/{token}"): _ANYONE,
    # The public inquiry form: no session to protect, a honeypot and an hourly limit instead.
    ("GET", "/inquiry"): _ANYONE,
    ("POST", "/inquiry"): _ANYONE,
    # The public FAQ and its type-ahead (R34): published public answers only, searches
    # counted per client (statuspage/faq.py).
    ("GET", "/faq"): _ANYONE,
    ("GET", "/faq/suggest"): _ANYONE,
}
# Plain Starlette routes (no dependencies): the public status page and the API's own
# documentation (FastAPI's Swagger UI, its OAuth redirect page and the schema).
PUBLIC_PLAIN: frozenset[str] = frozenset(
    {*STATUS_PATHS, "/en", "/api/docs", "/docs/oauth2-redirect", "/api/openapi.json"}
)
ROLES: tuple[Role, ...] = (Role.OPERATOR, Role.SENIOR, Role.SUPERVISOR, Role.ADMIN)
# Values for path parameters that name nothing: an allowed caller gets a 404 or a 422.
PATH_VALUES = {
    "ref": "INC-1999-0001",
    "kind": "update",
    "locale": "ja",
    "channel": "email",
    "token": "no-such-token",
    "key": "no-such-article",  # a knowledge base article (/console/kb/{key})
    "department": "no-such-department",  # /console/departments/{department}
}


@dataclass(frozen=True)
class Caller:
    """One kind of caller: how it authenticates and what role it should count as."""

    name: str
    role: Role | None  # None: should count as nobody signed in
    cookie: str | None = None
    csrf: str | None = None
    bearer: str | None = None

    def headers(self, unsafe: bool) -> dict[str, str]:
        out = {"Accept-Language": "en"}
        if self.cookie is not None:
            out["Cookie"] = f"anshin_session={self.cookie}"
            if unsafe and self.csrf:
                out["X-CSRF-Token"] = self.csrf
        if self.bearer is not None:
            out["Authorization"] = f"Bearer {self.bearer}"
        return out


def minimum_role(route: RouteInfo) -> Role | None:
    """The highest ``minimum_role`` among the route's dependencies (None: no alias)."""
    found = [
        getattr(call, "minimum_role", None)
        for call in route.dependency_calls()
        if getattr(call, "minimum_role", None) is not None
    ]
    if not found:
        return None
    return max(found, key=lambda role: team_rules.ROLE_RANK[role])


def routes(app: FastAPI) -> list[tuple[str, RouteInfo]]:
    """(method, route) for every method of every route; signing out last."""
    pairs = [(method, r) for r in api_routes(app) for method in sorted(r.methods - {"HEAD"})]
    return sorted(pairs, key=lambda pair: pair[1].path == "/logout")


def expected(method: str, route: RouteInfo, caller: Caller) -> frozenset[str]:
    """The outcomes the route's declared role allows for the caller."""
    if (method, route.path) in PUBLIC:
        return PUBLIC[(method, route.path)]
    minimum = minimum_role(route)
    assert minimum is not None
    if caller.role is None:
        return frozenset({"sign-in"})
    return frozenset({"allowed" if team_rules.at_least(caller.role, minimum) else "role"})


def outcome(response: httpx.Response) -> str:
    """What the answer says about the caller: sign-in needed, role too low, or let through."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    is_json = response.headers.get("content-type", "").startswith("application/json")
    if status == 401:
        return "sign-in"
    if status == 303 and response.headers.get("location", "").startswith("/login?next="):
        return "sign-in"
    if status == 403:
        code = response.json()["error"]["code"] if is_json else ""
        if code == "RoleRequired" or "Your role does not allow this." in response.text:
            return "role"
        if code == "CsrfFailed" or "The form has expired." in response.text:
            return "csrf"
        found = re.search(r'class="error-message">([^<]*)<', response.text)
        return f"refused 403 ({code or (found.group(1) if found else '')})"
    return "allowed"


def request(client: TestClient, method: str, route: RouteInfo, caller: Caller) -> httpx.Response:
    path = re.sub(
        r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "999999"), route.path
    )  # ids that name nothing
    unsafe = method not in ("GET", "HEAD", "OPTIONS")
    headers = caller.headers(unsafe)
    client.cookies.clear()
    if not unsafe:
        return client.request(method, path, headers=headers)
    if path == "/api/subscribers/import":
        return client.request(
            method, path, content=b"", headers={**headers, "Content-Type": "text/csv"}
        )
    if path.startswith("/api/"):
        return client.request(method, path, json={}, headers=headers)
    return client.request(method, path, data={"csrf_token": caller.csrf or ""}, headers=headers)


def _signed_in(client: TestClient, role: Role) -> tuple[str, str]:
    """A console session of ``role``: its cookie and its CSRF token."""
    client.cookies.clear()
    csrf = login(client, role)
    cookie = client.cookies.get("anshin_session")
    assert cookie
    client.cookies.clear()
    return cookie, csrf


def callers(settings: Settings, client: TestClient) -> list[Caller]:
    """Every kind of caller, signed in for real against the test's database."""
    engine = make_engine(settings.database_url)
    tokens: dict[Role, str] = {}
    with make_sessionmaker(engine)() as session:
        for role in ROLES:
            user = _user(session, role)
            tokens[role], _ = team_service.create_token(
                session, user=user, name=f"{role}-matrix", actor="test"
            )
        raw, revoked = team_service.create_token(
            session, user=_user(session, Role.ADMIN), name="revoked", actor="test"
        )
        expired_raw, expired = team_service.create_token(
            session, user=_user(session, Role.ADMIN), name="expired", actor="test"
        )
        expired.expires_at = utcnow() - dt.timedelta(minutes=1)
        session.commit()
        team_service.revoke_token(session, revoked.id, actor="test")
        session.commit()
    out = [Caller("anonymous", None)]
    for role in ROLES:
        cookie, csrf = _signed_in(client, role)
        out.append(Caller(f"{role} by cookie", role, cookie=cookie, csrf=csrf))
        out.append(Caller(f"{role} by token", role, bearer=tokens[role]))
    # An admin's session signed with another key: a forged cookie, nobody signed in.
    other = settings.model_copy(update={"secret_key": "another-key-" + uuid.uuid4().hex})
    with TestClient(create_app(other), follow_redirects=False) as forger:
        cookie, csrf = _signed_in(forger, Role.ADMIN)
    out.append(Caller("admin cookie signed with another key", None, cookie=cookie, csrf=csrf))
    out.append(Caller("revoked admin token", None, bearer=raw))
    out.append(Caller("expired admin token", None, bearer=expired_raw))
    # An admin's real session, then left idle past every limit: an expired cookie.
    cookie, csrf = _signed_in(client, Role.ADMIN)
    with make_sessionmaker(engine)() as session:
        newest = session.scalars(select(ConsoleSession).order_by(ConsoleSession.id.desc())).first()
        assert newest is not None
        newest.created_at = newest.last_seen_at = utcnow() - dt.timedelta(days=2)
        session.commit()
    engine.dispose()
    out.append(Caller("expired admin session", None, cookie=cookie, csrf=csrf))
    return out


def _user(session: Session, role: Role) -> User:
    email = USERS[role][0]
    return session.query(User).filter(User.email == email).one()


def undeclared(app: FastAPI) -> list[str]:
    """Routes with no role alias that are not listed as public."""
    return [
        f"{method} {route.path}"
        for method, route in routes(app)
        if minimum_role(route) is None and (method, route.path) not in PUBLIC
    ]


def test_every_route_declares_who_may_call_it(settings: Settings) -> None:
    app = create_app(settings)
    assert undeclared(app) == [], "routes with no role alias and not listed as public"
    listed = {(method, route.path) for method, route in routes(app)}
    stale = sorted(set(PUBLIC) - listed)
    assert stale == [], "public routes that no longer exist"
    plain = [
        getattr(r, "path", "")
        for r in app.routes
        if not isinstance(r, APIRoute)
        and hasattr(r, "endpoint")
        and getattr(r, "path", "") not in PUBLIC_PLAIN
    ]
    assert plain == [], "plain routes (no dependencies, so no sign-in) not listed as public"
    app.state.engine.dispose()


def test_a_new_route_without_an_alias_is_caught(settings: Settings) -> None:
    app = create_app(settings)

    @app.post("/api/forgotten")
    def forgotten(session: DbSession) -> dict[str, str]:
        return {}

    @app.get("/api/remembered")
    def remembered(session: DbSession, user: Senior) -> dict[str, str]:
        return {}

    assert undeclared(app) == ["POST /api/forgotten"]
    app.state.engine.dispose()


def test_every_route_answers_every_caller_as_its_role_says(settings: Settings) -> None:
    seed(settings)
    app = create_app(settings)
    with TestClient(app, follow_redirects=False) as client:
        everyone = callers(settings, client)
        wrong: list[str] = []
        checked = 0
        for method, route in routes(app):
            for caller in everyone:
                response = request(client, method, route, caller)
                want, got = expected(method, route, caller), outcome(response)
                checked += 1
                if got not in want:
                    wanted = " or ".join(sorted(want))
                    wrong.append(
                        f"{method} {route.path} as {caller.name}: expected {wanted}, "
                        f"got {got} ({response.status_code})"
                    )
    app.state.engine.dispose()
    assert checked >= 70 * len(everyone)
    assert wrong == [], "\n".join(wrong)
