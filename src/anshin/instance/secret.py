"""The key that signs session cookies, subscriber links and client-address digests.

``ANSHIN_SECRET_KEY`` wins when it is set. Without it, the first process that
needs a key generates a random one and keeps it in the database
(:class:`~anshin.instance.models.InstanceSetting`), and every later process —
``anshin serve`` with any number of workers, the CLI printing links, the
delivery workers, other hosts on the same PostgreSQL — reads that one. There
is no public fallback: a key anyone can read in the source signs cookies and
unsubscribe links anyone could forge (issue 7).

``anshin serve`` refuses to listen on a non-loopback address with a key that is
known to be public or too short to resist guessing (:func:`weak_key_problem`).
"""

from __future__ import annotations

import ipaddress
import logging
import secrets

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import NullPool

from anshin.config import DEV_SECRET, Settings
from anshin.db import make_engine, storage_cause, utcnow
from anshin.i18n import N_
from anshin.instance.models import InstanceSetting

log = logging.getLogger("anshin")

KEY_NAME = "secret_key"
# A key shorter than this is refused off loopback: it could be guessed or brute-forced.
MIN_SECRET_LENGTH = 32
# Keys published in the source, the docs or common examples: never a real installation's.
KNOWN_PUBLIC_SECRETS = frozenset(
    {
        DEV_SECRET,
        "change-me",
        "changeme",
        "secret",
        "secret-key",
        "development",
        "dev",
        "test",
        "password",
    }
)


def stored_key(engine: Engine) -> str:
    """The installation's generated key, created now if no process has made one yet.

    Two processes starting together both try to insert; the primary key lets one
    win and the other reads the winner's, so every process signs with the same key.
    """
    query = select(InstanceSetting.value).where(InstanceSetting.name == KEY_NAME)
    with engine.connect() as conn:
        found = conn.scalar(query)
    if found:
        return str(found)
    candidate = secrets.token_urlsafe(48)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(InstanceSetting).values(name=KEY_NAME, value=candidate, created_at=utcnow())
            )
        log.info("generated the signing key and stored it in the database")
        return candidate
    except IntegrityError:
        with engine.connect() as conn:
            return str(conn.scalar(query))


def ensure_secret(settings: Settings, engine: Engine) -> str:
    """The signing key for ``settings``, resolved once and kept on the settings object.

    A database that cannot be read (not migrated yet, unreachable) gets a random
    key for this process only, logged: links it signs will not outlive it, but no
    public key ever signs anything.
    """
    if settings.secret_key:
        return settings.secret_key
    try:
        key = stored_key(engine)
    except DBAPIError as exc:
        # One line with the cause: the command that follows says what to do in
        # the reader's language (a CLI prints no traceback, issue 7).
        log.warning(
            "the signing key could not be read from the database (%s); using a random key "
            "for this process only (run `anshin db upgrade`, or set ANSHIN_SECRET_KEY)",
            storage_cause(exc),
        )
        key = secrets.token_urlsafe(48)
    settings.secret_key = key
    return key


def signing_key(settings: Settings) -> str:
    """The key to sign with: the configured one, else the database's (read once per settings).

    Processes resolve it up front (``create_app``, the CLI's sessions, the
    workers); this lazy path covers anything else.
    """
    if settings.secret_key:
        return settings.secret_key
    engine = make_engine(settings.database_url, settings, poolclass=NullPool)
    try:
        return ensure_secret(settings, engine)
    finally:
        engine.dispose()


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def weak_key_problem(settings: Settings) -> str | None:
    """Why the configured key must not serve other machines, or None when it may.

    A generated key (nothing configured) is always strong enough.
    """
    key = settings.secret_key
    if not key:
        return None
    if key in KNOWN_PUBLIC_SECRETS:
        return N_(
            "ANSHIN_SECRET_KEY is a publicly known example value. Set a random key "
            '(e.g. `python -c "import secrets; print(secrets.token_urlsafe(48))"`) '
            "or unset it to have one generated."
        )
    if len(key) < MIN_SECRET_LENGTH:
        return N_(
            "ANSHIN_SECRET_KEY is shorter than {n} characters. Set a longer random key "
            "or unset it to have one generated."
        )
    return None
