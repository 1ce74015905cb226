"""Publish the public status page once per change and store it (docs/design.md, "How things flow").

``publish`` runs inside the caller's transaction after every change to
incidents, components or maintenance: the stored page can never disagree with
the data it was rendered from. With ``ANSHIN_STATUS_EXPORT_DIR`` the same bytes
are written as static files after the commit, so nginx, a CDN or object
storage can serve the page while the app or its database is down.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import logging
import os
import tempfile
from pathlib import Path

from sqlalchemy import event, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, defer

from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents.models import Incident, IncidentUpdate
from anshin.statuspage import feeds, v2json
from anshin.statuspage.models import Artefact, PublishState
from anshin.statuspage.pages import render_page
from anshin.statuspage.snapshot import take

log = logging.getLogger("anshin.statuspage")

EXPORT_KEY = "anshin.statuspage.export"
PUBLISHED_KEY = "anshin.statuspage.published"
VERSION_FILE = ".anshin-version"
_committed = [0]
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
    """Lock the version row first (creating it once), so every read that follows belongs
    to this publish: on PostgreSQL publishers take turns on the row lock, on SQLite the
    write begins the transaction and holds the database's write lock.

    An UPDATE rather than SELECT … FOR UPDATE because SQLite ignores FOR UPDATE and
    pysqlite begins no transaction for a SELECT; an upsert rather than a savepoint
    because pysqlite lets a first SAVEPOINT's RELEASE commit everything early.
    """
    touched = session.execute(
        update(PublishState).where(PublishState.id == 1).values(version=PublishState.version),
        execution_options={"synchronize_session": False},
    )
    if getattr(touched, "rowcount", 1) == 0:
        values = {"id": 1, "version": 0, "published_at": now}
        if session.get_bind().dialect.name == "postgresql":
            session.execute(pg_insert(PublishState).values(values).on_conflict_do_nothing())
        else:
            session.execute(sqlite_insert(PublishState).values(values).on_conflict_do_nothing())
    state = session.scalar(
        select(PublishState)
        .where(PublishState.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert state is not None
    return state


def publish(session: Session, settings: Settings, *, now: dt.datetime | None = None) -> int:
    """Render and store every artefact in the caller's transaction; returns the new version.

    The version row is locked first, so concurrent publishers on PostgreSQL take
    turns and the last commit always holds the newest rendering.
    """
    now = now or utcnow()
    session.flush()
    state = _state_for_update(session, now)
    files = render_all(session, settings, now)
    existing = {a.path: a for a in session.scalars(select(Artefact).options(defer(Artefact.body)))}
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
            row.content_type = content_type(path)
            row.published_at = now
    state.version += 1
    state.published_at = now
    session.flush()
    session.info[PUBLISHED_KEY] = True
    if settings.status_export_dir is not None:
        session.info[EXPORT_KEY] = (Path(settings.status_export_dir), files, state.version)
    if not event.contains(session, "after_commit", _after_commit):
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)
    return state.version


def local_publishes() -> int:
    """How many publishes this process has committed: a hint for the serving cache to
    look at the database now instead of at its next check (the database stays the truth)."""
    return _committed[0]


def _after_commit(session: Session) -> None:
    if session.info.pop(PUBLISHED_KEY, False):
        _committed[0] += 1
    pending: tuple[Path, dict[str, bytes], int] | None = session.info.pop(EXPORT_KEY, None)
    if pending is not None:
        directory, files, number = pending
        try:
            write_files(directory, files, version=number)
        except OSError:
            # The page is committed in the database and served by the app; the
            # export can be redone with `anshin status export`. Never fail the change.
            log.exception("status page: export to %s failed", directory)


def _after_rollback(session: Session) -> None:
    session.info.pop(PUBLISHED_KEY, None)
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


def write_files(
    directory: Path, files: dict[str, bytes], *, version: int | None = None
) -> list[Path]:
    """Write artefacts (and the page's stylesheet) as static files, each replaced atomically.

    ``.anshin-version`` records which publish the folder holds and, locked, serialises
    writers on this host. With ``version``, a folder already holding a newer publish is
    left alone: two servers committing one after the other may run their exports in
    the other order, and the older page must not overwrite the newer one.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    marker = directory / VERSION_FILE
    with open(marker, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            lock.seek(0)
            text = lock.read().strip()
            held = int(text) if text.isdigit() else -1
            if version is not None and held > version:
                return written
            for path, body in files.items():
                target = directory / path
                _atomic_write(target, body)
                written.append(target)
            for name in EXPORTED_STATIC:
                target = directory / "static" / name
                _atomic_write(target, (STATIC_DIR / name).read_bytes())
                written.append(target)
            lock.seek(0)
            lock.truncate()
            lock.write(f"{version if version is not None else held}\n".encode())
            lock.flush()
            os.chmod(marker, 0o644)
            written.append(marker)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return written


def stored(session: Session) -> dict[str, Artefact]:
    """The artefacts as last published."""
    return {a.path: a for a in session.scalars(select(Artefact))}


def export(session: Session, settings: Settings, directory: Path) -> list[Path]:
    """Write the current artefacts to ``directory`` (publishing first if nothing is stored).

    The CLI's ``anshin status export`` calls this; a cron job running it keeps a
    static copy fresh even when nothing else publishes.
    """
    if version(session) is None:
        publish(session, settings)
        session.commit()
    files = {path: a.body for path, a in stored(session).items()}
    return write_files(Path(directory), files, version=version(session))


def next_promise_after(session: Session, after: dt.datetime) -> dt.datetime | None:
    """The earliest promised next update of an open incident still ahead of ``after`` (R5).

    The page published before that time shows it as upcoming; once it passes,
    the page must be published again to say the update is late.
    """
    return session.scalar(
        select(IncidentUpdate.next_update_at)
        .join(Incident, Incident.id == IncidentUpdate.incident_id)
        .where(
            Incident.status != "resolved",
            IncidentUpdate.audience == "public",
            IncidentUpdate.next_update_at > after,
        )
        .order_by(IncidentUpdate.next_update_at)
        .limit(1)
    )


def version(session: Session) -> int | None:
    """The current publish version, or None before the first publish."""
    return session.scalar(select(PublishState.version).where(PublishState.id == 1))
