"""Serve the public status page from the stored artefacts, never by rendering per request.

Each process keeps the bytes of the last version it read and checks the
version with one small query per request, so the database stays the only
truth (DESIGN.md "Scale-out") while requests cost almost nothing. Conditional
requests (If-None-Match) get 304.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from anshin.config import Settings
from anshin.db import transaction, utcnow
from anshin.statuspage import service
from anshin.statuspage.models import Artefact, PublishState
from anshin.web.deps import request_locale

# Republish when the stored page is older than this, so the history window and
# "as of" time move on even when nothing changes.
REFRESH_AFTER = dt.timedelta(minutes=10)
CACHE_CONTROL = "public, max-age=10"


@dataclass(frozen=True)
class Stored:
    """One artefact as held in this process."""

    content_type: str
    body: bytes
    etag: str


class ArtefactCache:
    """The artefacts of one publish version, reloaded when the version moves."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.published_at: dt.datetime | None = None
        self.files: dict[str, Stored] = {}
        self._lock = threading.Lock()

    def lookup(
        self, factory: sessionmaker[Session], settings: Settings, path: str
    ) -> Stored | None:
        with factory() as session:
            row = session.execute(
                select(PublishState.version, PublishState.published_at).where(PublishState.id == 1)
            ).first()
            if row is None or utcnow() - row.published_at > REFRESH_AFTER:
                session.close()
                with transaction(factory) as tx:
                    service.publish(tx, settings)
                return self.lookup(factory, settings, path)
            if row.version != self.version:
                with self._lock:
                    files = {
                        a.path: Stored(a.content_type, a.body, a.etag)
                        for a in session.scalars(select(Artefact))
                    }
                    self.files, self.version, self.published_at = (
                        files,
                        row.version,
                        row.published_at,
                    )
        return self.files.get(path)


def _cache(request: Request) -> ArtefactCache:
    cache: ArtefactCache | None = getattr(request.app.state, "status_cache", None)
    if cache is None:
        cache = ArtefactCache()
        request.app.state.status_cache = cache
    return cache


def _serve(request: Request, path: str) -> Response:
    stored = _cache(request).lookup(request.app.state.sessions, request.app.state.settings, path)
    if stored is None:
        return Response(status_code=404)
    headers = {
        "ETag": stored.etag,
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Language, Cookie",
    }
    if request.headers.get("if-none-match") == stored.etag:
        return Response(status_code=304, headers=headers)
    return Response(stored.body, media_type=stored.content_type, headers=headers)


async def index(request: Request) -> Response:
    """The page in the visitor's language: ?lang=, the language cookie, Accept-Language."""
    locale = request_locale(request)
    return _serve(request, "en/index.html" if locale == "en" else "index.html")


async def index_en(request: Request) -> Response:
    return _serve(request, "en/index.html")


async def en_redirect(request: Request) -> Response:
    return RedirectResponse("/en/", status_code=301)


def _static(path: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return _serve(request, path)

    endpoint.__name__ = "status_" + path.replace("/", "_").replace(".", "_").replace("-", "_")
    return endpoint


router = APIRouter()
router.add_route("/", index, methods=["GET", "HEAD"], include_in_schema=False)
router.add_route("/en/", index_en, methods=["GET", "HEAD"], include_in_schema=False)
router.add_route("/en", en_redirect, methods=["GET", "HEAD"], include_in_schema=False)
for _path in (
    "history.atom",
    "history.rss",
    "en/history.atom",
    "en/history.rss",
    "api/v2/summary.json",
    "api/v2/status.json",
    "api/v2/components.json",
    "api/v2/incidents.json",
    "api/v2/incidents/unresolved.json",
    "api/v2/scheduled-maintenances.json",
    "api/v2/scheduled-maintenances/upcoming.json",
    "api/v2/scheduled-maintenances/active.json",
):
    router.add_route("/" + _path, _static(_path), methods=["GET", "HEAD"], include_in_schema=False)
