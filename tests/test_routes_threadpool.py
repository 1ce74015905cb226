"""No route runs its work on the event loop (docs/design.md "Requests never block the event loop").

A route that touches the database or hashes a password must be a plain ``def``
(FastAPI runs it in its thread pool): an ``async def`` route that blocks holds
the one loop every other request — the status page included — is waiting on.
Bodies are read by async dependencies (``PostedForm``, the CSV upload) before
the route runs, so no route needs to be a coroutine.
"""

from __future__ import annotations

import inspect

from anshin.app import create_app
from anshin.config import Settings
from anshin.web.auth import role_dependency
from route_table import api_routes


def test_every_route_is_a_plain_function(settings: Settings) -> None:
    routes = api_routes(create_app(settings))
    assert len(routes) > 40, "the route table was not read"
    coroutines = [
        f"{sorted(r.methods)} {r.path} ({r.endpoint.__module__}.{r.endpoint.__name__})"
        for r in routes
        if inspect.iscoroutinefunction(r.endpoint)
    ]
    assert coroutines == []


def test_role_dependencies_name_their_role() -> None:
    dependency = role_dependency("senior")  # type: ignore[arg-type]
    assert dependency.minimum_role == "senior"  # type: ignore[attr-defined]
