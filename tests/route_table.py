"""Every route of the app, read from its route table, for tests that must cover them all.

FastAPI up to 0.15x copies an included router's routes into the app; newer
releases keep each included router as a branch (``original_router`` with an
``include_context`` carrying the prefix). Walking both shapes keeps the
authorisation matrix and the thread-pool test complete whichever is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


@dataclass(frozen=True)
class RouteInfo:
    """One path and method set with the function that answers it."""

    path: str
    methods: frozenset[str]
    endpoint: Callable[..., Any]
    route: APIRoute

    def dependency_calls(self) -> list[Callable[..., Any]]:
        """Every dependency function the route runs, depth first."""
        found: list[Callable[..., Any]] = []

        def walk(dependant: Any) -> None:
            for sub in dependant.dependencies:
                if sub.call is not None:
                    found.append(sub.call)
                walk(sub)

        walk(self.route.dependant)
        return found


def _walk(routes: Iterable[Any], prefix: str) -> Iterator[RouteInfo]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield RouteInfo(
                path=prefix + route.path,
                methods=frozenset(route.methods or ()),
                endpoint=route.endpoint,
                route=route,
            )
        elif hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            extra = getattr(context, "prefix", "") if context is not None else ""
            yield from _walk(route.original_router.routes, prefix + extra)


def api_routes(app: FastAPI) -> list[RouteInfo]:
    """Every FastAPI route of ``app`` with its full path."""
    return list(_walk(app.routes, ""))
