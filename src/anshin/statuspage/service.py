"""Publish the public status page once per change and store it (DESIGN.md "published artefact").

``publish`` runs inside the caller's transaction after every change to
incidents, components or maintenance: the stored page can never disagree with
the data it was rendered from. With ``ANSHIN_STATUS_EXPORT_DIR`` the same bytes
are written as static files after the commit, so nginx, a CDN or object
storage can serve the page while the app or its database is down.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.statuspage import feeds, v2json
from anshin.statuspage.models import Artefact, PublishState
from anshin.statuspage.pages import render_page
from anshin.statuspage.snapshot import take

EXPORT_KEY = "anshin.statuspage.export"
STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"
EXPORTED_STATIC = ("status.css",)
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


def content_type(path: str) -> str:
    """The media type for an artefact path."""
    return CONTENT_TYPES[Path(path).suffix]


def etag(body: bytes) -> str:
    """A strong validator for conditional requests."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def render_all(session: Session, settings: Settings, now: dt.datetime) -> dict[str, bytes]:
    """Every public file of the page, keyed by path."""
    snapshot = take(session, settings, now)
    files: dict[str, bytes] = {
        "index.html": render_page(snapshot, "ja").encode(),
        "en/index.html": render_page(snapshot, "en").encode(),
        "history.atom": feeds.atom(snapshot, "ja"),
        "history.rss": feeds.rss(snapshot, "ja"),
        "en/history.atom": feeds.atom(snapshot, "en"),
        "en/history.rss": feeds.rss(snapshot, "en"),
    }
    for path, document in v2json.documents(snapshot).items():
        files[path] = v2json.encode(document)
    return files


def _state_for_update(session: Session, now: dt.datetime) -> PublishState:
    state = session.scalar(select(PublishState).where(PublishState.id == 1).with_for_update())
    if state is None:
        try:
            with session.begin_nested():
                state = PublishState(id=1, version=0, published_at=now)
                session.add(state)
                session.flush()
        except IntegrityError:  # another server created it first
            state = session.scalar(
                select(PublishState).where(PublishState.id == 1).with_for_update()
            )
    assert state is not None
    return state


def publish(session: Session, settings: Settings, *, now: dt.datetime | None = None) -> int:
    """Render and store every artefact in the caller's transaction; returns the new version."""
    now = now or utcnow()
    session.flush()
    state = _state_for_update(session, now)
    files = render_all(session, settings, now)
    existing = {a.path: a for a in session.scalars(select(Artefact))}
    for path, body in files.items():
        tag = etag(body)
        row = existing.get(path)
        if row is None:
            session.add(
                Artefact(
                    path=path,
                    content_type=content_type(path),
                    body=body,
                    etag=tag,
                    published_at=now,
                )
            )
        elif row.etag != tag:
            row.body = body
            row.etag = tag
            row.published_at = now
    state.version += 1
    state.published_at = now
    session.flush()
    if settings.status_export_dir is not None:
        session.info[EXPORT_KEY] = (Path(settings.status_export_dir), files)
        if not event.contains(session, "after_commit", _export_after_commit):
            event.listen(session, "after_commit", _export_after_commit)
            event.listen(session, "after_rollback", _forget_export)
    return state.version


def _export_after_commit(session: Session) -> None:
    pending: tuple[Path, dict[str, bytes]] | None = session.info.pop(EXPORT_KEY, None)
    if pending is not None:
        write_files(*pending)


def _forget_export(session: Session) -> None:
    session.info.pop(EXPORT_KEY, None)


def _atomic_write(target: Path, body: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_files(directory: Path, files: dict[str, bytes]) -> list[Path]:
    """Write artefacts (and the page's stylesheet) as static files, each replaced atomically."""
    written: list[Path] = []
    for path, body in files.items():
        target = directory / path
        _atomic_write(target, body)
        written.append(target)
    for name in EXPORTED_STATIC:
        target = directory / "static" / name
        _atomic_write(target, (STATIC_DIR / name).read_bytes())
        written.append(target)
    return written


def stored(session: Session) -> dict[str, Artefact]:
    """The artefacts as last published."""
    return {a.path: a for a in session.scalars(select(Artefact))}


def export(session: Session, settings: Settings, directory: Path) -> list[Path]:
    """Write the current artefacts to ``directory`` (publishing first if nothing is stored)."""
    files = {path: a.body for path, a in stored(session).items()}
    if not files:
        publish(session, settings)
        session.commit()
        files = {path: a.body for path, a in stored(session).items()}
    return write_files(Path(directory), files)


def version(session: Session) -> int | None:
    """The current publish version, or None before the first publish."""
    return session.scalar(select(PublishState.version).where(PublishState.id == 1))
